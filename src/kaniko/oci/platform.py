"""Platforms (``os/arch[/variant]``) as OCI image indexes and Dockerfiles name them.

Names follow Go's GOOS/GOARCH spelling (``amd64``, ``arm64``, ``arm/v7``), which is what
image indexes, ``--platform`` flags and the ``TARGET*``/``BUILD*`` build args use.
"""

from __future__ import annotations

import platform as _platform
import re
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

# containerd's component syntax and its lists of Go's known GOOS and GOARCH values.
_OS_COMPONENT = re.compile(r"[A-Za-z0-9_-]+")
_COMPONENT = re.compile(r"[A-Za-z0-9_.-]+")
_KNOWN_OS = frozenset(
    {
        *("aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js"),
        *("linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos"),
    }
)
_KNOWN_ARCH = frozenset(
    {
        *("386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le"),
        *("loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le"),
        *("ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm"),
    }
)


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """Architecture aliases and variants normalised the way containerd does.

    One difference kept from before: ``arm`` without a variant stays without one
    (containerd drops the implied ``v7`` the same way in ``Parse``), and ``armhf`` is
    ``arm/v7``. ``arm64/v8`` and ``amd64/v1`` are the plain defaults.
    """
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", "" if variant in ("8", "v8") else variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm" and variant in ("5", "6", "7", "8"):
        return "arm", "v" + variant
    return arch, variant


@dataclass(frozen=True, slots=True)
class Platform:
    """An image platform: operating system, architecture and optional variant."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse a platform specifier as containerd's ``platforms.Parse`` does.

        ``os/arch[/variant]``, or one word: a known OS (with the host's architecture) or a
        known architecture (meaning linux). Each component is letters, digits, ``_``, ``-``
        (and ``.`` past the OS); architectures are normalised (``x86_64`` is ``amd64``,
        ``aarch64`` is ``arm64``, ``armhf`` is ``arm/v7`` …). A comma-separated list is
        refused here (one platform per value); :func:`parse_platforms` reads lists.
        """
        text = text.strip()
        if "," in text:
            raise UsageError(
                f"invalid platform {text!r}: one platform expected here, not a list; "
                "give one os/arch[/variant]"
            )
        if "*" in text:
            raise UsageError(f"invalid platform {text!r}: wildcards are not supported")
        parts = text.split("/")
        if len(parts) > 3:
            raise UsageError(f"invalid platform {text!r}: want os/arch[/variant]")
        for index, part in enumerate(parts):
            pattern = _OS_COMPONENT if index == 0 else _COMPONENT
            if not pattern.fullmatch(part):
                what = ("OS", "architecture", "variant")[index]
                allowed = "letters, digits, '_', '-'" + ("" if index == 0 else ", '.'")
                raise UsageError(
                    f"invalid platform {text!r}: {part!r} is not a valid {what} ({allowed}); "
                    "want os/arch[/variant]"
                )
        os_ = parts[0].lower()
        os_ = "darwin" if os_ == "macos" else os_
        if len(parts) == 1:
            if os_ in _KNOWN_OS:
                host = cls.host()
                return cls(os_, host.architecture, host.variant)
            arch, variant = _normalize_arch(parts[0], "")
            if arch not in _KNOWN_ARCH:
                raise UsageError(
                    f"invalid platform {text!r}: unknown operating system or architecture"
                )
            return cls("linux", arch, variant)
        arch, variant = _normalize_arch(parts[1], parts[2] if len(parts) == 3 else "")
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


def parse_platforms(text: str) -> tuple[Platform, ...]:
    """The target platforms of a build: a comma-separated list (``linux/amd64,linux/arm64``),
    each parsed by :meth:`Platform.parse`, duplicates (after normalisation) dropped, order
    kept. A build target must name an OS and an architecture Go knows (``linux/amd64``,
    not ``linux/amd46``): nothing could be built or run for any other."""
    words = [word.strip() for word in text.split(",")]
    if not text.strip() or any(not word for word in words):
        raise UsageError(f"invalid platform list {text!r}: an empty entry")
    found: list[Platform] = []
    for word in words:
        platform = Platform.parse(word)
        if platform.os not in _KNOWN_OS:
            raise UsageError(f"invalid platform {word!r}: unknown operating system {platform.os!r}")
        if platform.architecture not in _KNOWN_ARCH:
            raise UsageError(
                f"invalid platform {word!r}: unknown architecture {platform.architecture!r} "
                "(want a GOARCH name: amd64, arm64, arm, 386, ppc64le, s390x, riscv64 …)"
            )
        found.append(platform)
    return tuple(dict.fromkeys(found))
