"""What a RUN step mounts, as the sandbox sees it: host sources, targets in the root.

The executor (:mod:`kaniko.executor.mounts`) turns each ``RUN --mount`` into a
:class:`MountSpec`: every source is already a host path (a directory or file of the build
context, of a finished stage or an image, a cache directory, a listening ssh socket) or,
for a secret, its bytes; the target is an absolute, clean path in the stage's root, not
yet resolved (symlinks in the image are followed inside the root by the sandbox).

How each kind reaches the step depends on the isolation (docs/run-mounts.md):

* full (mounts permitted): real mounts in the step's private mount namespace, made by
  the init before ``pivot_root`` (``boot/usermounts.py``; planned by
  :mod:`kaniko.sandbox.usermounts`);
* plain chroot and in-place (no mount permission): content placed at the targets for the
  step's life and removed afterwards (:mod:`kaniko.sandbox.placement`).

Either way the mount points created for the step (the targets and their missing parents)
are removed afterwards when empty, as BuildKit's ``MountStubsCleaner`` removes them, so
the image shows only what the command itself wrote outside its mounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

MountKind = Literal["bind", "cache", "tmpfs", "secret", "ssh"]
MOUNT_KINDS: tuple[MountKind, ...] = ("bind", "cache", "tmpfs", "secret", "ssh")


@dataclass(frozen=True)
class MountSpec:
    """One mount of a RUN step.

    ``source``: the host directory or file of a ``bind`` or ``cache``, the listening socket
    of an ``ssh`` mount (None for ``tmpfs`` and ``secret``). ``readonly`` is enforced where
    the kernel mounts it; ``discard`` (a ``bind`` with ``rw``) lets the step write and
    throws the writes away. ``size`` limits a ``tmpfs`` (bytes; None: the kernel's
    default). A ``secret``'s bytes are ``data`` (kept out of ``repr``) and its file gets
    ``uid``, ``gid`` and ``mode``.
    """

    kind: MountKind
    target: str
    source: Path | None = None
    readonly: bool = True
    discard: bool = False
    size: int | None = None
    data: bytes = field(default=b"", repr=False)
    uid: int = 0
    gid: int = 0
    mode: int = 0o400

    def __post_init__(self) -> None:
        if self.kind not in MOUNT_KINDS:
            raise ValueError(f"unknown mount kind {self.kind!r}")
        if not self.target.startswith("/") or self.target == "/":
            raise ValueError(f"mount target must be an absolute path below /, not {self.target!r}")

    @property
    def describe(self) -> str:
        """How messages name the mount (never its data)."""
        return f"type={self.kind},target={self.target}"

    @property
    def is_file(self) -> bool:
        """Whether the mount point is a file (a secret, a socket, a bound file)."""
        if self.kind in ("secret", "ssh"):
            return True
        return self.kind == "bind" and self.source is not None and not self.source.is_dir()

    @property
    def depth(self) -> int:
        """The number of components of the target (outer mounts come first)."""
        return len([part for part in self.target.split("/") if part])


def ordered(mounts: tuple[MountSpec, ...]) -> list[MountSpec]:
    """``mounts`` outermost first (a stable sort by target depth), so a mount whose target
    lies inside another's is made after it; two mounts on one target are an error."""
    seen: set[str] = set()
    for mount in mounts:
        if mount.target in seen:
            raise ValueError(f"two mounts have the target {mount.target}")
        seen.add(mount.target)
    return sorted(mounts, key=lambda m: m.depth)


def enclosing(mount: MountSpec, earlier: list[MountSpec]) -> MountSpec | None:
    """The innermost of ``earlier`` whose target contains ``mount``'s target, if any."""
    found = None
    for other in earlier:
        if mount.target.startswith(other.target.rstrip("/") + "/") and (
            found is None or other.depth > found.depth
        ):
            found = other
    return found
