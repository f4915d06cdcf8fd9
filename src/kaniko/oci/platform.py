"""Platforms (``os/arch[/variant]``) as OCI image indexes and Dockerfiles name them.

Names follow Go's GOOS/GOARCH spelling (``amd64``, ``arm64``, ``arm/v7``), which is what
image indexes, ``--platform`` flags and the ``TARGET*``/``BUILD*`` build args use.
"""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass

from kaniko.errors import UsageError

# uname -m → (GOARCH, variant)
_MACHINE_TO_GO: dict[str, tuple[str, str]] = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "i386": ("386", ""),
    "i686": ("386", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
    "mips64": ("mips64", ""),
    "loongarch64": ("loong64", ""),
}

# Architecture aliases normalised the way containerd's platforms package does.
_ARCH_ALIASES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "aarch64": ("arm64", None),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", None),
}


@dataclass(frozen=True, slots=True)
class Platform:
    """An image platform: operating system, architecture and optional variant."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]`` (or a bare ``arch``, meaning linux)."""
        parts = [p.strip().lower() for p in text.strip().split("/")]
        if not text.strip() or any(not p for p in parts) or len(parts) > 3:
            raise UsageError(f"invalid platform {text!r}: want os/arch[/variant]")
        if len(parts) == 1:
            parts = ["linux", parts[0]]
        os_, arch = parts[0], parts[1]
        variant = parts[2] if len(parts) == 3 else ""
        arch, implied = _ARCH_ALIASES.get(arch, (arch, None))
        if not variant and implied:
            variant = implied
        if arch == "arm64" and variant == "v8":
            variant = ""  # arm64/v8 is the default arm64
        return cls(os_, arch, variant)

    @classmethod
    def host(cls) -> Platform:
        """The platform of the machine this process runs on."""
        machine = _platform.machine().lower()
        arch, variant = _MACHINE_TO_GO.get(machine, (machine, ""))
        return cls("linux", arch, variant)

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    def matches(self, other: Platform) -> bool:
        """True when an image built for ``other`` satisfies a request for ``self``.

        An empty variant in the request accepts any variant; ``arm64`` without variant
        equals ``arm64/v8``.
        """
        if self.os != other.os or self.architecture != other.architecture:
            return False
        mine = "" if (self.architecture, self.variant) == ("arm64", "v8") else self.variant
        theirs = "" if (other.architecture, other.variant) == ("arm64", "v8") else other.variant
        return not mine or mine == theirs

    def build_args(self, prefix: str) -> dict[str, str]:
        """The ``{prefix}PLATFORM/OS/ARCH/VARIANT`` args (prefix ``TARGET`` or ``BUILD``)."""
        return {
            f"{prefix}PLATFORM": str(self),
            f"{prefix}OS": self.os,
            f"{prefix}ARCH": self.architecture,
            f"{prefix}VARIANT": self.variant,
        }
