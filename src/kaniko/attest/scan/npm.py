"""npm packages: every ``package.json`` of a package under a ``node_modules`` directory.

``node_modules/<name>/package.json`` and ``node_modules/@scope/<name>/package.json`` at any
depth (nested dependencies included), as ``npm ls --all`` walks them. The license is the
``license`` field (an SPDX expression, or the legacy ``{"type": ...}`` object) or the
legacy ``licenses`` list.
"""

from __future__ import annotations

import json

from kaniko.attest.packages import Package, purl
from kaniko.attest.tree import Entry, RootTree


def is_package_json(entry: Entry) -> bool:
    """Whether ``entry`` is the manifest of a package installed under node_modules."""
    if not entry.is_file or not entry.path.endswith("/package.json"):
        return False
    parts = entry.path.split("/")
    if len(parts) >= 4 and parts[-3] == "node_modules" and not parts[-2].startswith("@"):
        return not parts[-2].startswith(".")
    return len(parts) >= 5 and parts[-4] == "node_modules" and parts[-3].startswith("@")


def _license_of(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        kind: str = value["type"]
        return kind.strip()
    return ""


def _person(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        mail = value.get("email")
        return f"{value['name']} <{mail}>" if isinstance(mail, str) else value["name"]
    return ""


def read_package(tree: RootTree, entry: Entry) -> Package | None:
    """The package ``entry`` (a package.json) describes, or None without name/version."""
    text = tree.read(entry.path, 8 << 20)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None
    licenses = [_license_of(doc.get("license"))]
    if isinstance(doc.get("licenses"), list):
        licenses.extend(_license_of(v) for v in doc["licenses"])
    scope, _, bare = name.rpartition("/")
    homepage = doc.get("homepage")
    description = doc.get("description")
    return Package(
        name=name,
        version=version,
        type="npm",
        purl=purl("npm", bare, version, namespace=scope),
        licenses=tuple(dict.fromkeys(x for x in licenses if x)),
        locations=(entry.path,),
        supplier=_person(doc.get("author")),
        description=description.strip() if isinstance(description, str) else "",
        homepage=homepage.strip() if isinstance(homepage, str) else "",
        found_by="npm package.json",
    )
