"""Helpers of the sandbox tests: run a command in a root, and look at what a RUN left behind."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from kaniko.sandbox import chroot, security
from kaniko.sandbox.boot import kernel
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
    """Host pids of live processes whose root directory is ``root``.

    Compared by device and inode: after ``pivot_root`` the link reads ``/ (deleted)``.
    """
    base = os.stat(root)
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                st = os.stat(f"/proc/{entry}/root")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (base.st_dev, base.st_ino):
                found.append(int(entry))
    return found


def without_capabilities(names: tuple[str, ...], body: Callable[[], object]) -> object:
    """``body()`` run in a forked child of this process that lacks capabilities ``names``
    (bounding, effective and permitted sets), as an unprivileged container would; returns
    what it returned (JSON data), or raises ``RuntimeError`` with the child's exception.

    The sandbox's per-process state starts afresh in the child, which also collects the
    log records of ``kaniko.sandbox`` (``[level, message]`` pairs) into ``records``.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        result: object
        try:
            os.close(read_end)
            status = Path("/proc/self/status").read_text()
            mask = int(status.split("CapPrm:")[1].split()[0], 16)
            for bit, name in enumerate(security.CAPABILITIES):
                if name in names:
                    kernel.prctl(kernel.PR_CAPBSET_DROP, bit)
                    mask &= ~(1 << bit)
            kernel.set_capabilities(mask)
            security.hardening.cache_clear()
            chroot._refused = None
            chroot._warned_hardening = False
            records.clear()
            result = ["ok", body(), records]
        except BaseException as error:
            result = ["error", f"{type(error).__name__}: {error}", records]
        with os.fdopen(write_end, "w") as out:
            json.dump(result, out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as report:
        text = report.read()
    os.waitpid(pid, 0)
    kind, value, their_records = json.loads(text)
    records[:] = their_records
    if kind != "ok":
        raise RuntimeError(value)
    return value


records: list[list[object]] = []


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        records.append([record.levelname, record.getMessage()])


logging.getLogger("kaniko.sandbox").addHandler(_Collect())
