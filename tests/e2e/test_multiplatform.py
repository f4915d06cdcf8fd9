"""Multi-platform builds end to end: one kaniko build, one index, every platform checked.

The lab makes its own multi-platform bases and pushes their indexes to the lab registry
(tests/lab/foreign.py): busybox from Debian's ``busybox-static`` for the host and for
arm64, and Debian bookworm, the arm64 one from ``debootstrap --foreign`` finished under
qemu-user-static. Then kaniko builds, for ``{host},linux/arm64`` in one run:

- a cross-compiling multi-stage Dockerfile: ``FROM --platform=$BUILDPLATFORM`` stages
  (one per-target because it reads ``TARGETARCH``, one shared and built once), and a
  per-platform final stage whose RUN executes the target's busybox (arm64 through
  binfmt_misc);
- an apt-get Dockerfile on the Debian index.

Each time: the index is read back with ``skopeo inspect --raw`` (media type, one entry
per platform), the digest files hold the index digest, each platform's image is compared
(flattened tree and config) with ``buildah bud --platform`` for that platform, and each
image runs with crun (the arm64 one under qemu).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from kaniko.executor.executor import build
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, OutputOptions
from tests.lab.crun import run_image
from tests.lab.flatten import compare_configs, compare_trees, flatten, image_config, run_tool
from tests.lab.foreign import (
    FOREIGN,
    busybox_image,
    debian_image,
    push_multiarch,
    require_emulation,
)
from tests.lab.images import BuiltImage
from tests.lab.oracle import buildah_build, strip_run_placeholders
from tests.lab.registry import Registry
from tests.lab.tools import require_tool

pytestmark = pytest.mark.e2e

HOST = Platform.host()
PLATFORMS = (HOST, FOREIGN)
UNAME = {"amd64": "x86_64", "arm64": "aarch64"}
CONFIG_FIELDS = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels")

CROSS = """\
FROM --platform=$BUILDPLATFORM {busybox} AS builder
ARG TARGETARCH
RUN echo "built on $(uname -m) for $TARGETARCH" > /out-$TARGETARCH

FROM --platform=$BUILDPLATFORM {busybox} AS tools
RUN uname -m > /tools.txt

FROM {busybox}
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDARCH
COPY --from=builder /out-$TARGETARCH /out
COPY --from=tools /tools.txt /tools.txt
RUN uname -m > /arch && \\
    echo "$TARGETPLATFORM|$TARGETOS|$TARGETARCH|$TARGETVARIANT|$BUILDPLATFORM|$BUILDARCH" > /args
CMD ["cat", "/arch", "/args", "/out", "/tools.txt"]
"""

APT = """\
FROM {debian}
RUN apt-get update && apt-get install -y --no-install-recommends hello && \\
    rm -rf /var/lib/apt/lists/*
CMD ["hello", "--greeting=hello from apt"]
"""

APT_NOISE = {
    path: "apt's caches and logs record when each builder ran"
    for path in (
        "/var/cache/apt/pkgcache.bin",
        "/var/cache/apt/srcpkgcache.bin",
        "/var/log/apt/history.log",
        "/var/log/apt/term.log",
        "/var/log/dpkg.log",
        "/var/log/apt/eipp.log.xz",
    )
}


@dataclass(frozen=True)
class Bases:
    """A multi-platform base pushed to the lab registry: its index, and each platform's
    image by digest (what buildah's RUN placeholders are told apart from)."""

    index: str
    images: dict[Platform, str]


def _push(registry: Registry, repo: str, tag: str, images: list[tuple[BuiltImage, Platform]]):  # type: ignore[no-untyped-def]
    push_multiarch(registry.url, repo, tag, images)
    by_digest = {p: f"{registry.host}/{repo}@{image.digest}" for image, p in images}
    return Bases(f"{registry.host}/{repo}:{tag}", by_digest)


@pytest.fixture(scope="module")
def multiarch_busybox(registry_plain: Registry, tmp_path_factory: pytest.TempPathFactory) -> Bases:
    require_emulation(FOREIGN)
    root = tmp_path_factory.mktemp("busybox-roots")
    images = [(busybox_image(root / str(i), p), p) for i, p in enumerate(PLATFORMS)]
    return _push(registry_plain, "lab/busybox-multi", "latest", images)


@pytest.fixture(scope="module")
def multiarch_debian(registry_plain: Registry) -> Bases:
    require_emulation(FOREIGN)
    images = [(debian_image(p), p) for p in PLATFORMS]
    return _push(registry_plain, "lab/debian-multi", "bookworm", images)


def _build(ctx: Path, ref: str, out: Path) -> str:
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        platform=PLATFORMS[0],
        platforms=PLATFORMS,
        kaniko_dir=str(out / "kaniko"),
        output=OutputOptions(
            destinations=(ref,),
            digest_file=str(out / "digest"),
            image_name_with_digest_file=str(out / "names"),
            oci_layout_path=str(out / "layout"),
        ),
    )
    return str(build(options).digest)


def _read_index(ref: str, digest: str, out: Path) -> dict[str, str]:
    """The pushed index read back by skopeo; its image references by platform."""
    raw = run_tool(
        [require_tool("skopeo"), "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        timeout=60,
        what="skopeo inspect --raw",
    ).stdout
    index = json.loads(raw)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert (out / "digest").read_text() == digest
    name = ref.rsplit(":", 1)[0]
    assert (out / "names").read_text() == f"{name}@{digest}\n"
    layout = json.loads((out / "layout" / "index.json").read_text())
    assert [m["digest"] for m in layout["manifests"]] == [digest]
    found = {}
    for entry in index["manifests"]:
        assert entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        platform = Platform(
            entry["platform"]["os"],
            entry["platform"]["architecture"],
            entry["platform"].get("variant", ""),
        )
        found[str(platform)] = f"{name}@{entry['digest']}"
    assert list(found) == [str(p) for p in PLATFORMS]
    return found


def _compare_with_buildah(
    ctx: Path,
    registry: Registry,
    ours: str,
    platform: Platform,
    repo: str,
    allow: dict,
    base: str,
) -> None:
    theirs = buildah_build(ctx, "Dockerfile", registry=registry, repo_tag=f"{repo}:buildah",
                           platform=str(platform))  # fmt: skip
    our_config = image_config(ours)
    their_config = image_config(theirs)
    assert our_config["architecture"] == their_config["architecture"] == platform.architecture
    their_tree = strip_run_placeholders(flatten(theirs), flatten(base))
    problems = compare_trees(flatten(ours), their_tree, allow=allow, labels=("kaniko", "buildah"))
    problems += compare_configs(
        our_config.get("config") or {},
        their_config.get("config") or {},
        CONFIG_FIELDS,
        labels=("kaniko", "buildah"),
    )
    assert not problems, f"{platform}:\n" + "\n".join(problems)


def test_cross_compiling_multi_stage_build_for_two_platforms(
    tmp_path: Path,
    registry_plain: Registry,
    multiarch_busybox: Bases,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(CROSS.format(busybox=multiarch_busybox.index))
    ref = f"{registry_plain.host}/multi/cross:latest"
    caplog.set_level(logging.INFO, logger="kaniko")
    digest = _build(ctx, ref, tmp_path)
    built = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Building stage")]
    assert sum("(builder)" in m for m in built) == 2  # reads TARGETARCH: once per target
    assert sum("(tools)" in m for m in built) == 1  # the same for both: built once
    images = _read_index(ref, digest, tmp_path)
    build_uname = UNAME[HOST.architecture]
    for platform in PLATFORMS:
        ours = images[str(platform)]
        # buildah 1.28 gives $BUILDPLATFORM the --platform value (its builder stages ran
        # as aarch64); BuildKit gives the build host's, as we do: the run below states it.
        wrong = "" if platform == HOST else "buildah's $BUILDPLATFORM is the target's"
        allow = {"/out": wrong, "/tools.txt": wrong} if wrong else {}
        base = multiarch_busybox.images[platform]
        _compare_with_buildah(ctx, registry_plain, ours, platform, "multi/cross", allow, base)
        done = run_image(ours, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout == (
            f"{UNAME[platform.architecture]}\n"
            f"{platform}|linux|{platform.architecture}|{platform.variant}|{HOST}|"
            f"{HOST.architecture}\n"
            f"built on {build_uname} for {platform.architecture}\n"
            f"{build_uname}\n"
        )


def test_apt_get_build_for_two_platforms(
    tmp_path: Path, registry_plain: Registry, multiarch_debian: Bases
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(APT.format(debian=multiarch_debian.index))
    ref = f"{registry_plain.host}/multi/apt:latest"
    started = time.monotonic()
    digest = _build(ctx, ref, tmp_path)
    logging.getLogger(__name__).info("two-platform apt build: %.0fs", time.monotonic() - started)
    images = _read_index(ref, digest, tmp_path)
    for platform in PLATFORMS:
        ours = images[str(platform)]
        base = multiarch_debian.images[platform]
        _compare_with_buildah(ctx, registry_plain, ours, platform, "multi/apt", APT_NOISE, base)
        done = run_image(ours, timeout=120)
        assert (done.returncode, done.stdout) == (0, "hello from apt\n"), done.stderr
