"""Java archives: ``pom.properties`` of Maven-built jars (and jars inside wars and ears).

Every ``META-INF/maven/<group>/<artifact>/pom.properties`` in an archive is one package
(a shaded jar holds several); an archive without one is named by its manifest
(``Implementation-Title``/``Bundle-SymbolicName`` and their versions) or not listed.
Archives nested one level deep (``WEB-INF/lib/*.jar``, an ear's modules) are read too,
from memory, up to :data:`MAX_NESTED` bytes each.
"""

from __future__ import annotations

import io
import logging
import zipfile
from typing import BinaryIO

from kaniko.attest.packages import Package, purl
from kaniko.attest.tree import Entry, RootTree

log = logging.getLogger(__name__)

SUFFIXES = (".jar", ".war", ".ear")
MAX_NESTED = 64 << 20
MAX_MEMBER = 1 << 20


def is_archive(entry: Entry) -> bool:
    return entry.is_file and entry.path.lower().endswith(SUFFIXES)


def _properties(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        found[key.strip()] = value.strip()
    return found


def _manifest(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if line.startswith(" ") and last:
            found[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            found[last] = value.strip()
    return found


def _read(archive: zipfile.ZipFile, name: str) -> str:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER:
        return ""
    return archive.read(info).decode("utf-8", "replace")


def _scan_zip(stream: BinaryIO, where: str, depth: int) -> list[Package]:
    found: list[Package] = []
    with zipfile.ZipFile(stream) as archive:
        names = archive.namelist()
        for name in names:
            if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
                props = _properties(_read(archive, name))
                group, artifact = props.get("groupId", ""), props.get("artifactId", "")
                version = props.get("version", "")
                if artifact and version:
                    found.append(_package(artifact, version, group, where, ()))
        if not found and "META-INF/MANIFEST.MF" in names:
            manifest = _manifest(_read(archive, "META-INF/MANIFEST.MF"))
            title = manifest.get("Implementation-Title") or manifest.get("Bundle-SymbolicName")
            release = manifest.get("Implementation-Version") or manifest.get("Bundle-Version")
            if title and release:
                title = title.split(";", 1)[0].strip()
                licenses = (manifest["Bundle-License"],) if "Bundle-License" in manifest else ()
                found.append(_package(title, release, "", where, licenses))
        if depth == 0:
            for name in names:
                info = archive.getinfo(name)
                if name.lower().endswith(SUFFIXES) and info.file_size <= MAX_NESTED:
                    nested = io.BytesIO(archive.read(info))
                    try:
                        found.extend(_scan_zip(nested, f"{where}:{name}", 1))
                    except zipfile.BadZipFile:
                        continue
    return found


def _package(
    artifact: str, version: str, group: str, where: str, licenses: tuple[str, ...]
) -> Package:
    return Package(
        name=artifact,
        version=version,
        type="java-archive",
        purl=purl("maven", artifact, version, namespace=group),
        licenses=licenses,
        locations=(where,),
        found_by="java archive metadata",
        properties={"groupId": group} if group else {},
    )


def scan_archive(tree: RootTree, entry: Entry) -> list[Package]:
    """The packages of Java archive ``entry``."""
    try:
        with tree.open(entry.path) as stream:
            return _scan_zip(stream, entry.path, 0)
    except (OSError, zipfile.BadZipFile, KeyError, RuntimeError) as exc:
        log.debug("sbom: %s: not a readable Java archive: %s", entry.path, exc)
        return []
