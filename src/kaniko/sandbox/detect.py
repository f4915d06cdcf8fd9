"""Are we inside a container? (the Go kaniko's check before it builds in place)

Signs, any of which is enough: the ``container`` environment variable (set by podman,
systemd-nspawn, LXC), ``/.dockerenv`` or ``/run/.containerenv``, a container runtime
named in ``/proc/1/cgroup`` (docker, kubepods, containerd, crio, libpod, lxc), or
``/proc/1/sched`` naming a process other than init/systemd as pid 1's first line
(a sign of a pid namespace). None of this is proof against a determined host, which is
why ``--force`` exists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_RUNTIMES = ("docker", "kubepods", "containerd", "crio", "cri-o", "libpod", "lxc", "podman")


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def in_container(root: Path = Path("/"), environ: Mapping[str, str] | None = None) -> bool:
    """True when this process appears to run inside a container."""
    env = os.environ if environ is None else environ
    if env.get("container"):
        return True
    if (root / ".dockerenv").exists() or (root / "run/.containerenv").exists():
        return True
    cgroup = _read(root / "proc/1/cgroup")
    if any(name in cgroup for name in _RUNTIMES):
        return True
    sched = _read(root / "proc/1/sched").split("\n", 1)[0]
    name = sched.split(" ", 1)[0]
    return bool(name) and name not in ("init", "systemd")
