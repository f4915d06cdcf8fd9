"""Debian and Ubuntu packages: the dpkg status database.

``/var/lib/dpkg/status`` holds one paragraph per package dpkg knows; distroless images
keep one file per package in ``/var/lib/dpkg/status.d/`` instead. A package counts when
its ``Status`` state is one ``dpkg-query -W`` lists and its files are on disk: every
state except ``not-installed`` and ``config-files`` (removed, only conffiles left).
Licenses come from ``/usr/share/doc/<package>/copyright`` when it is in Debian's
machine-readable format (the ``License:`` fields).
"""

from __future__ import annotations

import logging
import re

from kaniko.attest.packages import Package, purl
from kaniko.attest.scan.distro import Distro, stanzas
from kaniko.attest.tree import RootTree

log = logging.getLogger(__name__)

STATUS = "/var/lib/dpkg/status"
STATUS_DIR = "/var/lib/dpkg/status.d"
GONE_STATES = frozenset({"not-installed", "config-files"})
_LICENSE_FIELD = re.compile(r"^License:[ \t]*(\S.*?)\s*$", re.MULTILINE)
_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?")


def copyright_licenses(text: str) -> tuple[str, ...]:
    """The ``License:`` short names of a machine-readable copyright file, in order."""
    if "Format:" not in text.split("\n\n", 1)[0]:
        return ()  # not DEP-5: free text we do not guess at
    return tuple(dict.fromkeys(m.group(1) for m in _LICENSE_FIELD.finditer(text)))


def _package(fields: dict[str, str], where: str, distro: Distro, tree: RootTree) -> Package:
    name = fields["Package"]
    version = fields.get("Version", "")
    arch = fields.get("Architecture", "")
    qualifiers = {"arch": arch, "distro": distro.qualifier}
    source = _SOURCE.match(fields.get("Source", ""))
    if source and source.group(1) != name:
        upstream = source.group(1)
        if source.group(2):
            upstream += f"@{source.group(2)}"
        qualifiers["upstream"] = upstream
    doc = tree.read_text(f"/usr/share/doc/{name}/copyright", 4 << 20)
    licenses = copyright_licenses(doc) if doc else ()
    return Package(
        name=name,
        version=version,
        type="deb",
        purl=purl("deb", name, version, namespace=distro.id or "debian", qualifiers=qualifiers),
        licenses=licenses,
        locations=(where,),
        supplier=fields.get("Maintainer", ""),
        description=fields.get("Description", "").split("\n", 1)[0],
        homepage=fields.get("Homepage", ""),
        found_by="dpkg status database",
        properties={"architecture": arch} if arch else {},
    )


def installed(fields: dict[str, str]) -> bool:
    """Whether a status paragraph is a package ``dpkg-query -W`` lists with files on disk."""
    words = fields.get("Status", "install ok installed").split()
    return bool(fields.get("Package")) and (len(words) < 3 or words[2] not in GONE_STATES)


def scan_dpkg(tree: RootTree, distro: Distro) -> list[Package]:
    """The packages of the dpkg database of ``tree`` (none if it has no database)."""
    sources = [STATUS] + [f"{STATUS_DIR}/{name}" for name in tree.listdir(STATUS_DIR)]
    found: list[Package] = []
    for path in sources:
        text = tree.read_text(path)
        if text is None:
            continue
        for fields in stanzas(text):
            if installed(fields):
                found.append(_package(fields, path, distro, tree))
    if found:
        log.debug("sbom: %d dpkg packages", len(found))
    return found
