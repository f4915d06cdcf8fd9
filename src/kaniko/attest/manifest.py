"""Attestation manifests: the in-toto statements of one image, stored as BuildKit stores them.

BuildKit's attestation storage (docs/attestations/attestation-storage.md in moby/buildkit,
``exporter/containerimage/writer.go``): an OCI image manifest with ``artifactType``
``application/vnd.docker.attestation.manifest.v1+json``, the OCI empty JSON config
(``{}``, embedded as ``data``), one layer per statement (``application/vnd.in-toto+json``,
annotated with ``in-toto.io/predicate-type``) and a ``subject`` pointing at the image
manifest. The index lists it after the images with platform ``unknown/unknown`` and the
annotations ``vnd.docker.reference.type: attestation-manifest`` and
``vnd.docker.reference.digest: <image manifest digest>``, so runtimes never pick it and
tools find the attestations of the platform they chose.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from kaniko.attest.intoto import MEDIA_TYPE, PREDICATE_ANNOTATION
from kaniko.images.index import Artifact, IndexEntry, artifact_entry
from kaniko.oci import mediatypes as mt
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest
from kaniko.oci.manifest import Manifest
from kaniko.oci.platform import Platform

ARTIFACT_TYPE = "application/vnd.docker.attestation.manifest.v1+json"
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
ATTESTATION_MANIFEST = "attestation-manifest"
UNKNOWN_PLATFORM = Platform("unknown", "unknown", "")
EMPTY_CONFIG = b"{}"


def attestation_manifest(subject: Descriptor, statements: Sequence[tuple[str, bytes]]) -> Artifact:
    """The attestation manifest of ``statements`` (predicate type, statement JSON)."""
    blobs: dict[Digest, bytes] = {Digest.of(EMPTY_CONFIG): EMPTY_CONFIG}
    config = Descriptor(
        mt.OCI_EMPTY,
        Digest.of(EMPTY_CONFIG),
        len(EMPTY_CONFIG),
        data=base64.b64encode(EMPTY_CONFIG).decode(),
    )
    layers = []
    for predicate_type, data in statements:
        digest = Digest.of(data)
        blobs[digest] = data
        layers.append(
            Descriptor(MEDIA_TYPE, digest, len(data),
                       annotations={PREDICATE_ANNOTATION: predicate_type})
        )  # fmt: skip
    manifest = Manifest(
        media_type=mt.OCI_MANIFEST,
        config=config,
        layers=tuple(layers),
        subject=Descriptor(subject.media_type, subject.digest, subject.size),
        extra={"artifactType": ARTIFACT_TYPE},
    )
    return Artifact(manifest, blobs)


def attestation_entry(subject: Descriptor, statements: Sequence[tuple[str, bytes]]) -> IndexEntry:
    """The index entry of the attestation manifest for the image ``subject`` describes."""
    artifact = attestation_manifest(subject, statements)
    annotations = {REFERENCE_DIGEST: str(subject.digest), REFERENCE_TYPE: ATTESTATION_MANIFEST}
    return artifact_entry(artifact, UNKNOWN_PLATFORM, annotations)
