"""Compiling the default seccomp policy (:mod:`kaniko.sandbox.profile`) to a BPF program.

libseccomp does the compiling, as it does for runc and crun: it knows every
architecture's system call numbers, adds the 32-bit compatibility ABIs (a RUN may
execute an i386 binary on x86_64), splits 64-bit argument comparisons and checks the
architecture word first. It is called through :mod:`ctypes` here (its Python binding is
a Debian package that cannot be installed into a virtual environment), once per builder
process and set of capabilities, in kaniko's own process: the RUN's init only loads the
finished program with ``prctl(PR_SET_SECCOMP)`` (see ``boot/kernel.py``), so it never
loads the library or parses the policy.

``libseccomp.so.2`` is in every Debian and Ubuntu (apt needs it) and the executor image
carries it in ``/kaniko/lib``; where it is missing, :func:`compile_policy` raises
:class:`SeccompUnavailable` and RUN steps run without a filter, with a warning.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Iterable

from kaniko.sandbox.profile import ALLOW, DEFAULT_ERRNO, Condition, rules

LIBRARY = "libseccomp.so.2"

_ACT_ALLOW = 0x7FFF0000
_ACT_ERRNO = 0x00050000
_CMP = {"ne": 1, "eq": 4, "masked_eq": 7}
_SUB_ARCHES = {"x86_64": ("x86", "x32"), "aarch64": ("arm",), "s390x": ("s390",)}
_NR_SCMP_ERROR = -1


class SeccompUnavailable(Exception):
    """libseccomp is missing or refused the policy: no filter can be built here."""


class _ArgCmp(ctypes.Structure):
    _fields_ = (
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    )


@functools.cache
def _library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(LIBRARY, use_errno=True)
    except OSError as error:
        raise SeccompUnavailable(f"{LIBRARY} not found ({error})") from None
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.restype = None
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp),
    ]  # fmt: skip
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def _action(action: str | int) -> int:
    return _ACT_ALLOW if action == ALLOW else _ACT_ERRNO | (int(action) & 0xFFFF)


def _conditions(conditions: tuple[Condition, ...]) -> ctypes.Array[_ArgCmp]:
    array = (_ArgCmp * max(len(conditions), 1))()
    for slot, cond in zip(array, conditions, strict=False):
        slot.arg, slot.op = cond.index, _CMP[cond.op]
        slot.datum_a, slot.datum_b = (
            (cond.mask, cond.value) if cond.op == "masked_eq" else (cond.value, 0)
        )
    return array


@functools.cache
def compile_policy(capabilities: frozenset[str], machine: str | None = None) -> bytes:
    """The BPF program (``struct sock_filter`` array) of the default policy for a process
    with ``capabilities`` on ``machine`` (the native architecture by default)."""
    lib = _library()
    machine = machine or os.uname().machine
    ctx = lib.seccomp_init(_action(DEFAULT_ERRNO))
    if not ctx:
        raise SeccompUnavailable("seccomp_init failed")
    try:
        for arch in _SUB_ARCHES.get(machine, ()):
            token = lib.seccomp_arch_resolve_name(arch.encode())
            if token:
                lib.seccomp_arch_add(ctx, token)  # -EEXIST is fine
        for rule in rules(capabilities, machine):
            _add_rule(lib, ctx, rule.names, _action(rule.action), rule.conditions)
        return _export(lib, ctx)
    finally:
        lib.seccomp_release(ctx)


def _add_rule(
    lib: ctypes.CDLL, ctx: int, names: Iterable[str], action: int, conds: tuple[Condition, ...]
) -> None:
    array = _conditions(conds)
    for name in names:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number == _NR_SCMP_ERROR:
            continue  # unknown to this libseccomp: stays at the default action
        result = lib.seccomp_rule_add_array(ctx, action, number, len(conds), array)
        if result < 0 and result != -13:  # -EACCES: same as the default action, a no-op
            raise SeccompUnavailable(f"libseccomp refused the rule for {name}: error {-result}")


def _export(lib: ctypes.CDLL, ctx: int) -> bytes:
    fd = os.memfd_create("kaniko-seccomp", os.MFD_CLOEXEC)
    try:
        result = lib.seccomp_export_bpf(ctx, fd)
        if result < 0:
            raise SeccompUnavailable(f"seccomp_export_bpf failed: error {-result}")
        size = os.lseek(fd, 0, os.SEEK_END)
        program = os.pread(fd, size, 0)
    finally:
        os.close(fd)
    if not program or len(program) % 8:
        raise SeccompUnavailable("libseccomp exported no BPF program")
    return program
