"""Starting, watching and stopping the process tree of one RUN (kaniko's side).

kaniko never forks itself for a RUN: it starts the init program (``boot/``, see
``boot/tree.py`` for the tree it grows) with ``posix_spawn`` as
``<this interpreter> -I -S <boot directory>``, in a new session (its pid is the RUN's
process group), with an empty environment, default signal dispositions and five
descriptors: the command's stdin (a pipe, or ``/dev/null``), the output pipe twice, the
status pipe and a memfd with the step's configuration (``marshal``-ed plain data); any
other descriptor the builder left inheritable is closed by the init before it does
anything else. So nothing of the builder (memory, environment, sockets, credentials)
reaches the RUN, and the cost does not grow with the builder's memory as a ``fork``
would.

Before the command execs, a failure is written to the status pipe as ``kind NUL
message``; end of file without data means the command has exec'd. Kinds: ``nomount``
(mounts refused: fall back to a plain chroot), ``nochroot`` and ``setup``.
"""

from __future__ import annotations

import contextlib
import fcntl
import marshal
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kaniko.errors import BuildError
from kaniko.sandbox.boot.tree import DEFAULT_SIGNALS, ChildFailure

INIT = Path(__file__).resolve().parent / "boot"
"""The init program: a directory with a ``__main__.py``, run by this interpreter."""


@dataclass(frozen=True)
class Child:
    """The parent's handle on a started RUN; ``pid`` is also its process-group id."""

    pid: int
    output: int
    status: int
    stdin: int | None


def _high(fd: int) -> int:
    """``fd`` moved above the five the init gets (so no ``dup2`` clobbers another source)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


def spawn(config: dict[str, Any], *, feed_stdin: bool) -> Child:
    """Start the init with ``config``; the returned fds belong to the caller, who must
    close them."""
    if not sys.executable:
        raise BuildError("RUN: cannot find this Python interpreter to start the RUN's init")
    config = {**config, "parent": os.getpid()}
    out_r, out_w = os.pipe()
    status_r, status_w = os.pipe()
    if feed_stdin:
        in_r, in_w = os.pipe()
    else:
        in_r, in_w = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC), None
    memfd = os.memfd_create("kaniko-run", os.MFD_CLOEXEC)
    theirs = [_high(fd) for fd in (in_r, out_w, status_w, memfd)]
    try:
        data = memoryview(marshal.dumps(config))
        while data:
            data = data[os.write(theirs[3], data) :]
        os.lseek(theirs[3], 0, os.SEEK_SET)
        stdin, output, status, config_fd = theirs
        targets = ((stdin, 0), (output, 1), (output, 2), (status, 3), (config_fd, 4))
        actions = [(os.POSIX_SPAWN_DUP2, fd, target) for fd, target in targets]
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-I", "-S", str(INIT)],
            {},
            file_actions=actions,
            setsid=True,
            setsigdef=DEFAULT_SIGNALS,
        )
    except BaseException:
        for fd in (out_r, status_r, in_w):
            if fd is not None:
                os.close(fd)
        raise
    finally:
        for fd in theirs:
            os.close(fd)
    return Child(pid, out_r, status_r, in_w)


def read_status(child: Child) -> ChildFailure | None:
    """Block until C has exec'd (None) or a child reported a failure."""
    data = b""
    while chunk := os.read(child.status, 4096):
        data += chunk
    os.close(child.status)
    if not data:
        return None
    kind, _, message = data.decode(errors="replace").partition("\0")
    return ChildFailure(kind, message)


def kill_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid`` (gone already is fine)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def stop(child: Child, grace: float = 2.0) -> int:
    """End a RUN early; return the keeper's wait status once it is reaped.

    The keeper is asked (SIGTERM) to kill and reap everything below it, which reaches even
    processes that left the group; if it has not exited within ``grace`` seconds, the
    whole group is killed.
    """
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while not has_exited(child.pid):
        if time.monotonic() > deadline:
            kill_group(child.pid)
            break
        time.sleep(0.005)
    return reap(child)


def has_exited(pid: int) -> bool:
    """Whether child ``pid`` has exited, leaving it unreaped (so its pid stays reserved)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def reap(child: Child) -> int:
    """Wait for the keeper, kill what is left of its group, reap it; its wait status.

    The group is killed while the keeper is an unreaped zombie: its pid, which is the group
    id, cannot have been reused by then.
    """
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    kill_group(child.pid)
    return os.waitpid(child.pid, 0)[1]
