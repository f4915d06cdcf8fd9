"""The Kubernetes manifests of ``deploy/kubernetes``: valid objects, and a build our CLI accepts.

Every document of every manifest is loaded into the ``kubernetes`` client's model of its
kind and serialized back: a misspelled or misplaced field, which the models drop, shows
up as a difference. The build Job's container is then checked for what docs/kubernetes.md
promises (no privilege, no host paths or Docker socket, resource requests, read-only
context and credentials) and its args go through our own command-line parser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from kaniko.cli.config import build_options
from kaniko.cli.parser import parse_argv
from kaniko.context.local import context_dir

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
KUSTOMIZATION = "kustomization.yaml"


class _Response:
    """What ``ApiClient.deserialize`` of clients before v33 reads: a body of JSON text."""

    def __init__(self, text: str) -> None:
        self.data = text


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name != KUSTOMIZATION:
            found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def _model(document: dict[str, Any]) -> Any:
    group_version = document["apiVersion"]
    version = group_version.rsplit("/", 1)[-1]
    name = f"{version[0].upper()}{version[1:]}{document['kind']}"
    api, text = client.ApiClient(), json.dumps(document)
    try:
        return api.deserialize(text, name, "application/json")
    except TypeError:
        return api.deserialize(_Response(text), name)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


DOCUMENTS = _documents()


def test_there_are_manifests() -> None:
    kinds = sorted(doc["kind"] for _, doc in DOCUMENTS)
    assert kinds == ["Job", "Job", "PersistentVolumeClaim", "PersistentVolumeClaim", "Secret"]


@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_every_document_is_a_valid_object(name: str, document: dict[str, Any]) -> None:
    model = _model(document)
    assert type(model).__name__.endswith(document["kind"])
    again = _without_nulls(client.ApiClient().sanitize_for_serialization(model))
    assert again == document


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    kustomization = yaml.safe_load((MANIFESTS / KUSTOMIZATION).read_text())
    listed = set(kustomization["resources"])
    files = {p.name for p in MANIFESTS.glob("*.yaml")} - {KUSTOMIZATION}
    assert listed == {name for name in files if ".example." not in name}
    assert all((MANIFESTS / name).is_file() for name in listed)


def _job(name: str) -> client.V1Job:
    (document,) = [doc for _, doc in DOCUMENTS if doc["metadata"]["name"] == name]
    return _model(document)


@pytest.fixture(scope="module")
def job() -> client.V1Job:
    return _job("kaniko-build")


@pytest.fixture(scope="module")
def warmer_job() -> client.V1Job:
    return _job("kaniko-warmer")


@pytest.mark.parametrize("name", ["kaniko-build", "kaniko-warmer"])
def test_the_pod_asks_for_no_privilege(name: str) -> None:
    job = _job(name)
    pod = job.spec.template.spec
    assert not pod.host_network and not pod.host_pid and not pod.host_ipc
    assert all(volume.host_path is None for volume in pod.volumes)  # no Docker socket either
    assert pod.security_context.seccomp_profile.type == "RuntimeDefault"
    (container,) = pod.containers
    context = container.security_context
    if context is not None:
        assert not context.privileged
        assert context.capabilities is None or not context.capabilities.add
    assert pod.restart_policy == "Never" and job.spec.backoff_limit <= 1


def test_the_build_container_requests_resources(job: client.V1Job) -> None:
    (container,) = job.spec.template.spec.containers
    requests, limits = container.resources.requests, container.resources.limits
    assert {"cpu", "memory", "ephemeral-storage"} <= set(requests)
    assert {"memory", "ephemeral-storage"} <= set(limits)


def test_the_args_parse_with_our_cli(job: client.V1Job) -> None:
    pod = job.spec.template.spec
    (container,) = pod.containers
    environ = {e.name: e.value for e in container.env or ()}
    options = build_options(parse_argv(container.args, "executor"), environ)
    assert options.output.destinations and not options.output.no_push
    assert options.isolation == "auto"  # in place, inside the executor image
    mounts = {m.mount_path: m for m in container.volume_mounts}
    context = context_dir(options.context)
    assert context in mounts and mounts[context].read_only
    assert options.dockerfile.startswith(context + "/")
    docker = mounts["/kaniko/.docker"]
    assert docker.read_only
    (secret,) = [v.secret for v in pod.volumes if v.name == docker.name]
    items = [(item.key, item.path) for item in secret.items]
    assert items == [(".dockerconfigjson", "config.json")]
    (secret_document,) = [doc for _, doc in DOCUMENTS if doc["kind"] == "Secret"]
    assert secret_document["metadata"]["name"] == secret.secret_name
    assert secret_document["type"] == "kubernetes.io/dockerconfigjson"
    assert "auths" in json.loads(secret_document["stringData"][".dockerconfigjson"])
    volumes = {v.name: v for v in pod.volumes}
    claim = volumes[mounts[context].name].persistent_volume_claim
    claims = [
        doc["metadata"]["name"] for _, doc in DOCUMENTS if doc["kind"] == "PersistentVolumeClaim"
    ]
    assert claim.claim_name in claims


def test_builds_read_the_cache_the_warmer_fills(job: client.V1Job, warmer_job) -> None:
    """The warmer's arguments parse with our warmer's command line; it and the build mount
    the one cache claim at their --cache-dir, and the build runs with --cache."""
    from kaniko.cli.parser import parse_argv as parse
    from kaniko.cli.warmer import WARMER, warmer_options

    (warmer,) = warmer_job.spec.template.spec.containers
    assert warmer.command == ["/kaniko/warmer"]
    options = warmer_options(parse(warmer.args, "warmer", WARMER), {})
    assert options.images and options.cache_dir == "/cache"
    (builder,) = job.spec.template.spec.containers
    build = build_options(parse_argv(builder.args, "executor"), {})
    assert build.cache.enabled and build.cache.dir == options.cache_dir
    claims = []
    for each, container in ((warmer_job, warmer), (job, builder)):
        (mount,) = [m for m in container.volume_mounts if m.mount_path == "/cache"]
        assert not mount.read_only  # the warmer writes; builds keep layer indexes there
        (volume,) = [v for v in each.spec.template.spec.volumes if v.name == mount.name]
        claims.append(volume.persistent_volume_claim.claim_name)
    (pvc,) = [doc for _, doc in DOCUMENTS if doc["metadata"]["name"] == claims[0]]
    assert claims[0] == claims[1] and "ReadWriteMany" in pvc["spec"]["accessModes"]
