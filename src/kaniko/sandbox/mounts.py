"""What a RUN sees besides the image: ``/proc``, ``/sys``, ``/dev``, ``resolv.conf``, ``hosts``.

Two halves. The parent prepares (:func:`prepare_full`, :func:`prepare_plain`): it resolves
every target inside the root as a chroot would (so a symlink planted in the image cannot
point a mount or a new file at the host) and creates missing mount points through a
:class:`~kaniko.sandbox.scaffold.Scaffold`. The child, already in its private mount
namespace, applies the plan (:func:`apply`). Those mounts die with the namespace when the
last process of the RUN exits; nothing is ever unmounted by hand.

The host's ``resolv.conf`` and ``hosts`` are copied to a private directory and the copies
bound, so a RUN that edits them changes neither the host nor the image.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from kaniko.errors import FilesystemError
from kaniko.fs.safepath import resolve_in_root
from kaniko.sandbox import libc
from kaniko.sandbox.devices import make_nodes, populate_dev
from kaniko.sandbox.scaffold import Scaffold

HOST_FILES = ("etc/resolv.conf", "etc/hosts")
"""Host files every RUN sees (name resolution), at the same path inside the root."""

_PROC_FLAGS = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC
_SYS_FLAGS = libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC


class MountsRefused(Exception):
    """The kernel refused the mounts full isolation needs (an unprivileged container)."""


@dataclass(frozen=True)
class MountPlan:
    """Host paths (already resolved inside the root) the child mounts on; None = skip."""

    proc: str | None
    sys: str | None
    dev: str | None
    files: tuple[tuple[str, str], ...]  # (private copy, target inside the root)


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


def prepare_full(root: Path, scaffold: Scaffold, private_dir: Path) -> MountPlan:
    """Resolve and create the mount points of full isolation; copy the host files."""

    def directory(name: str) -> str | None:
        target = _resolve(root, name)
        return str(target) if target is not None and scaffold.ensure_dir(target) else None

    files = []
    for name in HOST_FILES:
        copy = _copy_host_file(name, private_dir)
        target = _resolve(root, name)
        if copy is not None and target is not None and scaffold.ensure_file(target):
            files.append((str(copy), str(target)))
    return MountPlan(directory("proc"), directory("sys"), directory("dev"), tuple(files))


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


def _mount_proc(target: str) -> None:
    try:
        libc.mount("proc", target, "proc", _PROC_FLAGS)
    except OSError as refused:
        try:
            libc.mount("/proc", target, None, libc.MS_BIND | libc.MS_REC)
        except OSError:
            raise MountsRefused(str(refused)) from refused


def _mount_sys(target: str) -> None:
    try:
        libc.mount("sysfs", target, "sysfs", _SYS_FLAGS)
        return
    except OSError:
        pass
    try:
        libc.mount("/sys", target, None, libc.MS_BIND)
    except OSError:
        return  # no /sys at all rather than a writable one
    try:
        libc.mount(None, target, None, libc.MS_REMOUNT | libc.MS_BIND | _SYS_FLAGS)
    except OSError:
        libc.umount(target)


def apply(plan: MountPlan) -> None:
    """Mount everything in ``plan``; called in the child after ``unshare(CLONE_NEWNS)``.

    Raises :class:`MountsRefused` when mounting is not permitted at all.
    """
    try:
        # Nothing mounted from here on may propagate back to the host's namespace.
        libc.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE)
    except OSError as refused:
        raise MountsRefused(str(refused)) from refused
    if plan.proc is not None:
        _mount_proc(plan.proc)
    if plan.sys is not None:
        _mount_sys(plan.sys)
    if plan.dev is not None:
        try:
            populate_dev(plan.dev)
        except OSError as refused:
            raise MountsRefused(str(refused)) from refused
    for copy, target in plan.files:
        try:
            libc.mount(copy, target, None, libc.MS_BIND)
        except OSError:
            continue  # the image's own file stays visible
