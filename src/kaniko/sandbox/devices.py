"""The minimal ``/dev`` a RUN gets: the nodes every container runtime provides.

In full isolation :func:`populate_dev` fills a fresh tmpfs mounted on the root's ``/dev``
(inside the child's private mount namespace): each node is a bind mount of the host's own
node, which works even where ``mknod`` is refused, with ``mknod`` as the fallback; then
``/dev/pts`` (a new devpts instance), ``/dev/shm`` and the usual symlinks. In plain
isolation :func:`make_nodes` creates the nodes in the root itself through a
:class:`~kaniko.sandbox.scaffold.Scaffold`, which removes them after the RUN.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from kaniko.sandbox import libc
from kaniko.sandbox.scaffold import Scaffold

DEVICES: tuple[tuple[str, int, int], ...] = (
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
)
"""(name, major, minor) of the character devices, all mode 0666 as in Docker."""

SYMLINKS: tuple[tuple[str, str], ...] = (
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
)

_DEVPTS_OPTIONS = ("newinstance,ptmxmode=0666,mode=0620,gid=5", "newinstance,ptmxmode=0666")
_SHM_OPTIONS = "mode=1777,size=65536k"


def _host_node_matches(name: str, major: int, minor: int) -> bool:
    try:
        st = os.stat(f"/dev/{name}")
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(major, minor)


def _bind_or_mknod(target: str, name: str, major: int, minor: int) -> None:
    if _host_node_matches(name, major, minor):
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.close(fd)
        try:
            libc.mount(f"/dev/{name}", target, None, libc.MS_BIND)
            return
        except OSError:
            os.unlink(target)
    with contextlib.suppress(OSError):
        os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        os.chmod(target, 0o666)


def populate_dev(dev: str) -> None:
    """Mount a tmpfs on ``dev`` and fill it; runs in the child's private mount namespace.

    Raises :class:`OSError` only when the tmpfs itself cannot be mounted; a node, pts or
    shm that cannot be provided is left out.
    """
    libc.mount("tmpfs", dev, "tmpfs", libc.MS_NOSUID | libc.MS_STRICTATIME, "mode=755,size=65536k")
    for name, major, minor in DEVICES:
        _bind_or_mknod(f"{dev}/{name}", name, major, minor)
    os.mkdir(f"{dev}/pts", 0o755)
    for options in _DEVPTS_OPTIONS:
        try:
            libc.mount("devpts", f"{dev}/pts", "devpts", libc.MS_NOSUID | libc.MS_NOEXEC, options)
            break
        except OSError:
            continue
    os.mkdir(f"{dev}/shm", 0o755)
    with contextlib.suppress(OSError):
        flags = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC
        libc.mount("shm", f"{dev}/shm", "tmpfs", flags, _SHM_OPTIONS)
    os.chmod(f"{dev}/shm", 0o1777)
    for name, target in SYMLINKS:
        os.symlink(target, f"{dev}/{name}")


def make_nodes(dev: Path, scaffold: Scaffold) -> bool:
    """Create the missing device nodes under ``dev`` (plain isolation); False if any failed."""
    if not scaffold.ensure_dir(dev):
        return False
    made_all = True
    for name, major, minor in DEVICES:
        if not scaffold.make_device(dev / name, major, minor):
            made_all = False
    return made_all
