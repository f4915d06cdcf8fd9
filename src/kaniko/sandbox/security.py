"""What a RUN may do: the capabilities, seccomp filter and hidden paths of a default container.

A RUN gets what runc gives a default Docker or Kubernetes container: containerd's 14
capabilities in the bounding, effective and permitted sets (inheritable and ambient
empty; a non-root USER therefore ends with none after ``exec``), Docker's default
seccomp policy, runc's masked and read-only paths, and no ``no_new_privs`` (Docker does
not set it by default: ``su`` and set-uid programs keep working within those limits).

:func:`hardening` works out once per builder process what of that this process can
impose, from its own ``/proc/self/status``: dropping capabilities from the bounding set
needs ``CAP_SETPCAP``, loading a seccomp filter without ``no_new_privs`` needs
``CAP_SYS_ADMIN``, and libseccomp must be there to compile the policy. What cannot be
imposed is said once in the log (a default pod already runs kaniko under the same
capabilities and a seccomp filter, which every RUN inherits).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from kaniko.sandbox.seccomp import SeccompUnavailable, compile_policy

log = logging.getLogger(__name__)

CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)  # fmt: skip
"""Capability names by number (``linux/capability.h``)."""

DEFAULT_CAPABILITIES: frozenset[str] = frozenset(
    {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    }
)  # fmt: skip
"""containerd's default set (``oci.WithDefaultSpec``), which Docker uses as well."""

MASKED_PATHS: tuple[str, ...] = (
    "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
)  # fmt: skip
"""Docker's masked paths for a default container: unreadable (``/dev/null`` or empty)."""

READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)  # fmt: skip
"""Docker's read-only paths for a default container."""


@dataclass(frozen=True)
class Hardening:
    """What the RUN's init applies after entering the root (see ``boot/tree.py``).

    ``capabilities`` is the bit mask of the effective and permitted sets (None: leave them
    as they are); ``drop_bounding`` the capability numbers to remove from the bounding
    set; ``seccomp`` the BPF program to load (None: no filter of ours).
    """

    capabilities: int | None
    drop_bounding: tuple[int, ...]
    seccomp: bytes | None
    missing: tuple[str, ...]  # what could not be imposed, for the one warning


def _status() -> dict[str, str]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def _names(mask: int) -> frozenset[str]:
    return frozenset(name for bit, name in enumerate(CAPABILITIES) if mask >> bit & 1)


def _mask(names: frozenset[str]) -> int:
    return sum(1 << bit for bit, name in enumerate(CAPABILITIES) if name in names)


def last_capability() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return len(CAPABILITIES) - 1


@functools.cache
def hardening(without: frozenset[str] = frozenset()) -> Hardening:
    """The hardening this process can impose on a RUN; ``without``: capabilities to withhold
    on top of the defaults (a plain chroot withholds ``CAP_SYS_CHROOT``, see chroot.py)."""
    status = _status()
    effective = int(status.get("CapEff", "0"), 16)
    permitted = int(status.get("CapPrm", "0"), 16)
    bounding = int(status.get("CapBnd", "0"), 16)
    wanted = DEFAULT_CAPABILITIES - without
    keep = _mask(wanted) & permitted
    missing: list[str] = []
    bounded = [bit for bit in range(last_capability() + 1) if bounding >> bit & 1]
    drop = tuple(bit for bit in bounded if not _mask(wanted) >> bit & 1)
    if drop and not effective >> CAPABILITIES.index("CAP_SETPCAP") & 1:
        missing.append("the capability bounding set (no CAP_SETPCAP)")
        drop = ()
    seccomp: bytes | None = None
    if "Seccomp" not in status:
        missing.append("the seccomp profile (this kernel has no seccomp)")
    elif effective >> CAPABILITIES.index("CAP_SYS_ADMIN") & 1:
        try:
            seccomp = compile_policy(_names(keep))
        except SeccompUnavailable as error:
            missing.append(f"the seccomp profile ({error})")
    elif status.get("Seccomp", "0") == "0":
        missing.append("the seccomp profile (needs CAP_SYS_ADMIN)")
    else:
        log.debug("RUN steps inherit this process's seccomp filter")
    return Hardening(keep, drop, seccomp, tuple(missing))
