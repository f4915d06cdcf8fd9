"""Builds inside the executor image, run by crun as a default Kubernetes pod.

The pod (see :mod:`tests.e2e.pod.runtime`) is not privileged and has only containerd's
default capabilities and seccomp profile; the build context is a read-only volume at
``/workspace``, the docker config a Secret at ``/kaniko/.docker`` and the lab CA a
ConfigMap. Each build pushes to the TLS + Bearer-token registry (``public/*``, which the
lab's readers may pull anonymously) and the result is compared with buildah's.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.pod.conftest import PodImage, PodSecrets
from tests.e2e.pod.runtime import Volume, run_pod
from tests.lab.debian import debian_rootfs_layer
from tests.lab.flatten import (
    DIR,
    FILE,
    Tree,
    compare_configs,
    compare_trees,
    flatten,
    image_config,
)
from tests.lab.images import PATH_ENV, layer_from_dir, make_image, push_raw
from tests.lab.oracle import buildah_build, strip_run_placeholders
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

MULTI_STAGE_APT = """\
FROM {debian} AS tools
RUN apt-get update && apt-get install -y --no-install-recommends hello \\
 && rm -rf /var/lib/apt/lists/*
RUN hello --greeting="built in a pod" > /greeting

FROM {debian}
COPY --from=tools /usr/bin/hello /usr/local/bin/hello
COPY --from=tools /greeting /etc/greeting
RUN echo "the final stage ran" > /etc/stage-note && hello --version | head -n 1 > /etc/version
CMD ["hello"]
"""
FALLBACK_WARNING = "mounts are not permitted here"


def _argv(registry: Registry, secrets: PodSecrets, repo: str, *more: str) -> list[str]:
    return [
        "/kaniko/executor",
        "--context=/workspace",
        f"--destination={registry.host}/{repo}",
        f"--registry-certificate={registry.host}={secrets.ca_path}",
        *more,
    ]


def _build(image: PodImage, argv: list[str], volumes: list[Volume]) -> tuple[str, float]:
    started = time.monotonic()
    done = run_pod(image.ref, argv, volumes)
    elapsed = time.monotonic() - started
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}\n{log[-4000:]}"
    assert "Built image sha256:" in log
    return log, elapsed


@pytest.fixture(scope="module")
def apt_context(tmp_path_factory, debian_image: str) -> Path:
    context = tmp_path_factory.mktemp("pod-apt")
    (context / "Dockerfile").write_text(MULTI_STAGE_APT.format(debian=debian_image))
    return context


@pytest.fixture(scope="module")
def buildah_apt(
    apt_context: Path, registry_plain: Registry, debian_image: str
) -> tuple[Tree, dict]:
    """buildah's build of the same Dockerfile, flattened, its RUN placeholders removed."""
    ref = buildah_build(
        apt_context, "Dockerfile", registry=registry_plain, repo_tag="pod/apt:buildah"
    )
    return strip_run_placeholders(flatten(ref), flatten(debian_image)), image_config(ref)


def _matches_buildah(ref: str, buildah: tuple[Tree, dict]) -> None:
    tree, config = flatten(ref), image_config(ref)
    their_tree, their_config = buildah
    assert compare_trees(tree, their_tree, labels=("kaniko", "buildah")) == []
    assert compare_configs(config["config"], their_config["config"]) == []
    assert tree["/usr/local/bin/hello"].type == FILE
    assert tree["/etc/greeting"].data == b"built in a pod\n"
    assert tree["/etc/stage-note"].data == b"the final stage ran\n"
    for absent in ("/usr/bin/hello", "/greeting", "/kaniko", "/workspace", "/proc/self"):
        assert absent not in tree


@pytest.mark.parametrize("isolation", ["inplace", "chroot"])
def test_multi_stage_apt_build_matches_buildah(
    isolation: str,
    pod_image: PodImage,
    pod_secrets: PodSecrets,
    registry_token: Registry,
    registry_plain: Registry,
    apt_context: Path,
    buildah_apt,
    record_property,
) -> None:
    repo = f"public/pod-apt:{isolation}"
    argv = _argv(registry_token, pod_secrets, repo, f"--insecure-registry={registry_plain.host}")
    if isolation == "chroot":
        argv.append("--isolation=chroot")
    volumes = [Volume(apt_context, "/workspace"), *pod_secrets.volumes]
    log, elapsed = _build(pod_image, argv, volumes)
    record_property(f"pod_build_seconds_{isolation}", round(elapsed, 1))
    if isolation == "inplace":  # auto inside the executor image
        assert "Building in place" in log
        assert "Kept stage 0 (tools) in /kaniko/stages/0" in log
        assert FALLBACK_WARNING not in log
    else:  # no mounts in a pod: a plain chroot, said once
        assert "Building in place" not in log
        assert log.count(FALLBACK_WARNING) == 1
    _matches_buildah(f"{registry_token.host}/{repo}", buildah_apt)


HOSTILE = """\
FROM {debian} AS fresh
RUN test -e /usr/lib/x86_64-linux-gnu/libc.so.6 && echo "a fresh root" > /fresh

FROM {hostile}
RUN rm -rf /usr/lib /lib64 /usr/lib64 /usr/lib32 && echo "libraries deleted"
COPY --from=fresh /fresh /etc/ssl/fresh
COPY marker.txt /marker.txt
"""


def _hostile_base(registry: Registry, directory: Path) -> str:
    """Debian plus a layer that would break a tool relying on anything outside /kaniko:
    its own ``python3`` and standard library, garbage OpenSSL configuration and CA
    bundle, and name services that do not exist."""
    root = directory / "hostile"
    stdlib = root / "usr/lib/python3.11"
    (stdlib / "encodings").mkdir(parents=True)
    poison = 'raise SystemExit("imported from the image being built")\n'
    for name in ("os.py", "ssl.py", "site.py", "json/__init__.py", "encodings/__init__.py"):
        (stdlib / name).parent.mkdir(parents=True, exist_ok=True)
        (stdlib / name).write_text(poison)
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/python3").write_text("#!/bin/sh\necho hijacked\nexit 99\n")
    (root / "usr/bin/python3").chmod(0o755)
    for path in ("etc/ssl/openssl.cnf", "usr/lib/ssl/openssl.cnf"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("openssl_conf = broken\n[broken]\n.include /nowhere\n")
    (root / "etc/ssl/certs").mkdir(parents=True)
    (root / "etc/ssl/certs/ca-certificates.crt").write_text("not a certificate\n")
    (root / "etc/nsswitch.conf").write_text("hosts: mdns4_minimal [NOTFOUND=return] nothing\n")
    layers = [debian_rootfs_layer().read_bytes(), layer_from_dir(root)]
    image = make_image(layers, config={"Env": [PATH_ENV], "Cmd": ["bash"]})
    with httpx.Client(timeout=120) as client:
        push_raw(client, registry.url, "lab/hostile", "latest", image)
    return f"{registry.host}/lab/hostile:latest"


def test_the_image_being_built_cannot_break_the_tool(
    pod_image: PodImage,
    pod_secrets: PodSecrets,
    registry_token: Registry,
    registry_plain: Registry,
    debian_image: str,
    tmp_path: Path,
) -> None:
    hostile = _hostile_base(registry_plain, tmp_path)
    context = tmp_path / "context"
    context.mkdir()
    (context / "marker.txt").write_text("survived\n")
    (context / "Dockerfile").write_text(HOSTILE.format(hostile=hostile, debian=debian_image))
    repo = "public/pod-hostile:latest"
    argv = _argv(registry_token, pod_secrets, repo, f"--insecure-registry={registry_plain.host}")
    log, _ = _build(pod_image, argv, [Volume(context, "/workspace"), *pod_secrets.volumes])
    assert "libraries deleted" in log  # and then it pushed, with / in that state
    tree = flatten(f"{registry_token.host}/{repo}")
    assert tree["/marker.txt"].data == b"survived\n"
    assert tree["/etc/ssl/fresh"].data == b"a fresh root\n"
    assert tree["/usr/bin/python3"].data == b"#!/bin/sh\necho hijacked\nexit 99\n"
    assert tree["/etc/ssl/certs/ca-certificates.crt"].data == b"not a certificate\n"
    assert not [path for path in tree if path.startswith(("/usr/lib/", "/usr/lib64/"))]
    assert tree["/usr/bin"].type == DIR
