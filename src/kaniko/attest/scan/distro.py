"""Which distribution a root filesystem is (``/etc/os-release``), for package URLs.

Package URLs of OS packages carry the distribution as their namespace (``pkg:deb/debian``,
``pkg:apk/alpine``, ``pkg:rpm/fedora``) and a ``distro`` qualifier (``debian-12``), as
syft writes them, so scanners downstream match them to the right advisories.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from kaniko.attest.tree import RootTree


@dataclass(frozen=True, slots=True)
class Distro:
    """``ID`` and ``VERSION_ID`` of ``/etc/os-release`` (empty when unknown)."""

    id: str = ""
    version_id: str = ""
    id_like: tuple[str, ...] = ()

    @property
    def qualifier(self) -> str:
        """The purl ``distro`` qualifier: ``debian-12``, ``alpine-3.19.1``."""
        if not self.id:
            return ""
        return f"{self.id}-{self.version_id}" if self.version_id else self.id


def parse_os_release(text: str) -> Distro:
    """The fields of an os-release file (shell-style ``KEY=value`` lines)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        fields[key.strip()] = words[0] if words else ""
    return Distro(
        fields.get("ID", "").lower(),
        fields.get("VERSION_ID", ""),
        tuple(fields.get("ID_LIKE", "").lower().split()),
    )


def read_distro(tree: RootTree) -> Distro:
    """The distribution of ``tree`` (``/etc/os-release``, else ``/usr/lib/os-release``)."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        text = tree.read_text(path, 1 << 16)
        if text is not None:
            return parse_os_release(text)
    return Distro()


def stanzas(text: str) -> list[dict[str, str]]:
    """Blank-line separated ``Field: value`` paragraphs (Debian control syntax).

    A line starting with a space or tab continues the field before it.
    """
    found: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                found.append(current)
            current, last = {}, ""
            continue
        if line[0] in " \t":
            if last:
                current[last] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = key.strip()
        current[last] = value.strip()
    if current:
        found.append(current)
    return found
