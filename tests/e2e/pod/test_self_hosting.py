"""Self-hosting: the executor image, in a default pod, rebuilds itself bit for bit.

The image the pod runs (``pod_image``) was built on the host from ``deploy/Dockerfile``
with ``--reproducible``. Inside the pod the same Dockerfile is built in place from the
same context, mounted read-only at ``/workspace``, with the same build args: the
builder stage's RUN steps (apt-get, pip, the assembly of ``/kaniko``) run against the
pod's own ``/`` while the tool runs from ``/kaniko``, and the final stages copy the
assembled tree. The pushed manifest must have the host build's digest: same layers,
same config, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pod.conftest import PodImage, executor_build_args
from tests.e2e.pod.runtime import Volume, run_pod
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e


def test_executor_image_rebuilds_itself_with_the_same_digest(
    pod_image: PodImage,
    registry_plain: Registry,
    debian_image: str,
    tmp_path: Path,
) -> None:
    output = tmp_path / "output"
    output.mkdir()
    argv = [
        "/kaniko/executor",
        "--context=/workspace",
        "--dockerfile=/workspace/deploy/Dockerfile",
        "--reproducible",
        f"--insecure-registry={registry_plain.host}",
        f"--destination={registry_plain.host}/kaniko/self-hosted:pod",
        "--digest-file=/output/digest",
        *(f"--build-arg={name}={value}" for name, value in executor_build_args(debian_image)),
    ]
    volumes = [Volume(pod_image.context, "/workspace"), Volume(output, "/output", writable=True)]
    done = run_pod(pod_image.ref, argv, volumes, timeout=900)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}\n{log[-4000:]}"
    assert "Building in place" in log
    assert (output / "digest").read_text().strip() == pod_image.digest
