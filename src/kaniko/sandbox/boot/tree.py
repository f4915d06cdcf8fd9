"""The processes of one RUN, all inside the freshly exec'd init program.

::

    kaniko ─ posix_spawn ─ K "keeper"  this program: setsid (its pid is the RUN's group);
                            │          PR_SET_PDEATHSIG; child subreaper;
                            │          unshare(NEWPID NEWUTS NEWIPC) as permitted
                            └─ I "init"  pid 1 of the new pid namespace: file system
                                │        (pivot_root, or chroot), hostname, WORKDIR,
                                │        then no longer dumpable, seccomp, capabilities
                                │        cut; reaps everything; exits with C's status
                                └─ C "command"  stdio, signals, groups/gid/uid, exec

K and I are forks of this small program, never of kaniko: the RUN's pid 1 holds none of
the builder's memory, environment (its own is empty) or descriptors. I drops its
privileges before C exists, so every process of the RUN has at most the container
defaults, and being non-dumpable, I cannot be read or traced through ``/proc/1``.

When C exits, I exits with its status and the kernel kills the rest of the pid
namespace; K kills whatever is left below it (orphans are reparented to K, the
subreaper) and exits with the same status. SIGTERM to K ends the RUN early (exit 143).
A failure before C execs is written to the status pipe (fd 3, close-on-exec) as
``kind NUL message``: ``nomount`` (fall back to a plain chroot), ``nooverlay`` (a ``rw``
bind mount's overlay refused: retry with a copy), ``nonet`` (no private network
namespace for ``RUN --network=none``), ``nochroot`` or ``setup``. A command that cannot
be executed is reported on the output as Docker does, with status 127 (not found) or 126
(not executable).
"""

from __future__ import annotations

import _signal as signal  # type: ignore[import-not-found]  # the C module: ``signal`` imports enum, ~3 ms of start-up
import errno
import os
import stat

TYPE_CHECKING = False  # typing is not imported at run time: it would cost the init ~7 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

try:
    from . import kernel, rootfs, usermounts
except ImportError:  # run as the init program: this directory is sys.path[0]
    import kernel  # type: ignore[no-redef,import-not-found]
    import rootfs  # type: ignore[no-redef,import-not-found]
    import usermounts  # type: ignore[no-redef,import-not-found]

SETUP_FAILED = 125
STATUS_FD = 3
DEFAULT_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE", "SIGXFSZ", "SIGCHLD")
)


class ChildFailure(Exception):
    """A failure to report on the status pipe (``kind`` as in the module docs)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _report(fd: int, kind: str, message: str) -> NoReturn:
    with kernel.suppress(OSError):
        os.write(fd, f"{kind}\0{message}".encode(errors="replace"))
    os._exit(SETUP_FAILED)


def _guarded(fd: list[int], body: Callable[[], None]) -> NoReturn:
    """Run ``body()``; any exception becomes a report on the status fd held in ``fd[0]``."""
    try:
        body()
    except ChildFailure as failure:
        kind, message = failure.kind, str(failure)
    except rootfs.MountsRefused as refused:
        kind, message = "nomount", str(refused)
    except usermounts.OverlayRefused as refused:
        kind, message = "nooverlay", str(refused)
    except BaseException as error:
        kind, message = "setup", str(error) or type(error).__name__
    else:
        os._exit(SETUP_FAILED)
    _report(fd[0], kind, message)


def _default_signals() -> None:
    for signum in DEFAULT_SIGNALS:
        with kernel.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, ())


def _enter_namespaces(config: dict[str, Any]) -> int:
    """Unshare the pid, UTS and IPC namespaces as permitted; the flags that took effect.

    ``RUN --network=none`` needs a network namespace of its own (only loopback, brought
    up): where that is refused the step fails (``nonet``), it never runs with the network.
    """
    if config.get("network") == "none":
        try:
            kernel.unshare(kernel.CLONE_NEWNET)
            kernel.loopback_up()
        except OSError as error:
            raise ChildFailure("nonet", str(error)) from error
    private = kernel.CLONE_NEWUTS | kernel.CLONE_NEWIPC
    attempts = (kernel.CLONE_NEWPID | private, private) if config["mode"] == "full" else (private,)
    for flags in attempts:
        try:
            kernel.unshare(flags)
        except OSError:
            continue
        return flags
    return 0


def keeper(config: dict[str, Any]) -> NoReturn:
    def body() -> None:
        kernel.prctl(kernel.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != config["parent"]:
            os._exit(SETUP_FAILED)  # kaniko died before the death signal was armed
        kernel.prctl(kernel.PR_SET_DUMPABLE, 0)
        _default_signals()
        namespaces = _enter_namespaces(config)
        with kernel.suppress(OSError):
            kernel.prctl(kernel.PR_SET_CHILD_SUBREAPER, 1)
        pid = os.fork()
        if pid == 0:
            _init(config, namespaces)
        os.closerange(0, STATUS_FD + 1)
        signal.signal(signal.SIGTERM, _stop_keeper)
        try:
            code = _reap(pid, everything=False)
        except _Stop:
            code = 128 + signal.SIGTERM
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _kill_descendants()
        os._exit(code)

    _guarded([STATUS_FD], body)


class _Stop(Exception):
    """Raised in the keeper by SIGTERM: kaniko asks it to end the RUN now."""


def _stop_keeper(signum: int, frame: object) -> None:
    raise _Stop


def _init(config: dict[str, Any], namespaces: int) -> NoReturn:
    def body() -> None:
        kernel.prctl(kernel.PR_SET_PDEATHSIG, signal.SIGKILL)
        mode = config["mode"]
        if mode == "full":
            rootfs.enter(config["mounts"])
        if config["hostname"] and namespaces & kernel.CLONE_NEWUTS:  # never the host's
            with kernel.suppress(OSError):
                kernel.sethostname(config["hostname"])
        if mode == "plain":
            try:
                os.chroot(config["root"])
            except OSError as error:
                raise ChildFailure("nochroot", f"chroot: {error.strerror}") from error
            os.chdir("/")
        os.umask(0o022)
        try:
            os.chdir(config["workdir"])
        except OSError as error:
            raise ChildFailure("setup", f"WORKDIR {config['workdir']}: {error.strerror}") from error
        _harden(config)
        pid = os.fork()
        if pid == 0:
            _command(config)
        os.closerange(0, STATUS_FD + 1)
        os._exit(_reap(pid, everything=bool(namespaces & kernel.CLONE_NEWPID)))

    _guarded([STATUS_FD], body)


def _harden(config: dict[str, Any]) -> None:
    """Become non-dumpable, load the seccomp filter, cut the capabilities (runc's order)."""
    kernel.prctl(kernel.PR_SET_DUMPABLE, 0)
    if config["seccomp"]:
        try:
            kernel.load_seccomp(config["seccomp"])
        except OSError as error:
            raise ChildFailure("setup", f"cannot apply the seccomp profile: {error}") from error
    keep = config["capabilities"]
    if keep is None:
        return
    try:
        for cap in config["drop_bounding"]:
            kernel.prctl(kernel.PR_CAPBSET_DROP, cap)
        with kernel.suppress(OSError):  # no ambient set before Linux 4.3
            kernel.prctl(kernel.PR_CAP_AMBIENT, kernel.PR_CAP_AMBIENT_CLEAR_ALL)
        kernel.set_capabilities(keep)
    except OSError as error:
        raise ChildFailure("setup", f"cannot drop capabilities: {error}") from error


def _command(config: dict[str, Any]) -> NoReturn:
    status = [STATUS_FD]

    def body() -> None:
        os.set_inheritable(STATUS_FD, False)
        os.dup2(1, 2)
        os.closerange(STATUS_FD + 1, max(os.sysconf("SC_OPEN_MAX"), 1024))
        _default_signals()
        uid, gid, groups = config["uid"], config["gid"], config["groups"]
        try:
            os.setgroups(list(groups))
            os.setgid(gid)
            os.setuid(uid)
        except OSError as error:
            raise ChildFailure(
                "setup", f"cannot run as uid {uid} gid {gid}: {error.strerror}"
            ) from error
        _exec(config["argv"], config["env"])

    _guarded(status, body)


def _find_executable(name: str, path_env: str) -> tuple[str | None, str]:
    """Go's ``exec.LookPath`` inside the root: (path, "") or (None, Docker's message)."""
    if "/" in name:
        try:
            st = os.stat(name)
        except OSError as error:
            return None, f'exec: "{name}": stat {name}: {(error.strerror or "").lower()}'
        if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
            return None, f'exec: "{name}": permission denied'
        return name, ""
    for directory in path_env.split(":"):
        candidate = f"{directory or '.'}/{name}"
        with kernel.suppress(OSError):
            st = os.stat(candidate)
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
                return candidate, ""
    return None, f'exec: "{name}": executable file not found in $PATH'


def _exec(argv: list[str], env: dict[str, str]) -> NoReturn:
    name = argv[0]
    path, message = _find_executable(name, env.get("PATH", ""))
    code = 127
    if path is not None:
        try:
            os.execve(path, argv, env)
        except OSError as error:
            not_runnable = error.errno in (errno.EACCES, errno.ENOEXEC, errno.EISDIR)
            code = 126 if not_runnable else 127
            message = f'exec: "{name}": {(error.strerror or str(error)).lower()}'
    elif "permission denied" in message:
        code = 126
    with kernel.suppress(OSError):
        os.write(2, f"{message}\n".encode(errors="replace"))
    os._exit(code)


def exit_code(wait_status: int) -> int:
    """An exit status as a shell reports it: the code, or 128 + the signal number."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


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
            with kernel.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with kernel.suppress(ChildProcessError):
            os.waitpid(-1, 0)
