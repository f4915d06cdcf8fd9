"""The process tree of one RUN, forked from kaniko.

::

    kaniko ── A "keeper"  setsid (its pid is the RUN's process group); PR_SET_PDEATHSIG;
               │          child subreaper; unshare(NEWNS NEWPID NEWUTS NEWIPC) as permitted
               └─ B "init"  pid 1 of the new pid namespace when there is one; mounts,
                   │        hostname, chroot, WORKDIR; reaps everything; exits with C
                   └─ C "command"  stdio, signals, groups/gid/uid, exec

When C exits, B exits with C's status; with a pid namespace the kernel then kills every
process left in it. A kills whatever is left below it (orphans are reparented to A, the
subreaper) and exits with the same status; kaniko finally kills the whole process group.
To end a RUN early kaniko sends A SIGTERM (:func:`stop`): A kills B and everything below
itself the same way, and exits with 143.
So a daemon started by a RUN never outlives it, and the mount namespace, which only these
processes hold, dies with them.

Before C execs, a failure in A, B or C is written to a close-on-exec *status pipe* as
``kind NUL message``; end of file on it without data means C has exec'd. Kinds:
``nomount`` (mounts refused: fall back to a plain chroot), ``nochroot`` and ``setup``.
A command that cannot be exec'd is reported on the output like Docker does, with exit 127
(not found) or 126 (not executable).

This module is kaniko's side (start, wait, stop); what runs in A, B and C is in
:mod:`kaniko.sandbox.children`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

from kaniko.sandbox.children import SETUP_FAILED, ChildFailure, ChildPlan, Fds, keeper


@dataclass(frozen=True)
class Child:
    """The parent's handle on a started RUN; ``pid`` is also its process-group id."""

    pid: int
    output: int
    status: int
    stdin: int | None


def spawn(plan: ChildPlan, *, feed_stdin: bool) -> Child:
    """Fork the keeper A; the returned fds belong to the caller, who must close them."""
    out_r, out_w = os.pipe()
    status_r, status_w = os.pipe()
    if feed_stdin:
        in_r, in_w = os.pipe()
    else:
        in_r, in_w = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC), None
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (out_r, status_r, in_w):
                if fd is not None:
                    os.close(fd)
            keeper(plan, parent, Fds(in_r, out_w, status_w))
        finally:
            os._exit(SETUP_FAILED)
    for fd in (out_w, status_w, in_r):
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
