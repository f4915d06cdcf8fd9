"""SBOMs as CycloneDX 1.6 JSON (``--sbom=cyclonedx``).

``metadata.component`` is the image (or stage) scanned, of type ``container``; every
package found is a ``library`` component with its purl, its declared license (one SPDX
id as ``license.id``, a compound expression as ``expression``, anything else by
``license.name``) and where it was found (``kaniko:*`` properties). The image component
depends on every package. The JSON is written by hand (see :mod:`kaniko.attest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kaniko.attest.document import TOOL, DocumentInfo, dumps
from kaniko.attest.licenses import normalize
from kaniko.attest.packages import Package
from kaniko.attest.spdx import spdx_id

SPEC_VERSION = "1.6"
PREDICATE_TYPE = "https://cyclonedx.org/bom"
ROOT_REF = "image"


def _licenses(package: Package) -> list[dict[str, Any]]:
    declared = normalize(package.licenses)
    if declared is None:
        return []
    expression = declared.expression
    if " " in expression:
        return [{"expression": expression}]
    if expression.startswith("LicenseRef-"):
        text = dict(declared.refs).get(expression, expression)
        return [{"license": {"name": text}}]
    return [{"license": {"id": expression}}]


def _component(package: Package) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "library",
        "bom-ref": spdx_id(package).removeprefix("SPDXRef-"),
        "name": package.name,
        "version": package.version,
    }
    if package.supplier:
        entry["publisher"] = " ".join(package.supplier.split())
    if package.description:
        entry["description"] = package.description
    licenses = _licenses(package)
    if licenses:
        entry["licenses"] = licenses
    if package.purl:
        entry["purl"] = package.purl
    if package.homepage.startswith(("http://", "https://")):
        entry["externalReferences"] = [{"type": "website", "url": package.homepage}]
    properties = [{"name": "kaniko:package:type", "value": package.type}]
    properties += [{"name": "kaniko:package:found-by", "value": package.found_by}]
    properties += [{"name": "kaniko:location", "value": where} for where in package.locations]
    properties += [
        {"name": f"kaniko:metadata:{key}", "value": value}
        for key, value in sorted(package.properties.items())
    ]
    entry["properties"] = properties
    return entry


def cyclonedx_document(packages: Sequence[Package], info: DocumentInfo) -> dict[str, Any]:
    """The CycloneDX 1.6 BOM (as a JSON-ready dict) listing ``packages``."""
    components = [_component(p) for p in packages]
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{info.unique_id(packages)}",
        "version": 1,
        "metadata": {
            "timestamp": info.timestamp,
            "tools": {
                "components": [{"type": "application", "name": TOOL, "version": info.tool_version}]
            },
            "component": {"type": "container", "bom-ref": ROOT_REF, "name": info.name},
        },
        "components": components,
        "dependencies": [
            {"ref": ROOT_REF, "dependsOn": [c["bom-ref"] for c in components]},
            *({"ref": c["bom-ref"]} for c in components),
        ],
    }


def cyclonedx_json(packages: Sequence[Package], info: DocumentInfo) -> bytes:
    return dumps(cyclonedx_document(packages, info))
