"""SBOMs as SPDX 2.3 JSON, the format BuildKit's scanner attaches.

The document DESCRIBES one package standing for the image (or stage) scanned, which
CONTAINS every package found. Each package carries its purl as a ``PACKAGE-MANAGER``
external reference, its declared license as an SPDX expression (``licenseDeclared``;
nothing is concluded, so ``licenseConcluded`` is NOASSERTION), and where it was found
(``sourceInfo``). Licenses SPDX has no id for are ``LicenseRef-`` ids listed in
``hasExtractedLicensingInfos`` with their original text. The JSON is written by hand:
see :mod:`kaniko.attest` for why no SPDX library is used at run time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from kaniko.attest.document import TOOL, DocumentInfo, dumps
from kaniko.attest.licenses import normalize
from kaniko.attest.packages import Package

SPDX_VERSION = "SPDX-2.3"
PREDICATE_TYPE = "https://spdx.dev/Document"
NAMESPACE_BASE = "https://spdx.org/spdxdocs/"
NOASSERTION = "NOASSERTION"
ROOT_ID = "SPDXRef-DocumentRoot"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9.-]+")
_PURPOSE = {"deb": "LIBRARY", "apk": "LIBRARY", "rpm": "LIBRARY"}


def spdx_id(package: Package) -> str:
    """A stable SPDX element id for ``package``."""
    tag = hashlib.sha256("\0".join([*package.key, *package.locations]).encode()).hexdigest()
    name = _UNSAFE_ID.sub("-", package.name).strip("-")[:64] or "package"
    return f"SPDXRef-Package-{package.type}-{name}-{tag[:16]}"


def _supplier(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return NOASSERTION
    name, _, mail = text.partition("<")
    mail = mail.rstrip(">").strip()
    return f"Person: {name.strip()} ({mail})" if mail else f"Person: {name.strip()}"


def _url(text: str) -> str | None:
    return text if re.match(r"^https?://[^\s]+$", text) else None


def _package(package: Package, refs: dict[str, str]) -> dict[str, Any]:
    declared = normalize(package.licenses)
    if declared is not None:
        refs.update(declared.refs)
    entry: dict[str, Any] = {
        "name": package.name,
        "SPDXID": spdx_id(package),
        "versionInfo": package.version,
        "supplier": _supplier(package.supplier),
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": declared.expression if declared else NOASSERTION,
        "copyrightText": NOASSERTION,
    }
    homepage = _url(package.homepage)
    if homepage:
        entry["homepage"] = homepage
    if package.description:
        entry["summary"] = package.description
    where = ", ".join(package.locations)
    entry["sourceInfo"] = f"acquired package info from {package.found_by}: {where}"
    if package.purl:
        entry["externalRefs"] = [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": package.purl,
            }
        ]
    entry["primaryPackagePurpose"] = _PURPOSE.get(package.type, "LIBRARY")
    return entry


def spdx_document(packages: Sequence[Package], info: DocumentInfo) -> dict[str, Any]:
    """The SPDX 2.3 document (as a JSON-ready dict) listing ``packages``."""
    refs: dict[str, str] = {}
    entries = [_package(p, refs) for p in packages]
    root = {
        "name": info.name,
        "SPDXID": ROOT_ID,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "primaryPackagePurpose": "CONTAINER",
    }
    relationships = [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
         "relatedSpdxElement": ROOT_ID},
    ] + [
        {"spdxElementId": ROOT_ID, "relationshipType": "CONTAINS",
         "relatedSpdxElement": entry["SPDXID"]}
        for entry in entries
    ]  # fmt: skip
    safe_name = _UNSAFE_ID.sub("-", info.name).strip("-") or "image"
    document: dict[str, Any] = {
        "spdxVersion": SPDX_VERSION,
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": info.name,
        "documentNamespace": f"{NAMESPACE_BASE}{safe_name}-{info.unique_id(packages)}",
        "creationInfo": {
            "created": info.timestamp,
            "creators": [f"Tool: {TOOL}-{info.tool_version}"],
        },
        "packages": [root, *entries],
        "relationships": relationships,
    }
    if refs:
        document["hasExtractedLicensingInfos"] = [
            {"licenseId": ref, "extractedText": text, "name": text}
            for ref, text in sorted(refs.items())
        ]
    return document


def spdx_json(packages: Sequence[Package], info: DocumentInfo) -> bytes:
    return dumps(spdx_document(packages, info))
