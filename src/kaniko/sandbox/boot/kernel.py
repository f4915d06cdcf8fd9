"""The Linux system calls the RUN init needs that Python 3.11's ``os`` module lacks.

``unshare``, ``mount``, ``umount2``, ``pivot_root``, ``sethostname``, ``prctl``, ``capset``,
loading a seccomp filter and bringing a new network namespace's loopback up, through
:mod:`ctypes` on the C library already mapped into the process. Every wrapper raises
:class:`OSError` with the call's ``errno`` on failure. Standard library only: this module
runs in the init (see the package docs) and is also imported by the tests.
"""

from __future__ import annotations

import ctypes
import os

TYPE_CHECKING = False  # typing is not imported at run time (the init's start-up time)
if TYPE_CHECKING:
    from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_SHARED = 0x100000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000

MNT_DETACH = 0x2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2

_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "s390x": 217, "ppc64le": 203}

_libc = ctypes.CDLL(None, use_errno=True)


def _fn(name: str, argtypes: list[type], restype: type = ctypes.c_int) -> Any:
    fn = getattr(_libc, name)
    fn.argtypes = argtypes
    fn.restype = restype
    return fn


_c = ctypes
_unshare = _fn("unshare", [_c.c_int])
_mount = _fn("mount", [_c.c_char_p, _c.c_char_p, _c.c_char_p, _c.c_ulong, _c.c_char_p])
_umount2 = _fn("umount2", [_c.c_char_p, _c.c_int])
_sethostname = _fn("sethostname", [_c.c_char_p, _c.c_size_t])
_prctl = _fn("prctl", [_c.c_int, _c.c_ulong, _c.c_ulong, _c.c_ulong, _c.c_ulong])
_capset = _fn("capset", [_c.c_void_p, _c.c_void_p])
_syscall = _fn("syscall", [_c.c_long, _c.c_char_p, _c.c_char_p], _c.c_long)


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


class suppress:
    """``contextlib.suppress``: ignore the given exceptions in a ``with`` block."""

    def __init__(self, *exceptions: type[BaseException]) -> None:
        self._exceptions = exceptions

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, value: object, tb: object) -> bool:
        return kind is not None and issubclass(kind, self._exceptions)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _bytes(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def unshare(flags: int) -> None:
    """Move the calling process into new namespaces (``CLONE_NEW*`` flags)."""
    _check(_unshare(flags), "unshare")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None
) -> None:
    """``mount(2)``; ``source``/``fstype``/``data`` may be None where the kernel allows."""
    result = _mount(_bytes(source), _bytes(target), _bytes(fstype), flags, _bytes(data))
    _check(result, f"mount {fstype or 'bind'} on {target}")


def umount(target: str, flags: int = MNT_DETACH) -> None:
    """``umount2(2)``, lazily by default."""
    _check(_umount2(os.fsencode(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    """``pivot_root(2)`` (glibc has no wrapper)."""
    number = _SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(38, f"pivot_root: unknown system call number on {os.uname().machine}")
    _check(_syscall(number, os.fsencode(new_root), os.fsencode(put_old)), "pivot_root")


def sethostname(name: str) -> None:
    """Set the host name of the calling process's UTS namespace."""
    raw = name.encode()
    _check(_sethostname(raw, len(raw)), "sethostname")


def prctl(option: int, arg2: int = 0, arg3: int = 0, what: str = "prctl") -> None:
    """``prctl(2)`` with up to two arguments."""
    _check(_prctl(option, arg2, arg3, 0, 0), what)


def set_capabilities(keep: int) -> None:
    """Set the effective and permitted sets to ``keep`` (a bit mask), inheritable to none."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)(
        _CapData(keep & 0xFFFFFFFF, keep & 0xFFFFFFFF, 0),
        _CapData(keep >> 32, keep >> 32, 0),
    )
    _check(_capset(ctypes.addressof(header), ctypes.addressof(data)), "capset")


def load_seccomp(program: bytes) -> None:
    """Install the classic-BPF seccomp filter ``program`` (``struct sock_filter`` array).

    Without ``no_new_privs`` (which Docker does not set) the kernel requires
    ``CAP_SYS_ADMIN`` for this.
    """
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), "seccomp")


_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = "16sH22x"  # struct ifreq: the name, then ifr_flags in a 24-byte union


def loopback_up() -> None:
    """Bring the loopback interface of this network namespace up (a new one starts down)."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(sock.fileno(), _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock.fileno(), _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))
