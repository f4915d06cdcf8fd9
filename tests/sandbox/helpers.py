"""Helpers of the sandbox tests: run a command in a root, and look at what a RUN left behind."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from kaniko.sandbox.chroot import run
from kaniko.sandbox.spec import Isolation, RunSpec


def exec_form(
    root: Path, argv: tuple[str, ...], *, isolation: Isolation = "auto", **fields: object
) -> tuple[int, list[str]]:
    lines: list[str] = []
    fields.setdefault("env", ())
    spec = RunSpec(root=root, argv=argv, **fields)
    code = run(spec, on_output=lines.append, isolation=isolation)
    return code, lines


def tree(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry below ``root``: type and mode, owner, size, mtime, link target, content."""
    entries: dict[str, tuple[object, ...]] = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames]:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            extra: object = None
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                extra = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                extra = st.st_rdev
            key = os.path.normpath(os.path.relpath(path, root))
            entries[key] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, extra)
    return entries


def mounts_below(root: Path) -> list[str]:
    """Mount points of this process's namespace at or below ``root``."""
    base = os.path.realpath(root)
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == base or point.startswith(base + "/"):
            points.append(point)
    return points


def processes_in(root: Path) -> list[int]:
    """Host pids of live processes whose root directory is ``root``."""
    base = os.path.realpath(root)
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/root") == base:
                    found.append(int(entry))
            except OSError:
                continue
    return found
