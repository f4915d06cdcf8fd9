"""The simulated pod's runtime config: capabilities, seccomp conversion, mounts, paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.pod.runtime import (
    DEFAULT_CAPABILITIES,
    MASKED_PATHS,
    SECCOMP_PROFILE,
    Volume,
    kubelet_files,
    oci_seccomp,
    pod_config,
)

PROFILE = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 38,
    "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    ],
    "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "includes": {}, "excludes": {}},
        {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
        {"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
         "excludes": {"caps": ["CAP_SYS_CHROOT"]}},
        {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
        {"names": ["future_call"], "action": "SCMP_ACT_ALLOW",
         "includes": {"minKernel": "99.0"}},
    ],
}  # fmt: skip


def _names(seccomp: dict) -> list[tuple[str, str]]:
    return [(name, rule["action"]) for rule in seccomp["syscalls"] for name in rule["names"]]


def test_rules_follow_the_granted_capabilities_and_architecture() -> None:
    pod = oci_seccomp(PROFILE, DEFAULT_CAPABILITIES, machine="x86_64")
    assert pod["defaultAction"] == "SCMP_ACT_ERRNO" and pod["defaultErrnoRet"] == 38
    assert pod["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    assert _names(pod) == [
        ("read", "SCMP_ACT_ALLOW"), ("write", "SCMP_ACT_ALLOW"), ("chroot", "SCMP_ACT_ALLOW"),
        ("arch_prctl", "SCMP_ACT_ALLOW"), ("personality", "SCMP_ACT_ALLOW"),
    ]  # fmt: skip
    assert pod["syscalls"][-1]["args"] == [
        {"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}
    ]
    no_chroot = [c for c in DEFAULT_CAPABILITIES if c != "CAP_SYS_CHROOT"]
    arm = oci_seccomp(PROFILE, no_chroot, machine="aarch64")
    assert arm["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert ("chroot", "SCMP_ACT_ERRNO") in _names(arm)
    assert [r["errnoRet"] for r in arm["syscalls"] if r["names"] == ["chroot"]] == [1]
    assert "arch_prctl" not in dict(_names(arm))


def test_the_installed_profile_converts(tmp_path: Path) -> None:
    if not SECCOMP_PROFILE.is_file():
        pytest.skip(f"{SECCOMP_PROFILE} is not installed")
    pod = oci_seccomp(json.loads(SECCOMP_PROFILE.read_text()), DEFAULT_CAPABILITIES)
    allowed = {name for name, action in _names(pod) if action == "SCMP_ACT_ALLOW"}
    assert {"chroot", "mknodat", "setuid", "openat", "execve"} <= allowed
    assert not {"bpf", "init_module", "kexec_load", "open_by_handle_at"} & allowed


def test_pod_config_is_a_default_pods(tmp_path: Path) -> None:
    umoci = {
        "process": {"args": ["/kaniko/executor"], "capabilities": {"bounding": ["CAP_KILL"]},
                    "noNewPrivileges": True, "rlimits": [{"type": "RLIMIT_NOFILE"}]},
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": "network"}, {"type": "pid"}]},
    }  # fmt: skip
    volumes = [*kubelet_files(tmp_path / "kubelet"), Volume(tmp_path, "/workspace")]
    spec = pod_config(umoci, ["/kaniko/executor", "--help"], volumes, {"defaultAction": "x"})
    caps = spec["process"]["capabilities"]
    assert caps["bounding"] == caps["effective"] == caps["permitted"] == list(DEFAULT_CAPABILITIES)
    assert caps["inheritable"] == caps["ambient"] == []
    assert len(DEFAULT_CAPABILITIES) == 14 and "CAP_SYS_ADMIN" not in DEFAULT_CAPABILITIES
    assert spec["process"]["noNewPrivileges"] is False and "rlimits" not in spec["process"]
    assert [n["type"] for n in spec["linux"]["namespaces"]] == ["pid", "ipc", "uts", "mount"]
    assert spec["linux"]["maskedPaths"] == list(MASKED_PATHS)
    assert "/proc/sys" in spec["linux"]["readonlyPaths"]
    mounts = {m["destination"]: m for m in spec["mounts"]}
    assert {"/proc", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/workspace"} <= set(mounts)
    assert "ro" in mounts["/workspace"]["options"] and "rw" in mounts["/etc/hosts"]["options"]
    assert spec["process"]["args"] == ["/kaniko/executor", "--help"]
