"""The minimal ``/dev`` a RUN gets: the nodes every container runtime provides.

In full isolation the init fills a fresh ``nodev`` tmpfs on the root's ``/dev`` with
bind mounts of the host's own nodes, ``/dev/pts`` (a new devpts instance), ``/dev/shm``
and :data:`SYMLINKS` (``boot/rootfs.py``). In plain isolation :func:`make_nodes` creates
the nodes in the root itself through a :class:`~kaniko.sandbox.scaffold.Scaffold`, which
removes them after the RUN.
"""

from __future__ import annotations

from pathlib import Path

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


def make_nodes(dev: Path, scaffold: Scaffold) -> bool:
    """Create the missing device nodes under ``dev`` (plain isolation); False if any failed."""
    if not scaffold.ensure_dir(dev):
        return False
    made_all = True
    for name, major, minor in DEVICES:
        if not scaffold.make_device(dev / name, major, minor):
            made_all = False
    return made_all
