"""Whether this host can run another architecture's programs: binfmt_misc handlers.

A RUN step of a foreign platform (``linux/arm64`` on an amd64 host) executes the
image's own binaries; the kernel runs them only through a ``binfmt_misc`` handler
registered for their ELF machine, normally ``qemu-user-static``. The handler must carry
the fix-binary flag (``F``): the kernel then opens the emulator when it is registered,
so it works inside the RUN's root, which does not hold the emulator (nor does ``/``
after an in-place build wiped it). Debian's ``qemu-user-static`` with
``binfmt-support`` registers its handlers that way (flags ``PF``), as does
``tonistiigi/binfmt`` on a Kubernetes node; registrations are the kernel's, so a pod on
such a node inherits them.

:func:`emulation` reads ``/proc/sys/fs/binfmt_misc`` and matches each handler's magic
and mask against the ELF header a binary of the platform starts with, as the kernel
does. :func:`native` says which platforms need none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kaniko.oci.platform import Platform

log = logging.getLogger(__name__)

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")

# GOARCH → (ELF class: 1 = 32-bit, 2 = 64-bit; data: 1 = little, 2 = big endian; e_machine)
_ELF: dict[str, tuple[int, int, int]] = {
    "386": (1, 1, 3),
    "amd64": (2, 1, 62),
    "arm": (1, 1, 40),
    "arm64": (2, 1, 183),
    "ppc64": (2, 2, 21),
    "ppc64le": (2, 1, 21),
    "s390x": (2, 2, 22),
    "riscv64": (2, 1, 243),
    "mips": (1, 2, 8),
    "mipsle": (1, 1, 8),
    "mips64": (2, 2, 8),
    "mips64le": (2, 1, 8),
    "loong64": (2, 1, 258),
}

# Architectures a host CPU runs besides its own (a 64-bit x86 kernel runs 32-bit code).
_ALSO_NATIVE: dict[str, frozenset[str]] = {"amd64": frozenset({"386"})}

REGISTER_HINT = (
    "register a qemu-user-static handler with the fix-binary flag on this host or node "
    "(Debian: apt-get install qemu-user-static binfmt-support; anywhere: "
    "docker run --privileged --rm tonistiigi/binfmt --install all)"
)


def native(platform: Platform, host: Platform | None = None) -> bool:
    """Whether ``host`` (default: this machine) runs ``platform``'s programs itself."""
    host = host or Platform.host()
    if platform.os != host.os:
        return False
    arch = platform.architecture
    return arch == host.architecture or arch in _ALSO_NATIVE.get(host.architecture, ())


def elf_header(platform: Platform) -> bytes | None:
    """The first 20 bytes of an executable of ``platform`` (None: not an ELF platform
    this module knows)."""
    known = _ELF.get(platform.architecture)
    if platform.os != "linux" or known is None:
        return None
    elf_class, data, machine = known
    order: Literal["little", "big"] = "little" if data == 1 else "big"
    ident = bytes([0x7F, 0x45, 0x4C, 0x46, elf_class, data, 1, 0]) + bytes(8)
    return ident + (2).to_bytes(2, order) + machine.to_bytes(2, order)  # ET_EXEC


@dataclass(frozen=True)
class Handler:
    """One registered binfmt_misc handler (a ``magic`` one; ``extension`` ones are
    never about architectures)."""

    name: str
    enabled: bool
    interpreter: str
    flags: str
    offset: int
    magic: bytes
    mask: bytes

    def matches(self, header: bytes) -> bool:
        window = header[self.offset : self.offset + len(self.magic)]
        if len(window) < len(self.magic):
            return False
        mask = self.mask or b"\xff" * len(self.magic)
        return all((h & m) == (g & m) for h, m, g in zip(window, mask, self.magic, strict=True))

    @property
    def fix_binary(self) -> bool:
        return "F" in self.flags


def read_handler(path: Path) -> Handler | None:
    """The handler described by the file ``path`` of binfmt_misc (None: not a magic one)."""
    fields: dict[str, str] = {}
    enabled = False
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line in ("enabled", "disabled"):
            enabled = line == "enabled"
            continue
        key, _, value = line.partition(" ")
        fields[key.rstrip(":")] = value.strip()
    if "magic" not in fields:
        return None
    try:
        return Handler(
            name=path.name,
            enabled=enabled,
            interpreter=fields.get("interpreter", ""),
            flags=fields.get("flags", ""),
            offset=int(fields.get("offset", "0")),
            magic=bytes.fromhex(fields["magic"]),
            mask=bytes.fromhex(fields.get("mask", "")),
        )
    except ValueError:
        return None


class Unreadable(Exception):
    """binfmt_misc is not mounted here or cannot be read: whether a handler exists is
    unknown (a container's ``/proc/sys/fs/binfmt_misc`` is often empty while the node's
    handlers still serve it)."""


def handlers(directory: Path = BINFMT_DIR) -> list[Handler]:
    """The registered magic handlers; :class:`Unreadable` when binfmt_misc is not there."""
    try:
        status = (directory / "status").read_text().strip()
        names = sorted(p for p in directory.iterdir() if p.name not in ("status", "register"))
    except OSError as exc:
        raise Unreadable(f"{directory}: {exc.strerror or exc}") from None
    if status != "enabled":
        return []
    found = []
    for path in names:
        try:
            handler = read_handler(path)
        except OSError:
            continue
        if handler is not None:
            found.append(handler)
    return found


def emulation(platform: Platform, directory: Path = BINFMT_DIR) -> Handler:
    """The enabled fix-binary handler that runs ``platform``'s programs here.

    Raises ``LookupError`` with the one-line reason when there is none (no handler, a
    disabled one, one without the ``F`` flag), :class:`Unreadable` when it cannot tell.
    """
    header = elf_header(platform)
    if header is None:
        raise LookupError(f"no emulation is known for {platform} programs")
    found = [h for h in handlers(directory) if h.matches(header)]
    usable = [h for h in found if h.enabled and h.fix_binary]
    if usable:
        return usable[0]
    if any(h.enabled for h in found):
        handler = next(h for h in found if h.enabled)
        raise LookupError(
            f"the binfmt_misc handler {handler.name} ({handler.interpreter}) for {platform} "
            f"lacks the fix-binary flag F (flags: {handler.flags or 'none'}), so it cannot run "
            "inside a build's root; re-register it with F"
        )
    if found:
        raise LookupError(f"the binfmt_misc handler {found[0].name} for {platform} is disabled")
    raise LookupError(f"no binfmt_misc handler for {platform} programs is registered")
