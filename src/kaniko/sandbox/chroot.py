"""RUN in chroot isolation: the public entry point of the sandbox.

:func:`run` executes one :class:`~kaniko.sandbox.spec.RunSpec` against a root directory
(DESIGN.md, "Two ways to run a RUN step", and docs/security.md for what a RUN can reach).
In *full* isolation the RUN is a container as runc makes a default Docker one: its own
mount, pid, UTS and IPC namespaces, ``pivot_root`` into the root with the old root
detached, ``/proc`` with runc's masked and read-only paths, a read-only ``/sys``, a
minimal ``nodev`` ``/dev``, the host's ``resolv.conf``/``hosts``, the 14 default
capabilities, Docker's default seccomp profile, and an init that is a fresh program,
never a fork of kaniko (:mod:`kaniko.sandbox.process`, ``boot/``). Where the kernel
refuses mounts (an unprivileged pod), ``auto`` falls back to a *plain* chroot with
device nodes made by ``mknod`` and without ``CAP_SYS_CHROOT`` (with it, a RUN could climb
out of a plain chroot), and says so once per process in the log; so does a piece of the
hardening this process cannot impose (:mod:`kaniko.sandbox.security`). Mount points and
nodes created only for the RUN are removed afterwards (:mod:`kaniko.sandbox.scaffold`),
so a snapshot never sees them.

Interruption: if the calling thread gets an exception while a RUN is running (SIGINT's
``KeyboardInterrupt``, or whatever a SIGTERM handler raises), every process of the RUN is
killed, its mounts die with it, the scaffold is removed and the exception propagates
unchanged (the CLI maps it to its exit code). :func:`cancel_all`, callable from any thread
(e.g. a signal handler in the main thread while the build runs in another), stops every
running RUN the same way; each of their :func:`run` calls then raises
``BuildError("RUN was interrupted")``. A RUN started under a
:class:`~kaniko.cancel.CancelScope` (a stage of a build whose sibling failed) is stopped
the same way when that scope is cancelled, and no RUN starts in a cancelled scope.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kaniko import cancel
from kaniko.errors import BuildError
from kaniko.fs.users import User, resolve_user
from kaniko.sandbox import process
from kaniko.sandbox.boot.tree import ChildFailure, exit_code
from kaniko.sandbox.mounts import prepare_full, prepare_plain
from kaniko.sandbox.output import LineSplitter, discard, pump
from kaniko.sandbox.placement import RUN_DIR_PREFIX, Placement
from kaniko.sandbox.scaffold import Scaffold
from kaniko.sandbox.security import hardening
from kaniko.sandbox.spec import ISOLATIONS, Isolation, RunSpec, run_environment
from kaniko.sandbox.usermounts import plan_user_mounts
from kaniko.sandbox.workdir import make_workdir

log = logging.getLogger(__name__)

_lock = threading.RLock()  # reentrant: cancel_all may run in a signal handler
_refused: str | None = None  # why mounts were refused, once they were in this process
_overlay_refused: str | None = None  # why a rw bind mount's overlay was refused
_warned_hardening = False
_warned_placement = False
_running: dict[int, threading.Event] = {}


class _MountsRefused(Exception):
    pass


class _OverlayRefused(Exception):
    pass


def run(
    spec: RunSpec,
    *,
    on_output: Callable[[str], None],
    isolation: Isolation = "auto",
) -> int:
    """Run ``spec`` in a chroot of ``spec.root``; return its exit status.

    A process killed by a signal gives ``128 + signal``; a command that cannot be found
    gives 127 (126 when not executable) with Docker's message in the output. Each line of
    the merged stdout/stderr goes to ``on_output`` (without its newline) as it is written.
    Raises :class:`BuildError` for an unknown USER, an impossible WORKDIR, chroot refused
    (pointing at ``--isolation=inplace``), or mounts refused with ``isolation="full"``.
    """
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {ISOLATIONS}, not {isolation!r}")
    spec.check()
    cancel.check()
    root = Path(os.path.realpath(spec.root))
    user = resolve_user(root, spec.user)
    env = run_environment(spec.env, user)
    make_workdir(root, spec.workdir, user)
    full = isolation == "full" or (isolation == "auto" and _refused is None)
    while True:
        try:
            return _attempt(spec, root, user, env, full, on_output)
        except _MountsRefused as refused:
            if isolation == "full":
                raise BuildError(
                    f"RUN: full isolation needs mounts, which this environment refuses: {refused}"
                ) from None
            _note_refused(str(refused))
            full = False
        except _OverlayRefused as refused:
            _note_overlay_refused(str(refused))


def mounts_refused() -> bool:
    """Whether this process found mounts refused (RUN steps then use a plain chroot)."""
    return _refused is not None


def cancel_all() -> None:
    """Stop every RUN in progress; their :func:`run` calls raise :class:`BuildError`.

    Each keeper is sent SIGTERM and kills everything below it (see
    :mod:`kaniko.sandbox.process`). Safe to call from any thread or a signal handler.
    """
    with _lock:
        running = list(_running.items())
    for pid, cancelled in running:
        cancelled.set()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # the keeper kills everything below it and exits


def _note_refused(reason: str) -> None:
    global _refused
    with _lock:
        first = _refused is None
        _refused = reason
    if first:
        log.warning(
            "mounts are not permitted here (%s): RUN steps use a plain chroot, without "
            "/proc and /sys and without CAP_SYS_CHROOT, with device nodes made in the root "
            "and removed afterwards",
            reason,
        )


def _note_overlay_refused(reason: str) -> None:
    global _overlay_refused
    with _lock:
        first = _overlay_refused is None
        _overlay_refused = reason
    if first:
        log.warning(
            "overlay mounts are refused here (%s): RUN --mount=type=bind,rw gets a private "
            "copy of its source instead",
            reason,
        )


def _warn_placement() -> None:
    global _warned_placement
    with _lock:
        first = not _warned_placement
        _warned_placement = True
    if first:
        log.warning(
            "RUN --mount without mount permission: bind sources are hard-linked or copied "
            "into the root and cache directories moved in, for the step only; tmpfs mounts "
            "are directories on disk; read-only binds are checked afterwards, not enforced "
            "(docs/run-mounts.md)"
        )


def step_config(
    spec: RunSpec, root: str, user: User, env: dict[str, str], mode: str
) -> dict[str, Any]:
    """The init's configuration for ``spec`` in ``mode`` (full, plain or inplace), without
    ``mounts``; plain data only (it is ``marshal``-ed)."""
    # With CAP_SYS_CHROOT a RUN climbs out of a plain chroot (the double-chroot escape).
    plan = hardening(frozenset({"CAP_SYS_CHROOT"}) if mode == "plain" else frozenset())
    _warn_hardening(plan.missing)
    return {
        "mode": mode,
        "root": root,
        "argv": list(spec.argv),
        "env": env,
        "uid": user.uid,
        "gid": user.gid,
        "groups": list(user.groups),
        "workdir": spec.workdir,
        "hostname": spec.hostname,
        "network": spec.network,
        "mounts": None,
        "capabilities": plan.capabilities,
        "drop_bounding": list(plan.drop_bounding),
        "seccomp": plan.seccomp,
    }


def _warn_hardening(missing: tuple[str, ...]) -> None:
    global _warned_hardening
    with _lock:
        first = not _warned_hardening and bool(missing)
        _warned_hardening = _warned_hardening or first
    if first:
        log.warning(
            "RUN steps run without %s: this process may not impose it",
            " and without ".join(missing),
        )


def _attempt(
    spec: RunSpec,
    root: Path,
    user: User,
    env: dict[str, str],
    full: bool,
    on_output: Callable[[str], None],
) -> int:
    scaffold = Scaffold()
    private = Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX))
    placement: Placement | None = None
    try:
        config = step_config(spec, str(root), user, env, "full" if full else "plain")
        if full:
            config["mounts"] = prepare_full(root, scaffold, private)
            config["mounts"]["user"] = plan_user_mounts(
                root, spec.mounts, scaffold, private, overlay=_overlay_refused is None
            )
        else:
            if not prepare_plain(root, scaffold):
                log.debug("mknod refused: /dev in the RUN lacks some device nodes")
            if spec.mounts:
                _warn_placement()
                placement = Placement(root, private, scaffold, inplace=False)
                placement.place(spec.mounts)
        child = process.spawn(config, feed_stdin=spec.stdin is not None)
        status = supervise(child, spec, on_output)
        if placement is not None:
            placement.check()
        return status
    finally:
        try:
            if placement is not None:
                placement.undo()
        finally:
            scaffold.undo()
            shutil.rmtree(private, ignore_errors=True)


def supervise(child: process.Child, spec: RunSpec, on_output: Callable[[str], None]) -> int:
    cancelled = threading.Event()
    with _lock:
        _running[child.pid] = cancelled
    with cancel.hook(lambda: _cancel_one(child.pid, cancelled)):
        return _supervise(child, spec, on_output, cancelled)


def _cancel_one(pid: int, cancelled: threading.Event) -> None:
    """Stop the RUN of keeper ``pid`` (its build's scope was cancelled), unless it is
    already being reaped (its pid may be reused then)."""
    with _lock:
        if _running.get(pid) is not cancelled:
            return
        cancelled.set()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # the keeper kills everything below it and exits


def _supervise(
    child: process.Child,
    spec: RunSpec,
    on_output: Callable[[str], None],
    cancelled: threading.Event,
) -> int:
    feeder: threading.Thread | None = None
    stdin = child.stdin
    try:
        failure = process.read_status(child)
        if failure is None:
            if stdin is not None:
                feeder = threading.Thread(
                    target=_feed, args=(stdin, spec.stdin or b""), daemon=True
                )
                stdin = None  # the feeder closes it
                feeder.start()
            pump(child.pid, child.output, LineSplitter(on_output))
        _forget(child.pid)
        status = process.reap(child)
    except BaseException:
        _forget(child.pid)
        with contextlib.suppress(ChildProcessError):
            process.stop(child)
        discard(child.output)
        raise
    finally:
        os.close(child.output)
        if stdin is not None:
            os.close(stdin)
        if feeder is not None:
            feeder.join()
    if cancelled.is_set():
        raise BuildError("RUN was interrupted")
    if failure is not None:
        _raise_failure(failure, spec)
    return exit_code(status)


def _forget(pid: int) -> None:
    """Stop :func:`cancel_all` from signalling ``pid``: it is about to be reaped (reusable)."""
    with _lock:
        _running.pop(pid, None)


def _raise_failure(failure: ChildFailure, spec: RunSpec) -> None:
    if failure.kind == "nomount":
        raise _MountsRefused(str(failure))
    if failure.kind == "nooverlay":
        raise _OverlayRefused(str(failure))
    if failure.kind == "nonet":
        raise BuildError(
            f"RUN --network=none: this environment does not permit a private network "
            f"namespace ({failure}); kaniko does not run the step with the network"
        )
    if failure.kind == "nochroot":
        raise BuildError(
            f"RUN: cannot chroot into {spec.root} ({failure}); this environment forbids "
            "chroot, run kaniko with --isolation=inplace inside its executor image"
        )
    raise BuildError(f"RUN: {failure}")


def _feed(fd: int, data: bytes) -> None:
    """Write ``data`` to the RUN's stdin and close it (the RUN may stop reading early)."""
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError:
        pass
    finally:
        os.close(fd)
