"""in-toto statements (v1) around SBOM and provenance predicates, and their subjects.

A statement names what it is about (``subject``: the image manifest, by digest) and
carries one predicate. As BuildKit does, a subject is named by a Package URL of each
destination the image goes to (``pkg:docker/registry/repo@tag?platform=linux%2Famd64``),
all with the manifest digest; an image with no destination gets the one name ``_``.
Keys are written in in-toto-golang's order (``_type``, ``predicateType``, ``subject``,
``predicate``) and the predicate's bytes are embedded as they are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from kaniko.attest.packages import purl
from kaniko.oci.digest import Digest
from kaniko.oci.platform import Platform
from kaniko.refs.reference import Reference

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
MEDIA_TYPE = "application/vnd.in-toto+json"
PREDICATE_ANNOTATION = "in-toto.io/predicate-type"


@dataclass(frozen=True, slots=True)
class Subject:
    name: str
    digest: Digest

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "digest": {self.digest.algorithm: self.digest.hex}}


def image_purl(reference: Reference, platform: Platform | None = None) -> str:
    """BuildKit's ``purl.RefToPURL``: ``pkg:docker/<familiar name>@<tag>`` (+ qualifiers)."""
    familiar = reference.familiar()
    name = familiar.split("@", 1)[0]
    if reference.tag is not None and name.endswith(f":{reference.tag}"):
        name = name[: -len(reference.tag) - 1]
    namespace, _, last = name.rpartition("/")
    qualifiers: dict[str, str] = {}
    if reference.digest is not None:
        qualifiers["digest"] = str(reference.digest)
    if platform is not None:
        qualifiers["platform"] = str(platform)
    return purl("docker", last, reference.tag or "", namespace=namespace, qualifiers=qualifiers)


def subjects(
    digest: Digest, destinations: Sequence[Reference], platform: Platform | None
) -> list[Subject]:
    """The subjects of an image's statements: one per destination name, else ``_``."""
    names = list(dict.fromkeys(image_purl(ref, platform) for ref in destinations))
    return [Subject(name, digest) for name in names or ["_"]]


def statement(predicate_type: str, predicate: bytes, about: Sequence[Subject]) -> bytes:
    """The statement's JSON bytes, ``predicate`` (JSON bytes) embedded verbatim."""
    head = json.dumps(
        {"_type": STATEMENT_TYPE, "predicateType": predicate_type,
         "subject": [s.to_dict() for s in about]},
        separators=(",", ":"),
    )  # fmt: skip
    return head[:-1].encode() + b',"predicate":' + predicate + b"}"
