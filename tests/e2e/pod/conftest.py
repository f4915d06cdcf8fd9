"""Fixtures of the pod tests: the executor image they run in, and a pod's secrets.

``pod_image`` is the session's reproducible executor image (``executor_build`` in
tests/conftest.py, built by :mod:`tests.lab.executor`), so that the self-hosting test can
ask for the same digest from a build inside the pod.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pytest

from tests.e2e.pod.runtime import SECCOMP_PROFILE, Volume
from tests.lab.executor import ExecutorImage, executor_build_args
from tests.lab.registry import Registry
from tests.lab.tools import require_tool

__all__ = ["PodImage", "PodSecrets", "executor_build_args"]

PodImage = ExecutorImage


@pytest.fixture(scope="session")
def pod_image(executor_build: ExecutorImage) -> ExecutorImage:
    """The reproducible executor image the pod runs (built once, see tests/lab/executor.py)."""
    for tool in ("crun", "umoci", "skopeo"):
        require_tool(tool)
    if not SECCOMP_PROFILE.is_file():
        pytest.fail(f"{SECCOMP_PROFILE} is missing (Debian's golang-github-containers-common)")
    return executor_build


@dataclass(frozen=True)
class PodSecrets:
    """Volumes a build pod mounts: the docker config Secret and the registry's CA."""

    volumes: tuple[Volume, ...]
    ca_path: str  # inside the pod


@pytest.fixture(scope="session")
def pod_secrets(registry_token: Registry, tmp_path_factory) -> PodSecrets:
    """``alice``'s credentials for the token registry as a ``kubernetes.io/dockerconfigjson``
    Secret mounted at ``/kaniko/.docker``, and the lab CA as a ConfigMap at
    ``/kaniko/certs``."""
    directory = tmp_path_factory.mktemp("pod-secrets")
    docker, certs = directory / "docker", directory / "certs"
    docker.mkdir()
    certs.mkdir()
    password = registry_token.users["alice"]
    auth = base64.b64encode(f"alice:{password}".encode()).decode()
    config = {"auths": {registry_token.host: {"auth": auth}}}
    (docker / "config.json").write_text(json.dumps(config))
    assert registry_token.ca_cert is not None
    (certs / "ca.pem").write_bytes(registry_token.ca_cert.read_bytes())
    volumes = (Volume(docker, "/kaniko/.docker"), Volume(certs, "/kaniko/certs"))
    return PodSecrets(volumes, "/kaniko/certs/ca.pem")
