"""The cache in a pod: the warmer fills a ``/cache`` volume, in-place builds use it.

As deploy/kubernetes has it: a warmer pod (``/kaniko/warmer``) saves the base image into
a writable volume mounted at ``/cache``; build pods mount the same volume with
``--cache --cache-dir=/cache``, their layer cache in the token registry with the Secret's
credentials, and build in place. The base is named by digest, and the build never asks the
registry that holds it for anything: it is read from the volume. The rebuild after a late
COPY changed runs no RUN and extracts nothing, and with ``--reproducible`` its image is
the one a build without any cache gives on the host.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kaniko.executor.executor import build
from kaniko.options import BuildOptions, OutputOptions
from tests.e2e.pod.conftest import PodImage, PodSecrets
from tests.e2e.pod.runtime import Volume, run_pod
from tests.lab.flatten import flatten
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

DOCKERFILE = """\
FROM {base}
RUN echo RAN-IN-POD && mkdir -p /opt/tool && seq 1 500 > /opt/tool/numbers
COPY app/ /app/
"""


def _run(image: PodImage, argv: list[str], volumes: list[Volume]) -> str:
    done = run_pod(image.ref, argv, volumes)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}\n{log[-4000:]}"
    return log


def _digest_of(registry: Registry, reference: str) -> str:
    host, _, rest = reference.partition("/")
    repo, _, tag = rest.partition(":")
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    with httpx.Client() as client:
        response = client.head(
            f"http://{host}/v2/{repo}/manifests/{tag}", headers={"Accept": accept}
        )
        response.raise_for_status()
        return response.headers["Docker-Content-Digest"]


def test_warmer_and_in_place_builds_share_a_cache_volume(
    pod_image: PodImage,
    pod_secrets: PodSecrets,
    registry_token: Registry,
    registry_plain: Registry,
    debian_image: str,
    tmp_path: Path,
    record_property,
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    context = tmp_path / "ctx"
    (context / "app").mkdir(parents=True)
    (context / "app" / "main.txt").write_text("first\n")
    base = f"{debian_image.rsplit(':', 1)[0]}@{_digest_of(registry_plain, debian_image)}"
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=base))
    cache_volume = Volume(cache, "/cache", writable=True)

    warm = ["/kaniko/warmer", "--cache-dir=/cache", f"--image={base}", "--log-format=text"]
    log = _run(pod_image, warm, [cache_volume])
    assert "Warmed" in log
    assert len([p for p in cache.iterdir() if not p.name.endswith(".json")]) == 1

    destination = f"{registry_token.host}/public/pod-cache:1"
    argv = [
        "/kaniko/executor",
        "--context=/workspace",
        f"--destination={destination}",
        f"--registry-certificate={registry_token.host}={pod_secrets.ca_path}",
        "--cache=true",
        "--cache-dir=/cache",
        f"--cache-repo={registry_token.host}/public/pod-cache/layers",
        "--reproducible",
        "--log-format=text",
        # the base's registry must not be needed: any use of it fails the build
        f"--registry-map={registry_plain.host}=127.0.0.1:9",
        "--skip-default-registry-fallback",
    ]
    volumes = [Volume(context, "/workspace"), cache_volume, *pod_secrets.volumes]
    cold = _run(pod_image, argv, volumes)
    assert "Building in place" in cold and "RAN-IN-POD" in cold
    assert "Found" in cold and "base-image cache" in cold

    (context / "app" / "main.txt").write_text("second\n")
    warm_log = _run(pod_image, argv, volumes)
    assert "Using cached layer" in warm_log
    assert "] RAN-IN-POD" not in warm_log and "Unpacking rootfs" not in warm_log
    tree = flatten(destination)
    assert tree["/app/main.txt"].data == b"second\n"
    assert tree["/opt/tool/numbers"].size == len("".join(f"{i}\n" for i in range(1, 501)))

    host = build(
        BuildOptions(
            dockerfile=str(context / "Dockerfile"),
            context=str(context),
            kaniko_dir=str(tmp_path / "kaniko"),
            isolation="chroot",
            output=OutputOptions(no_push=True, reproducible=True),
        )
    )
    pushed = warm_log.rsplit("Built image ", 1)[1].split()[0].strip('"')
    assert pushed == str(host.digest)  # the rebuild is the image a build without cache gives
    record_property("pod_cache_dir_entries", len(list(cache.iterdir())))
