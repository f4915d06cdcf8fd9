"""Alpine packages: the apk database ``/lib/apk/db/installed``.

One paragraph per package, one ``X:value`` line per field (``P`` name, ``V`` version,
``A`` architecture, ``L`` license, ``T`` description, ``U`` URL, ``m`` maintainer, ``o``
origin); file lines (``F``, ``R``, ``Z`` …) are skipped. apk writes licenses as SPDX ids,
several separated by spaces when the package does not say how they combine.
"""

from __future__ import annotations

from kaniko.attest.packages import Package, purl
from kaniko.attest.scan.distro import Distro
from kaniko.attest.tree import RootTree

DATABASE = "/lib/apk/db/installed"
_OPERATORS = (" AND ", " OR ", " WITH ", " and ", " or ", "(")


def _paragraphs(text: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                found.append(current)
            current = {}
        elif len(line) > 1 and line[1] == ":" and line[0] not in current:
            current[line[0]] = line[2:].strip()
    if current:
        found.append(current)
    return found


def _licenses(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    if any(op in text for op in _OPERATORS):
        return (text,)
    return tuple(text.split())


def scan_apk(tree: RootTree, distro: Distro) -> list[Package]:
    """The packages of the apk database of ``tree``."""
    text = tree.read_text(DATABASE)
    if text is None:
        return []
    found: list[Package] = []
    for fields in _paragraphs(text):
        name, version = fields.get("P", ""), fields.get("V", "")
        if not name:
            continue
        arch, origin = fields.get("A", ""), fields.get("o", "")
        qualifiers = {"arch": arch, "distro": distro.qualifier}
        if origin and origin != name:
            qualifiers["upstream"] = origin
        found.append(
            Package(
                name=name,
                version=version,
                type="apk",
                purl=purl("apk", name, version, namespace=distro.id or "alpine",
                          qualifiers=qualifiers),
                licenses=_licenses(fields.get("L", "")),
                locations=(DATABASE,),
                supplier=fields.get("m", ""),
                description=fields.get("T", ""),
                homepage=fields.get("U", ""),
                found_by="apk database",
                properties={"architecture": arch} if arch else {},
            )
        )  # fmt: skip
    return found
