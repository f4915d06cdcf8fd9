"""Helpers of the escape tests: tiny static x86_64 programs that make raw system calls.

busybox has no ``ptrace``, no ``finit_module`` and no way to ``chroot`` without entering
the new root, so the escape attempts that need those are made by programs written here:
an ELF executable of a few hundred bytes (no libc, no loader) that makes a list of
system calls and exits with the ``errno`` of the last one (0 when it succeeded). An
argument is an integer, a string (passed as a pointer to its NUL-terminated bytes) or
:data:`ARGV1`, the decimal number given as the program's first argument.
"""

from __future__ import annotations

import os
import platform
import struct
from collections.abc import Sequence

import pytest

ARGV1 = object()
"""An argument taking the program's first command-line argument, read as a decimal."""

BASE = 0x400000
_HEADERS = 64 + 56
# mov <register>, imm64 ; mov <register>, rbx (the parsed ARGV1)
_MOV_IMM = (b"\x48\xbf", b"\x48\xbe", b"\x48\xba", b"\x49\xba", b"\x49\xb8", b"\x49\xb9")
_MOV_RBX = (b"\x48\x89\xdf", b"\x48\x89\xde", b"\x48\x89\xda", b"\x49\x89\xda", b"\x49\x89\xd8")
_ATOI = bytes.fromhex(
    "488b742410"  # mov rsi, [rsp+16]      argv[1]
    "31c0"  # xor eax, eax
    "0fb60e"  # L: movzx ecx, byte [rsi]
    "85c9"  # test ecx, ecx
    "740d"  # jz D
    "83e930"  # sub ecx, '0'
    "6bc00a"  # imul eax, eax, 10
    "01c8"  # add eax, ecx
    "48ffc6"  # inc rsi
    "ebec"  # jmp L
    "89c3"  # D: mov ebx, eax
)
_EXIT_WITH_ERRNO = bytes.fromhex(
    "4885c0"  # test rax, rax
    "7908"  # jns ok
    "48f7d8"  # neg rax
    "4889c7"  # mov rdi, rax
    "eb02"  # jmp out
    "31ff"  # ok: xor edi, edi
    "b83c000000"  # out: mov eax, 60 (exit)
    "0f05"  # syscall
)

SYS = {
    "access": 21, "chdir": 80, "mkdir": 83, "mknod": 133, "chroot": 161, "mount": 165,
    "init_module": 175, "finit_module": 313, "ptrace": 101, "unshare": 272,
}  # fmt: skip
PTRACE_ATTACH = 16
PTRACE_SEIZE = 0x4206


def require_x86_64() -> None:
    if platform.machine() != "x86_64":
        pytest.skip("the escape probes are x86_64 programs")


def syscall_program(calls: Sequence[tuple[str, Sequence[object]]]) -> bytes:
    """An x86_64 ELF executable making ``calls`` (name, arguments) in order, then exiting
    with the errno of the last (0 on success)."""
    strings: list[bytes] = []
    code_parts: list[bytes | tuple[int, int]] = []  # (register, string index) to patch
    uses_argv = any(arg is ARGV1 for _, args in calls for arg in args)
    if uses_argv:
        code_parts.append(_ATOI)
    for name, args in calls:
        for register, arg in enumerate(args):
            if arg is ARGV1:
                code_parts.append(_MOV_RBX[register])
            elif isinstance(arg, (bytes, str)):
                raw = os.fsencode(arg) if isinstance(arg, str) else arg
                strings.append(raw + b"\0")
                code_parts.append((register, len(strings) - 1))
            else:
                code_parts.append(_MOV_IMM[register] + struct.pack("<q", int(arg)))  # type: ignore[call-overload]
        code_parts.append(b"\x48\xb8" + struct.pack("<Q", SYS[name]) + b"\x0f\x05")
    code_parts.append(_EXIT_WITH_ERRNO)
    code_size = sum(10 if isinstance(p, tuple) else len(p) for p in code_parts)
    offsets, data = [], b""
    for raw in strings:
        offsets.append(BASE + _HEADERS + code_size + len(data))
        data += raw
    code = b"".join(
        _MOV_IMM[p[0]] + struct.pack("<Q", offsets[p[1]]) if isinstance(p, tuple) else p
        for p in code_parts
    )
    size = _HEADERS + len(code) + len(data)
    header = struct.pack(
        "<4sBBBB8sHHIQQQIHHHHHH",
        b"\x7fELF", 2, 1, 1, 0, b"", 2, 0x3E, 1, BASE + _HEADERS, 64, 0, 0, 64, 56, 1, 0, 0, 0,
    )  # fmt: skip
    program_header = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, size, size, 0x1000)
    return header + program_header + code + data
