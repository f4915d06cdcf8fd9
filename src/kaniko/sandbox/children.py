"""The code that runs in the forked processes of a RUN (see :mod:`kaniko.sandbox.process`).

:func:`keeper` is the body of A, which forks B (:func:`_init`), which forks C
(:func:`_command`). Everything here runs after ``fork()`` in a copy of kaniko: only
pre-imported code and ``os`` calls, never logging or imports, since the fork also copied
the locks other threads of kaniko may have held. Failures before the exec are reported on
the status pipe; none returns to the caller's code (each ends in ``os._exit``).

The executable is looked up like Go's ``exec.LookPath`` (what Docker uses), inside the
chroot with the RUN's own ``PATH``, and a failure is written to the output in Docker's
words with exit status 127 (not found) or 126 (not executable).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from kaniko.errors import FilesystemError
from kaniko.fs.safepath import resolve_rel
from kaniko.fs.users import User
from kaniko.sandbox import libc, mounts

SETUP_FAILED = 125
"""Exit status of a child that reported a failure on the status pipe."""

_DEFAULT_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE", "SIGXFSZ", "SIGCHLD")
)


class ChildFailure(Exception):
    """A failure reported by the child (``kind`` as in the module docs)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ChildPlan:
    """Everything the children need, computed by the parent before the fork."""

    root: str
    argv: tuple[str, ...]
    env: dict[str, str]
    user: User
    workdir: str
    hostname: str | None
    mounts: mounts.MountPlan | None  # None: a plain chroot


@dataclass(frozen=True)
class Fds:
    """The child's ends of the three pipes (stdin may be ``/dev/null``)."""

    stdin: int
    output: int
    status: int


def exit_code(wait_status: int) -> int:
    """An exit status as a shell reports it: the code, or 128 + the signal number."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def _report(fd: int, kind: str, message: str) -> NoReturn:
    with contextlib.suppress(OSError):
        os.write(fd, f"{kind}\0{message}".encode(errors="replace"))
    os._exit(SETUP_FAILED)


def _guarded(fd: int | list[int], body: Callable[[], None]) -> NoReturn:
    """Run ``body()`` in a child; any exception becomes a report on status fd ``fd``.

    A list holds the fd in its first item, so ``body`` can move the status pipe.
    """
    try:
        body()
    except ChildFailure as failure:
        kind, message = failure.kind, str(failure)
    except mounts.MountsRefused as refused:
        kind, message = "nomount", str(refused)
    except BaseException as error:
        kind, message = "setup", str(error) or type(error).__name__
    else:
        os._exit(SETUP_FAILED)
    _report(fd[0] if isinstance(fd, list) else fd, kind, message)


def _default_signals() -> None:
    for signum in _DEFAULT_SIGNALS:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, ())


def _enter_namespaces(plan: ChildPlan) -> int:
    """Unshare what the mode allows; return the ``CLONE_NEW*`` flags that took effect.

    A RUN gets its own UTS and IPC namespaces where permitted, so ``hostname`` or SysV IPC
    inside it cannot touch the host's.
    """
    private = libc.CLONE_NEWUTS | libc.CLONE_NEWIPC
    if plan.mounts is None:
        try:
            libc.unshare(private)
        except OSError:
            return 0
        return private
    attempts = (
        libc.CLONE_NEWNS | libc.CLONE_NEWPID | private,
        libc.CLONE_NEWNS | private,
        libc.CLONE_NEWNS,
    )
    refusal = ""
    for flags in attempts:
        try:
            libc.unshare(flags)
        except OSError as refused:
            refusal = str(refused)
            continue
        return flags
    raise mounts.MountsRefused(refusal)


def keeper(plan: ChildPlan, parent: int, fds: Fds) -> NoReturn:
    def body() -> None:
        os.setsid()
        libc.set_parent_death_signal(signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(SETUP_FAILED)  # kaniko died before the death signal was armed
        _default_signals()
        namespaces = _enter_namespaces(plan)
        with contextlib.suppress(OSError):
            libc.set_child_subreaper()
        pid = os.fork()
        if pid == 0:
            _init(plan, fds, namespaces)
        for fd in (fds.status, fds.output, fds.stdin):
            os.close(fd)
        signal.signal(signal.SIGTERM, _stop_keeper)
        try:
            code = _reap(pid, everything=False)
        except _Stop:
            code = 128 + signal.SIGTERM
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _kill_descendants()
        os._exit(code)

    _guarded(fds.status, body)


class _Stop(Exception):
    """Raised in the keeper by SIGTERM: kaniko asks it to end the RUN now."""


def _stop_keeper(signum: int, frame: object) -> None:
    raise _Stop


def _init(plan: ChildPlan, fds: Fds, namespaces: int) -> NoReturn:
    def body() -> None:
        libc.set_parent_death_signal(signal.SIGKILL)
        if plan.mounts is not None:
            mounts.apply(plan.mounts)
        if plan.hostname and namespaces & libc.CLONE_NEWUTS:  # never the host's name
            with contextlib.suppress(OSError):
                libc.sethostname(plan.hostname)
        try:
            if plan.root != "/":  # in place: already there, and CAP_SYS_CHROOT may be absent
                os.chroot(plan.root)
        except OSError as error:
            raise ChildFailure("nochroot", f"chroot: {error.strerror}") from error
        os.chdir("/")
        os.umask(0o022)
        _make_workdir(plan.workdir, plan.user)
        pid = os.fork()
        if pid == 0:
            _command(plan, fds)
        for fd in (fds.status, fds.output, fds.stdin):
            os.close(fd)
        os._exit(_reap(pid, everything=bool(namespaces & libc.CLONE_NEWPID)))

    _guarded(fds.status, body)


def _make_workdir(workdir: str, user: User) -> None:
    """Create the missing directories of ``workdir`` owned by the user, and enter it.

    Runs inside the chroot, so symlinks (dangling ones too) resolve within the root.
    """
    try:
        resolved = resolve_rel("/", workdir)
    except FilesystemError as error:
        raise ChildFailure("setup", f"WORKDIR {workdir}: {error}") from error
    current = ""
    for part in resolved.split("/") if resolved else ():
        current += "/" + part
        try:
            os.mkdir(current, 0o755)
        except FileExistsError:
            continue
        except OSError as error:
            raise ChildFailure("setup", f"WORKDIR {workdir}: {error.strerror}") from error
        os.chown(current, user.uid, user.gid)
    try:
        os.chdir(workdir)
    except OSError as error:
        raise ChildFailure("setup", f"WORKDIR {workdir}: {error.strerror}") from error


def _command(plan: ChildPlan, fds: Fds) -> NoReturn:
    status = [fds.status]

    def body() -> None:
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (fds.stdin, fds.output)]
        status[0] = fcntl.fcntl(fds.status, fcntl.F_DUPFD_CLOEXEC, 10)
        os.dup2(high[0], 0)
        os.dup2(high[1], 1)
        os.dup2(high[1], 2)
        os.dup2(status[0], 3, inheritable=False)
        status[0] = 3
        os.closerange(4, max(os.sysconf("SC_OPEN_MAX"), 1024))
        _default_signals()
        user = plan.user
        try:
            os.setgroups(list(user.groups))
            os.setgid(user.gid)
            os.setuid(user.uid)
        except OSError as error:
            raise ChildFailure(
                "setup", f"cannot run as uid {user.uid} gid {user.gid}: {error.strerror}"
            ) from error
        _exec(plan.argv, plan.env)

    _guarded(status, body)


def _find_executable(name: str, path_env: str) -> tuple[str | None, str]:
    """Go's ``exec.LookPath`` inside the chroot: (path, "") or (None, Docker's message)."""
    if "/" in name:
        try:
            st = os.stat(name)
        except OSError as error:
            return None, f'exec: "{name}": stat {name}: {error.strerror.lower()}'
        if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
            return None, f'exec: "{name}": permission denied'
        return name, ""
    for directory in path_env.split(":"):
        candidate = f"{directory or '.'}/{name}"
        with contextlib.suppress(OSError):
            st = os.stat(candidate)
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
                return candidate, ""
    return None, f'exec: "{name}": executable file not found in $PATH'


def _exec(argv: tuple[str, ...], env: dict[str, str]) -> NoReturn:
    name = argv[0]
    path, message = _find_executable(name, env.get("PATH", ""))
    code = 127
    if path is not None:
        try:
            os.execve(path, list(argv), env)
        except OSError as error:
            not_runnable = error.errno in (errno.EACCES, errno.ENOEXEC, errno.EISDIR)
            code = 126 if not_runnable else 127
            message = f'exec: "{name}": {(error.strerror or str(error)).lower()}'
    elif "permission denied" in message:
        code = 126
    with contextlib.suppress(OSError):
        os.write(2, f"{message}\n".encode(errors="replace"))
    os._exit(code)


def _reap(child: int, *, everything: bool) -> int:
    """Wait for ``child`` (reaping any other child on the way when ``everything``)."""
    while True:
        try:
            pid, status = os.waitpid(-1 if everything else child, 0)
        except ChildProcessError:
            return SETUP_FAILED
        if pid == child:
            return exit_code(status)


def _kill_descendants() -> None:
    """SIGKILL and reap every process left below this one (it is a child subreaper)."""
    me = os.getpid()
    children = f"/proc/{me}/task/{me}/children"
    for _ in range(10_000):
        try:
            with open(children) as listing:
                pids = [int(p) for p in listing.read().split()]
        except OSError:
            return
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(-1, 0)
