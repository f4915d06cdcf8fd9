"""A Kubernetes pod's container, simulated with crun: the runtime config a kubelet asks for.

A default pod (no ``securityContext``) on containerd gets: not privileged; the containerd
default capabilities in the bounding, effective and permitted sets (inheritable and
ambient empty); ``RuntimeDefault`` seccomp; runc's masked and read-only paths; private
pid, ipc, uts and mount namespaces; ``/proc``, a tmpfs ``/dev``, a read-only ``/sys``; and
from the kubelet itself bind mounts of ``/etc/hosts``, ``/etc/hostname``,
``/etc/resolv.conf`` and ``/dev/termination-log``, plus the pod's volumes. The image's
user runs the entrypoint; no-new-privileges stays off (``allowPrivilegeEscalation``
defaults to true).

:func:`pod_config` rewrites the config ``umoci unpack`` generated into exactly that, with
the seccomp profile converted from the containers-common JSON format (the one Docker and
podman ship, ``/usr/share/containers/seccomp.json``) by :func:`oci_seccomp`. The network
namespace is the host's (``hostNetwork: true``) so the lab registry on loopback is
reachable. :func:`run_pod` starts it with crun and returns what it printed.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.lab.crun import run_bundle, unpack_bundle

SECCOMP_PROFILE = Path("/usr/share/containers/seccomp.json")
POD_NAME = "kaniko-build"
DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)  # fmt: skip
"""containerd's default set (``oci.WithDefaultSpec``), which every non-privileged pod gets."""
MASKED_PATHS = (
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
    "/proc/scsi", "/sys/devices/virtual/powercap",
)  # fmt: skip
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
NAMESPACES = ("pid", "ipc", "uts", "mount")  # no "network": hostNetwork
_SECCOMP_ARCHES = {
    "x86_64": ("SCMP_ARCH_X86_64", "amd64"),
    "aarch64": ("SCMP_ARCH_AARCH64", "arm64"),
}


@dataclass(frozen=True)
class Volume:
    """A pod volume: ``source`` on the host bound at ``target``, read-only unless ``writable``."""

    source: Path
    target: str
    writable: bool = False


def _kernel_at_least(minimum: str) -> bool:
    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split("-")[0].split(".")[:2] if p.isdigit())

    return parts(platform.release()) >= parts(minimum)


def oci_seccomp(
    profile: Mapping[str, Any], capabilities: Sequence[str], machine: str | None = None
) -> dict[str, Any]:
    """``profile`` (containers-common format) as the ``linux.seccomp`` of an OCI config.

    As the runtimes' own converters do: the native architecture with its sub-architectures;
    a rule applies when all of its ``includes.caps`` are granted, its ``includes.arches``
    name this architecture and the kernel is at least ``includes.minKernel``, and none of
    its ``excludes.caps`` is granted nor its ``excludes.arches`` this architecture.
    """
    scmp_arch, go_arch = _SECCOMP_ARCHES[machine or platform.machine()]
    granted = set(capabilities)
    arches: list[str] = []
    for entry in profile.get("archMap", ()):
        if entry["architecture"] == scmp_arch:
            arches = [scmp_arch, *entry.get("subArchitectures", ())]
    rules = []
    for rule in profile["syscalls"]:
        include, exclude = rule.get("includes") or {}, rule.get("excludes") or {}
        if not granted.issuperset(include.get("caps", ())):
            continue
        if include.get("arches") and go_arch not in include["arches"]:
            continue
        if include.get("minKernel") and not _kernel_at_least(include["minKernel"]):
            continue
        if granted.intersection(exclude.get("caps", ())) or go_arch in exclude.get("arches", ()):
            continue
        converted: dict[str, Any] = {"names": list(rule["names"]), "action": rule["action"]}
        if rule.get("args"):
            converted["args"] = [
                {"index": a["index"], "value": a["value"], "valueTwo": a.get("valueTwo", 0),
                 "op": a["op"]}
                for a in rule["args"]
            ]  # fmt: skip
        if rule.get("errnoRet") is not None:
            converted["errnoRet"] = rule["errnoRet"]
        rules.append(converted)
    seccomp: dict[str, Any] = {"defaultAction": profile["defaultAction"], "syscalls": rules}
    if profile.get("defaultErrnoRet") is not None:
        seccomp["defaultErrnoRet"] = profile["defaultErrnoRet"]
    if arches:
        seccomp["architectures"] = arches
    return seccomp


def _bind(source: Path | str, target: str, writable: bool) -> dict[str, Any]:
    options = ["rbind", "rprivate", "rw" if writable else "ro", "nosuid", "nodev"]
    return {"destination": target, "type": "bind", "source": str(source), "options": options}


def kubelet_files(directory: Path) -> list[Volume]:
    """The files a kubelet bind-mounts into every container (written into ``directory``)."""
    directory.mkdir(parents=True, exist_ok=True)
    hosts, hostname = directory / "etc-hosts", directory / "hostname"
    hosts.write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{POD_NAME}\n")
    hostname.write_text(POD_NAME + "\n")
    resolv = directory / "resolv.conf"
    resolv.write_bytes(Path("/etc/resolv.conf").read_bytes())
    termination = directory / "termination-log"
    termination.touch()
    return [
        Volume(hosts, "/etc/hosts", writable=True),
        Volume(hostname, "/etc/hostname", writable=True),
        Volume(resolv, "/etc/resolv.conf", writable=True),
        Volume(termination, "/dev/termination-log", writable=True),
    ]


def pod_config(
    spec: dict[str, Any],
    argv: Sequence[str],
    volumes: Sequence[Volume],
    seccomp: dict[str, Any],
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``spec`` (from umoci) turned into a default pod's container running ``argv``, with
    the container's ``env`` (as a pod spec's ``env:``) added to the image's."""
    process = spec["process"]
    process["args"] = list(argv)
    if env:
        kept = [item for item in process.get("env", []) if item.split("=", 1)[0] not in env]
        process["env"] = kept + [f"{name}={value}" for name, value in env.items()]
    process["terminal"] = False
    caps = list(DEFAULT_CAPABILITIES)
    process["capabilities"] = {
        "bounding": caps, "effective": caps, "permitted": caps, "inheritable": [], "ambient": [],
    }  # fmt: skip
    process["noNewPrivileges"] = False
    process.pop("rlimits", None)  # the runtime's own limits, as containerd leaves them
    spec["hostname"] = POD_NAME
    spec["mounts"] += [_bind(v.source.resolve(), v.target, v.writable) for v in volumes]
    linux = spec["linux"]
    linux["namespaces"] = [{"type": name} for name in NAMESPACES]
    linux["maskedPaths"] = list(MASKED_PATHS)
    linux["readonlyPaths"] = list(READONLY_PATHS)
    linux["seccomp"] = seccomp
    spec["root"]["readonly"] = False
    return spec


def run_pod(
    ref: str,
    argv: Sequence[str],
    volumes: Sequence[Volume],
    *,
    timeout: float = 600.0,
    profile: Path = SECCOMP_PROFILE,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in image ``ref`` as a default pod would; returns exit code and output.

    A non-zero exit is returned, not raised; a run past ``timeout`` seconds is killed and
    raises ``LabToolError``.
    """
    seccomp = oci_seccomp(json.loads(profile.read_text()), DEFAULT_CAPABILITIES)
    with tempfile.TemporaryDirectory(prefix="kaniko-pod-") as tmp:
        directory = Path(tmp)
        bundle = unpack_bundle(ref, directory, argv)
        config_path = bundle / "config.json"
        files = kubelet_files(directory / "kubelet")
        spec = pod_config(
            json.loads(config_path.read_text()), argv, [*files, *volumes], seccomp, env
        )
        config_path.write_text(json.dumps(spec, indent=1))
        return run_bundle(
            bundle,
            directory / "state",
            timeout=timeout,
            what=f"pod run of {ref}",
            env={**os.environ, "LC_ALL": "C"},
        )
