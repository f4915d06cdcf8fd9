"""In-place builds in a pod give the layers a chroot build on the host gives (issue 20).

The same Dockerfile is built twice with ``--reproducible``: on the host (chroot isolation,
in-process) and in the executor image run as a default pod (in place), with a
service-account token mounted at ``/var/run/secrets/kubernetes.io/serviceaccount`` as a
kubelet mounts it, so the runtime makes ``/var`` (and its children down to the mount) in
the container. The base image has no ``/var``. Every layer must match, entry by entry,
and so must the digests:

* ``VOLUME`` is metadata only: what later WORKDIR, ADD, COPY and RUN steps write below the
  volume stays in the image;
* ``/var``, which exists in the pod only as a parent of the token's mount, is in no layer
  until a step writes below it, and then a new ``0755`` root directory, as on the host.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest

from kaniko.executor.executor import build
from kaniko.options import BuildOptions, OutputOptions
from tests.e2e.pod.conftest import PodImage
from tests.e2e.pod.runtime import Volume, run_pod
from tests.lab.flatten import DIR, Tree, compare_configs, compare_trees, fetch, flatten_layers
from tests.lab.images import PATH_ENV, busybox_rootfs, layer_from_dir, make_image, push_raw
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

DOCKERFILE = """\
FROM {base} AS other
RUN echo other > /other

FROM {base}
RUN mkdir /foo1 && echo before > /foo1/before
VOLUME /foo1
WORKDIR /foo1/bar
ADD a.txt /foo1/foo
COPY a.txt /foo1/foo2
RUN echo x > /foo1/y && pwd > /foo1/pwd
RUN echo untouched > /untouched
RUN mkdir -p /var/cache/app && echo y > /var/cache/app/y
COPY --from=other /other /from-other
"""
TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def _base_without_var(registry: Registry, directory: Path) -> str:
    rootfs = busybox_rootfs(directory / "rootfs")
    (rootfs / "var").rmdir()
    image = make_image([layer_from_dir(rootfs)], config={"Env": [PATH_ENV]})
    with httpx.Client(timeout=120) as client:
        push_raw(client, registry.url, "lab/busybox-novar", "latest", image)
    return f"{registry.host}/lab/busybox-novar:latest"


def _layers(ref: str) -> tuple[list[Tree], Tree, dict]:
    """Each layer of ``ref`` on its own (whiteouts aside), the flattened image, its config."""
    with tempfile.TemporaryDirectory(prefix="kaniko-layers-") as tmp:
        _, config, files = fetch(ref, Path(tmp) / "image")
        return [flatten_layers([f]) for f in files], flatten_layers(files), config


def _digest(registry: Registry, repo: str) -> str:
    response = httpx.head(
        f"{registry.url}/v2/{repo}/manifests/latest",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    response.raise_for_status()
    return response.headers["Docker-Content-Digest"]


def test_inplace_build_in_a_pod_matches_the_host_build(
    pod_image: PodImage, registry_plain: Registry, tmp_path: Path
) -> None:
    base = _base_without_var(registry_plain, tmp_path)
    context = tmp_path / "context"
    context.mkdir()
    (context / "a.txt").write_text("a\n")
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=base))
    host_ref = f"{registry_plain.host}/semantics/inplace:latest"
    build(
        BuildOptions(
            dockerfile=str(context / "Dockerfile"),
            context=str(context),
            kaniko_dir=str(tmp_path / "kaniko"),
            output=OutputOptions(destinations=(host_ref,), reproducible=True),
        )
    )
    token = tmp_path / "token"
    token.mkdir()
    (token / "token").write_text("not a real token\n")
    argv = [
        "/kaniko/executor",
        "--context=/workspace",
        "--reproducible",
        f"--insecure-registry={registry_plain.host}",
        f"--destination={registry_plain.host}/semantics/inplace-pod:latest",
    ]
    volumes = [Volume(context, "/workspace"), Volume(token, TOKEN_DIR)]
    done = run_pod(pod_image.ref, argv, volumes)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}\n{log[-4000:]}"
    assert "Building in place" in log
    pod_ref = f"{registry_plain.host}/semantics/inplace-pod:latest"

    ours, flat, our_config = _layers(pod_ref)
    theirs, their_flat, their_config = _layers(host_ref)
    problems = compare_trees(flat, their_flat, labels=("pod", "host"))
    if len(ours) != len(theirs):
        problems.append(f"{len(ours)} layers in the pod build, {len(theirs)} on the host")
    for index, (mine, host) in enumerate(zip(ours, theirs, strict=True)):
        found = compare_trees(mine, host, labels=("pod", "host"))
        problems += [f"layer {index}: {line}" for line in found]
    problems += compare_configs(our_config["config"], their_config["config"])
    assert problems == []

    for path, data in (("/foo1/before", b"before\n"), ("/foo1/foo", b"a\n"),
                       ("/foo1/foo2", b"a\n"), ("/foo1/y", b"x\n"),
                       ("/foo1/pwd", b"/foo1/bar\n"), ("/from-other", b"other\n")):  # fmt: skip
        assert flat[path].data == data, path
    assert flat["/foo1/bar"].type == DIR
    var = flat["/var"]
    assert (var.type, var.mode, var.uid, var.gid) == (DIR, 0o755, 0, 0)
    assert not [p for p in flat if p.startswith(("/var/run", "/var/lib", "/kaniko", "/workspace"))]
    untouched_layer = ours[-3]  # RUN echo untouched: /var is no part of it
    assert "/untouched" in untouched_layer and "/var" not in untouched_layer
    assert _digest(registry_plain, "semantics/inplace-pod") == _digest(
        registry_plain, "semantics/inplace"
    )
