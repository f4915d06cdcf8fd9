"""What a scanner found: one installed package, with what its metadata says about it.

A :class:`Package` is ecosystem-neutral: the SPDX and CycloneDX writers render any of
them. ``purl`` is a Package URL (github.com/package-url/purl-spec), built with
``packageurl-python`` so its escaping is the spec's. ``licenses`` are the declared
license strings as the metadata spells them; :mod:`kaniko.attest.licenses` turns them
into SPDX expressions when a document is written. ``locations`` are the absolute paths
in the image the package was read from (its database or metadata files).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from packageurl import PackageURL


@dataclass(frozen=True, slots=True)
class Package:
    """One installed package."""

    name: str
    version: str
    type: str  # deb, apk, rpm, python, npm, go-module, java-archive, binary
    purl: str = ""
    licenses: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    supplier: str = ""  # who maintains or publishes it ("Name <mail>"), if said
    description: str = ""
    homepage: str = ""
    found_by: str = ""  # "dpkg status database", "python METADATA", ...
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Sort and identity key: the same package found twice is listed once."""
        return (self.type, self.name, self.version, self.purl)


def purl(
    kind: str,
    name: str,
    version: str = "",
    *,
    namespace: str = "",
    qualifiers: Mapping[str, str] | None = None,
    subpath: str = "",
) -> str:
    """A Package URL string; empty qualifier values are left out.

    Qualifier values are percent-encoded with nothing kept (``linux/amd64`` is written
    ``linux%2Famd64``), as packageurl-go, which BuildKit and syft use, writes them.
    """
    base = PackageURL(
        type=kind,
        namespace=namespace or None,
        name=name,
        version=version or None,
        subpath=subpath or None,
    ).to_string()
    quals = [(k, v) for k, v in sorted((qualifiers or {}).items()) if v]
    if not quals:
        return base
    head, hash_, sub = base.partition("#")
    query = "&".join(f"{k.lower()}={quote(v, safe='')}" for k, v in quals)
    return f"{head}?{query}{hash_}{sub}"


def unique_sorted(packages: Iterable[Package]) -> list[Package]:
    """Packages in a stable order, duplicates merged (their locations joined)."""
    merged: dict[tuple[str, str, str, str], Package] = {}
    for package in packages:
        seen = merged.get(package.key)
        if seen is None:
            merged[package.key] = package
            continue
        locations = tuple(sorted(set(seen.locations) | set(package.locations)))
        merged[package.key] = dataclasses.replace(seen, locations=locations)
    return [merged[key] for key in sorted(merged)]
