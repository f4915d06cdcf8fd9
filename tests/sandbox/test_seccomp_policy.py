"""The RUN's seccomp policy (Docker's default) and its compilation to BPF.

The policy is compared with the containers-common profile that Debian ships (podman's,
the one the pod simulation converts): Docker's choices are the stricter ones, listed
here one by one so that any drift is a visible test change.
"""

from __future__ import annotations

import json
import struct

import pytest

from kaniko.sandbox.profile import ALLOW, rules
from kaniko.sandbox.seccomp import compile_policy
from kaniko.sandbox.security import DEFAULT_CAPABILITIES
from tests.e2e.pod.runtime import SECCOMP_PROFILE, oci_seccomp

STRICTER_THAN_PODMAN = {
    # namespaces, mounts and kernel tracing need CAP_SYS_ADMIN (clone only without
    # namespace flags, clone3 gets ENOSYS); podman leaves these to the capability checks
    "clone", "clone3", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr",
    "move_mount", "open_tree", "pivot_root", "setns", "umount", "umount2", "unshare",
    "syslog", "reboot", "keyctl", "pidfd_getfd", "get_mempolicy", "mbind", "set_mempolicy",
    # socket: allowed except for AF_VSOCK; legacy i386 calls Docker never allowed
    "socket", "readdir", "sigaction", "signal", "sigpending", "sigsuspend", "syscall",
    "timerfd",
}  # fmt: skip
LOOSER_THAN_PODMAN = {"futex_waitv", "io_pgetevents", "io_pgetevents_time64", "vmsplice"}


def _unconditional(names_and_rules: list[tuple[set[str], bool]]) -> set[str]:
    return set().union(*(names for names, conditional in names_and_rules if not conditional))


def test_policy_is_dockers_next_to_podmans() -> None:
    if not SECCOMP_PROFILE.is_file():
        pytest.skip(f"{SECCOMP_PROFILE} is missing")
    podman = oci_seccomp(json.loads(SECCOMP_PROFILE.read_text()), sorted(DEFAULT_CAPABILITIES))
    theirs = _unconditional(
        [(set(r["names"]), bool(r.get("args"))) for r in podman["syscalls"]
         if r["action"] == "SCMP_ACT_ALLOW"]
    )  # fmt: skip
    ours = rules(DEFAULT_CAPABILITIES, "x86_64")
    allowed = _unconditional(
        [(set(r.names), bool(r.conditions)) for r in ours if r.action == ALLOW]
    )
    assert theirs - allowed == STRICTER_THAN_PODMAN
    assert allowed - theirs == LOOSER_THAN_PODMAN
    for name in ("io_uring_setup", "init_module", "finit_module", "kexec_load", "bpf", "ptrace"):
        assert (name in allowed) == (name == "ptrace"), name


def test_capabilities_open_their_system_calls() -> None:
    def allowed(caps: frozenset[str]) -> set[str]:
        return {n for r in rules(caps, "x86_64") if r.action == ALLOW and not r.conditions
                for n in r.names}  # fmt: skip

    base = allowed(DEFAULT_CAPABILITIES)
    assert "chroot" in base  # CAP_SYS_CHROOT is a default
    without_chroot = allowed(DEFAULT_CAPABILITIES - {"CAP_SYS_CHROOT"})
    assert base - without_chroot == {"chroot"}
    admin = allowed(DEFAULT_CAPABILITIES | {"CAP_SYS_ADMIN"})
    assert {"mount", "unshare", "setns", "clone", "clone3"} <= admin - base
    clone_rules = [r for r in rules(DEFAULT_CAPABILITIES, "x86_64") if "clone" in r.names]
    assert [c.op for r in clone_rules for c in r.conditions] == ["masked_eq"]


def _instructions(program: bytes) -> list[tuple[int, int, int, int]]:
    return [struct.unpack_from("<HBBI", program, i) for i in range(0, len(program), 8)]


def test_compiled_program_checks_the_architecture_and_ends_in_the_default() -> None:
    program = compile_policy(DEFAULT_CAPABILITIES, "x86_64")
    assert program and len(program) % 8 == 0
    code = _instructions(program)
    assert len(code) < 4096  # the kernel's BPF_MAXINSNS
    # x86_64, i386 and x32 are all named: AUDIT_ARCH_X86_64, AUDIT_ARCH_I386
    constants = {k for _, _, _, k in code}
    assert {0xC000003E, 0x40000003} <= constants
    returns = {k for op, _, _, k in code if op == 0x06}  # BPF_RET | BPF_K
    assert 0x7FFF0000 in returns  # SECCOMP_RET_ALLOW
    assert 0x00050001 in returns  # SECCOMP_RET_ERRNO | EPERM, the default
    assert 0x00050026 in returns  # SECCOMP_RET_ERRNO | ENOSYS, for clone3
    # cached per set of capabilities: compiled once per builder process
    assert compile_policy(DEFAULT_CAPABILITIES, "x86_64") is program
    assert compile_policy(DEFAULT_CAPABILITIES | {"CAP_SYS_ADMIN"}, "x86_64") != program
