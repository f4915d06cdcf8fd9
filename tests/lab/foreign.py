"""Foreign architectures in the lab: emulation, busybox and Debian bases for another arch.

- :func:`require_emulation`: skip (with the reason) where binfmt_misc cannot be used
  (not mounted, and root could not mount it: an unprivileged container) or nobody could
  register a handler (not root); fail as root with binfmt_misc there but no fix-binary
  handler (``scripts/install-system-deps.sh`` registers qemu-user-static);
- :func:`busybox_binary`: the static busybox of Debian's ``busybox-static`` package for
  an architecture (``apt-get download busybox-static:arm64``; the foreign architecture is
  added to dpkg by the same script), cached next to the Debian rootfs tarballs;
- :func:`multiarch_bases`: indexes of busybox and of Debian bookworm (the foreign one made
  by ``debootstrap --foreign`` and its second stage under qemu, tests/lab/debian.py)
  for the host and the foreign architecture, pushed with raw HTTP.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from kaniko.oci.platform import Platform
from kaniko.sandbox import binfmt
from tests.lab.debian import cache_dir, debian_rootfs_layer
from tests.lab.flatten import LabToolError, run_tool
from tests.lab.images import (
    PATH_ENV,
    BuiltImage,
    busybox_rootfs,
    layer_from_dir,
    make_image,
    make_index,
    push_raw,
)
from tests.lab.tools import require_tool

# Go's architecture names → Debian's
DEBIAN_ARCH = {"amd64": "amd64", "arm64": "arm64", "arm": "armhf", "386": "i386"}
FOREIGN = Platform("linux", "arm64") if Platform.host().architecture != "arm64" else Platform()


def require_emulation(platform: Platform) -> None:
    """Skip or fail unless ``platform``'s programs run here (natively or emulated)."""
    if binfmt.native(platform):
        return
    try:
        binfmt.emulation(platform)
        return
    except binfmt.Unreadable as exc:  # not mounted, and root could not mount it either
        pytest.skip(f"{platform} programs cannot run here: binfmt_misc is unusable ({exc})")
    except LookupError as exc:
        message = f"{platform} programs cannot run here: {exc} ({binfmt.REGISTER_HINT})"
    if os.geteuid() == 0:
        pytest.fail(message + "; scripts/install-system-deps.sh registers qemu-user-static")
    pytest.skip(message)


def busybox_binary(platform: Platform) -> Path:
    """The static busybox of Debian's ``busybox-static`` for ``platform`` (cached)."""
    if platform.architecture == Platform.host().architecture:
        return Path(require_tool("busybox")).resolve()
    arch = DEBIAN_ARCH[platform.architecture]
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"busybox-static-{arch}"
    with open(directory / f"busybox-static-{arch}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        with tempfile.TemporaryDirectory(dir=directory) as work:
            run_tool(
                [require_tool("apt-get"), "-q", "-o", "APT::Sandbox::User=root", "download",
                 f"busybox-static:{arch}"],
                timeout=300,
                what=f"apt-get download busybox-static:{arch} (is {arch} a dpkg architecture?)",
                cwd=work,
            )  # fmt: skip
            debs = list(Path(work).glob("*.deb"))
            if len(debs) != 1:
                raise LabToolError(f"apt-get download busybox-static:{arch}: no .deb in {work}")
            run_tool([require_tool("dpkg-deb"), "-x", str(debs[0]), f"{work}/x"], timeout=60,
                     what="dpkg-deb -x")  # fmt: skip
            shutil.copy2(f"{work}/x/bin/busybox", f"{target}.partial")
            os.replace(f"{target}.partial", target)
    return target


def busybox_image(root: Path, platform: Platform) -> BuiltImage:
    """A busybox image for ``platform`` (OCI types), laid out in ``root``."""
    layer = layer_from_dir(busybox_rootfs(root, busybox=busybox_binary(platform)))
    return make_image([layer], arch=platform.architecture, variant=platform.variant, oci=True)


def debian_image(platform: Platform) -> BuiltImage:
    """A Debian bookworm minbase image for ``platform`` (OCI types)."""
    if os.geteuid() != 0:
        pytest.skip("debootstrap needs root")
    layer = debian_rootfs_layer(arch=DEBIAN_ARCH[platform.architecture]).read_bytes()
    config = {"Env": [PATH_ENV], "Cmd": ["bash"]}
    return make_image(
        [layer], arch=platform.architecture, variant=platform.variant, oci=True, config=config
    )


def push_multiarch(
    url: str, repo: str, tag: str, images: list[tuple[BuiltImage, Platform]]
) -> None:
    """Push an OCI index of ``images`` (each with its platform) as ``repo:tag``."""
    entries = []
    for image, platform in images:
        entry = {"architecture": platform.architecture, "os": platform.os}
        if platform.variant:
            entry["variant"] = platform.variant
        entries.append((image, entry))
    index = make_index(entries)
    with httpx.Client(timeout=300) as client:
        push_raw(client, url, repo, tag, index, children=[image for image, _ in images])
