"""Python distributions: ``*.dist-info`` directories and ``*.egg-info`` directories or files.

Each holds core metadata (PEP 566/643, RFC 822 headers): ``METADATA`` in a dist-info,
``PKG-INFO`` in an egg-info directory, the egg-info file itself otherwise. The license is
``License-Expression`` (PEP 639) when given, else a short ``License`` field, else the
``License ::`` classifiers. Names in purls are normalised as PEP 503 says.
"""

from __future__ import annotations

import re
from email.parser import HeaderParser

from kaniko.attest.packages import Package, purl
from kaniko.attest.tree import Entry, RootTree

_NORMALIZE = re.compile(r"[-_.]+")
_UNKNOWN = {"", "unknown", "none", "n/a"}


def is_metadata_entry(entry: Entry) -> bool:
    """Whether the walk met a distribution's metadata (dist-info or egg-info)."""
    name = entry.path.rsplit("/", 1)[-1]
    if name.endswith(".dist-info"):
        return entry.is_dir
    return name.endswith(".egg-info")


def normalized_name(name: str) -> str:
    """A distribution name as PEP 503 compares them (and purls spell them)."""
    return _NORMALIZE.sub("-", name).lower()


def _licenses(headers: object) -> tuple[str, ...]:
    get = headers.get  # type: ignore[attr-defined]
    expression = (get("License-Expression") or "").strip()
    if expression:
        return (expression,)
    text = (get("License") or "").strip()
    if text.lower() not in _UNKNOWN and "\n" not in text and len(text) <= 100:
        return (text,)
    classifiers = headers.get_all("Classifier") or []  # type: ignore[attr-defined]
    found = []
    for classifier in classifiers:
        parts = [p.strip() for p in classifier.split("::")]
        if parts[0] == "License" and len(parts) > 1 and parts[-1] != "OSI Approved":
            found.append(parts[-1])
    return tuple(dict.fromkeys(found))


def read_distribution(tree: RootTree, entry: Entry) -> Package | None:
    """The distribution whose metadata ``entry`` is, or None if it has no name/version."""
    if entry.is_dir:
        leaf = "METADATA" if entry.path.endswith(".dist-info") else "PKG-INFO"
        text = tree.read_text(f"{entry.path}/{leaf}", 16 << 20)
    else:
        text = tree.read_text(entry.path, 16 << 20)
    if text is None:
        return None
    headers = HeaderParser().parsestr(text, headersonly=True)
    name, version = (headers.get("Name") or "").strip(), (headers.get("Version") or "").strip()
    if not name or not version:
        return None
    author = (headers.get("Author") or headers.get("Author-email") or "").strip()
    return Package(
        name=name,
        version=version,
        type="python",
        purl=purl("pypi", normalized_name(name), version),
        licenses=_licenses(headers),
        locations=(entry.path,),
        supplier=author,
        description=(headers.get("Summary") or "").strip(),
        homepage=(headers.get("Home-page") or "").strip(),
        found_by="python package metadata",
    )
