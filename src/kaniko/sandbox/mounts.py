"""What a RUN sees besides the image: ``/proc``, ``/sys``, ``/dev``, ``resolv.conf``, ``hosts``.

kaniko's half of it (the init mounts, see ``boot/rootfs.py``): :func:`prepare_full`
resolves every target inside the root as a chroot would (so a symlink planted in the
image cannot point a mount or a new file at the host), creates missing mount points
through a :class:`~kaniko.sandbox.scaffold.Scaffold`, and returns the plan the init
follows. :func:`prepare_plain` serves a plain chroot, which has no mounts: device nodes
and the host files are created in the root and removed after the RUN.

The host's ``resolv.conf`` and ``hosts`` are copied to a private directory and the copies
bound, so a RUN that edits them changes neither the host nor the image.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from kaniko.errors import FilesystemError
from kaniko.fs.safepath import resolve_in_root
from kaniko.sandbox.devices import DEVICES, SYMLINKS, make_nodes
from kaniko.sandbox.scaffold import Scaffold
from kaniko.sandbox.security import MASKED_PATHS, READONLY_PATHS

HOST_FILES = ("etc/resolv.conf", "etc/hosts")
"""Host files every RUN sees (name resolution), at the same path inside the root."""


def _copy_host_file(name: str, private_dir: Path) -> Path | None:
    source = Path("/") / name
    if not source.is_file():
        return None
    copy = private_dir / source.name
    shutil.copyfile(source, copy)
    copy.chmod(0o644)
    return copy


def _resolve(root: Path, name: str) -> Path | None:
    """``name`` resolved inside ``root``; None for a symlink loop (the image's own fault)."""
    try:
        return resolve_in_root(root, name)
    except FilesystemError:
        return None


def _split(paths: tuple[str, ...]) -> list[tuple[str, str]]:
    """``/proc/kcore`` → ``("proc", "kcore")``: a path below one of the plan's mounts."""
    return [tuple(path.lstrip("/").split("/", 1)) for path in paths]  # type: ignore[misc]


def prepare_full(root: Path, scaffold: Scaffold, private_dir: Path) -> dict[str, Any]:
    """Resolve and create the mount points of full isolation; copy the host files.

    The plan (a dict of plain data, for the init): ``root``, ``proc``/``sys``/``dev`` (host
    paths, or None to skip), ``files`` ((copy, target) pairs), ``devices``, ``symlinks``,
    and ``masked``/``readonly`` as (mount, path below it) pairs.
    """

    def directory(name: str) -> str | None:
        target = _resolve(root, name)
        return str(target) if target is not None and scaffold.ensure_dir(target) else None

    files = []
    for name in HOST_FILES:
        copy = _copy_host_file(name, private_dir)
        target = _resolve(root, name)
        if copy is not None and target is not None and scaffold.ensure_file(target):
            files.append((str(copy), str(target)))
    return {
        "root": str(root),
        "proc": directory("proc"),
        "sys": directory("sys"),
        "dev": directory("dev"),
        "files": files,
        "devices": list(DEVICES),
        "symlinks": list(SYMLINKS),
        "masked": _split(MASKED_PATHS),
        "readonly": _split(READONLY_PATHS),
    }


def prepare_plain(root: Path, scaffold: Scaffold) -> bool:
    """Plain isolation: device nodes, and the host files where the image has none.

    Returns False when some device node could not be created (``mknod`` refused).
    """
    for name in HOST_FILES:
        source = Path("/") / name
        target = _resolve(root, name)
        if source.is_file() and target is not None and not os.path.lexists(target):
            scaffold.ensure_file(target, source.read_bytes())
    dev = _resolve(root, "dev")
    return dev is not None and make_nodes(dev, scaffold)
