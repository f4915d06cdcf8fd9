"""Reading what a build with attestations pushed, with tools that are not kaniko's.

The index and manifests are read with ``skopeo inspect --raw``; blobs (the in-toto
statements) with plain HTTP GETs on the lab registry. Documents are checked against the
SPDX 2.3 JSON schema (vendored in ``schemas/``) and CycloneDX's own validator.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx

from tests.lab.tools import require_tool

SCHEMAS = Path(__file__).parent / "schemas"
ATTESTATION_TYPE = "attestation-manifest"


def raw_manifest(ref: str) -> bytes:
    """``skopeo inspect --raw`` of ``ref`` (a tag or ``repo@digest``)."""
    return subprocess.run(
        [require_tool("skopeo"), "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(registry_url: str, repository: str, digest: str) -> bytes:
    response = httpx.get(f"{registry_url}/v2/{repository}/blobs/{digest}", timeout=60)
    response.raise_for_status()
    assert sha256(response.content) == digest
    return response.content


@dataclass
class Pushed:
    """An index with one image and its attestation manifest, as read back."""

    index: dict
    image_entry: dict
    attestation_entry: dict
    attestation: dict
    statements: list[dict]
    raw_statements: list[bytes]

    def statement(self, predicate_type: str) -> dict:
        found = [s for s in self.statements if s["predicateType"] == predicate_type]
        assert found, f"no {predicate_type} statement"
        return found[0]


def read_pushed(registry_url: str, host: str, repository: str, tag: str) -> Pushed:
    raw = raw_manifest(f"{host}/{repository}:{tag}")
    index = json.loads(raw)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    images = [
        m for m in index["manifests"]
        if m.get("annotations", {}).get("vnd.docker.reference.type") != ATTESTATION_TYPE
    ]  # fmt: skip
    attestations = [m for m in index["manifests"] if m not in images]
    assert len(images) == 1 and len(attestations) == 1
    att_raw = raw_manifest(f"{host}/{repository}@{attestations[0]['digest']}")
    assert sha256(att_raw) == attestations[0]["digest"]
    attestation = json.loads(att_raw)
    raws = [blob(registry_url, repository, layer["digest"]) for layer in attestation["layers"]]
    return Pushed(
        index, images[0], attestations[0], attestation, [json.loads(r) for r in raws], raws
    )


@cache
def _spdx_validator():
    import jsonschema

    schema = json.loads((SCHEMAS / "spdx-2.3.schema.json").read_text())
    return jsonschema.Draft7Validator(schema)


def assert_valid_spdx(document: dict) -> None:
    """The SPDX 2.3 JSON schema, and spdx-tools' own semantic validation."""
    errors = sorted(_spdx_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    import tempfile

    from spdx_tools.spdx.parser.json import json_parser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    with tempfile.NamedTemporaryFile("w", suffix=".spdx.json") as f:
        json.dump(document, f)
        f.flush()
        parsed = json_parser.parse_from_file(f.name)
    messages = validate_full_spdx_document(parsed)
    assert not messages, [m.validation_message for m in messages[:5]]


def assert_valid_cyclonedx(document: dict) -> None:
    """CycloneDX 1.6, strict, with cyclonedx-python-lib's validator."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    validator = JsonStrictValidator(SchemaVersion.V1_6)
    error = validator.validate_str(json.dumps(document))
    assert error is None, str(error)
