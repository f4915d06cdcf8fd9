"""Cloud registries authenticate out of the box inside the executor image, run by crun as
a default pod with no config.json: one build pulls its base from a "GitLab" registry with
the CI job's variables and pushes to "ECR" (IRSA web identity), "Artifact Registry" (the
GCE metadata server), "ACR" (a federated workload identity token) and "GitLab".

The registries are the lab's (tests/lab/cloudregistries.py), each accepting only what its
cloud's flow produces; their cloud host names resolve to loopback through the pod's
``hostAliases``. The pod gets the variables EKS, GKE, AKS and GitLab would give it, the
projected token files where those platforms mount them, and the lab CA.
"""

from __future__ import annotations

import json
import shutil
import ssl
from pathlib import Path

import httpx
import pytest

from kaniko.oci.digest import Digest
from kaniko.registry.client import RegistryClient
from tests.e2e.pod.conftest import PodImage
from tests.e2e.pod.runtime import Volume, run_pod
from tests.lab.cloudregistries import NAMES, CloudRegistries
from tests.lab.flatten import flatten_layers
from tests.lab.images import make_image, push_raw
from tests.lab.names import loopback_names
from tests.registry.helpers import clean_cloud_env, transport

pytestmark = pytest.mark.e2e

IRSA_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
AKS_DIR = "/var/run/secrets/azure/tokens"
DESTINATIONS = {"ecr": "team/app:pod", "gcr": "lab-project/images/app:pod",
                "acr": "team/app:pod", "gitlab": "group/project:pod"}  # fmt: skip


def _push_base(lab: CloudRegistries, busybox_layer: bytes) -> str:
    """busybox into the GitLab registry, with a token its service signs for the lab."""
    registry = lab.registries["gitlab"]
    assert registry.token_service is not None and registry.ca_cert is not None
    access = [{"type": "repository", "name": "base/busybox", "actions": ["pull", "push"]}]
    token = registry.token_service.sign("lab-admin", access)
    headers = {"Authorization": f"Bearer {token}"}
    verify = ssl.create_default_context(cafile=str(registry.ca_cert))
    with httpx.Client(verify=verify, headers=headers, timeout=60) as client:
        push_raw(client, registry.url, "base/busybox", "latest", make_image([busybox_layer]))
    return f"{lab.hosts['gitlab']}/base/busybox:latest"


def test_push_to_four_clouds_with_no_config_json(
    pod_image: PodImage, cloud_registries: CloudRegistries, busybox_layer: bytes, tmp_path: Path,
    monkeypatch,
) -> None:  # fmt: skip
    lab = cloud_registries
    base = _push_base(lab, busybox_layer)
    context, irsa, aks, certs = (tmp_path / d for d in ("context", "irsa", "aks", "certs"))
    for directory in (context, irsa, aks, certs):
        directory.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base}\nCOPY hello.txt /hello.txt\n")
    (context / "hello.txt").write_text("pushed with cloud identities\n")
    shutil.copy(lab.web_identity_token, irsa / "token")
    shutil.copy(lab.federated_token, aks / "azure-identity-token")
    shutil.copy(lab.ca.cert_path, certs / "ca.pem")
    files = {str(lab.web_identity_token): f"{IRSA_DIR}/token",
             str(lab.federated_token): f"{AKS_DIR}/azure-identity-token"}  # fmt: skip
    env: dict[str, str] = {}
    for cloud in ("ecr", "gcr", "acr", "gitlab"):
        env.update(lab.env(cloud, files))
    argv = ["/kaniko/executor", "--context=/workspace"]
    for cloud, repo in DESTINATIONS.items():
        argv.append(f"--destination={lab.hosts[cloud]}/{repo}")
    argv.extend(
        f"--registry-certificate={host}=/kaniko/certs/ca.pem" for host in lab.hosts.values()
    )
    volumes = [Volume(context, "/workspace"), Volume(irsa, IRSA_DIR), Volume(aks, AKS_DIR),
               Volume(certs, "/kaniko/certs")]  # fmt: skip

    done = run_pod(pod_image.ref, argv, volumes, env=env, host_aliases=NAMES)

    log = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}\n{log[-4000:]}"
    for cloud, helper in (("ecr", "ecr-login"), ("gcr", "gcr"), ("acr", "acr-env"),
                          ("gitlab", "gitlab-ci")):  # fmt: skip
        assert f"registry {lab.hosts[cloud]}: using the {helper} helper" in log, log[-4000:]
    secrets = [lab.job_token, "-auth-token", *lab.metadata.tokens, *lab.acr.refresh_tokens,
               *lab.entra.tokens, lab.federated_token.read_text().strip()]  # fmt: skip
    leaked = [s for s in secrets if s in log]
    assert not leaked, "a credential reached the log"
    # every destination holds the image; read back with the same identities
    clean_cloud_env(monkeypatch, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace(IRSA_DIR, str(irsa)).replace(AKS_DIR, str(aks)))
    with loopback_names(NAMES), transport(lab.ca.cert_path, list(lab.hosts.values())) as t:
        manifests = {
            cloud: RegistryClient(t, lab.hosts[cloud], repo.split(":")[0]).get_manifest("pod")
            for cloud, repo in DESTINATIONS.items()
            if cloud != "gcr"  # google-auth's metadata host is fixed at import in this process
        }
        gitlab = RegistryClient(t, lab.hosts["gitlab"], "group/project")
        top = json.loads(manifests["gitlab"].data)["layers"][-1]
        with gitlab.open_blob(Digest.parse(top["digest"]), top["size"]) as blob:
            layer = blob.read()
    assert len({m.digest for m in manifests.values()}) == 1
    assert flatten_layers([layer])["/hello.txt"].data == b"pushed with cloud identities\n"
