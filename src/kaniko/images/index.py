"""Image indexes we write: N images, each with its platform, plus artifact manifests.

An :class:`ImageIndex` is what a multi-platform build or a build with attestations
produces: an OCI image index whose entries are image manifests (each with its
``platform``) and, after all of them, artifact manifests such as BuildKit's attestation
manifests (``unknown/unknown`` platform, ``vnd.docker.reference.*`` annotations). The
sinks (:mod:`.push`, :mod:`.layout`, :mod:`.tarball`) write any index through
:func:`manifest_blobs`, which lists the blobs one manifest needs, whatever it is.

An :class:`Artifact` is a manifest whose config and layers are small in-memory blobs
(in-toto statements, the empty config).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import BinaryIO

from kaniko.errors import ImageError
from kaniko.images.mutate import with_media_types
from kaniko.oci import mediatypes as mt
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest, sha256_of
from kaniko.oci.image import Image
from kaniko.oci.manifest import Index, Manifest
from kaniko.oci.platform import Platform

Opener = Callable[[], AbstractContextManager[BinaryIO]]


@dataclass(frozen=True, slots=True)
class Blob:
    """One blob a manifest refers to, and how to read it."""

    descriptor: Descriptor
    open: Opener
    source: tuple[str, str] | None = None  # (registry, repository) that holds it already


class Artifact:
    """A manifest whose blobs are all held in memory (attestation manifests)."""

    def __init__(self, manifest: Manifest, blobs: dict[Digest, bytes]) -> None:
        self._manifest = manifest
        self._raw = manifest.to_json()
        self._blobs = dict(blobs)
        for desc in (manifest.config, *manifest.layers):
            data = self._blobs.get(desc.digest)
            if data is None or len(data) != desc.size or sha256_of(data) != desc.digest:
                raise ImageError(f"artifact blob {desc.digest} is missing or does not match")

    @property
    def media_type(self) -> str:
        return self._manifest.media_type

    def manifest(self) -> Manifest:
        return self._manifest

    def raw_manifest(self) -> bytes:
        return self._raw

    def digest(self) -> Digest:
        return sha256_of(self._raw)

    def blob(self, digest: Digest) -> bytes:
        return self._blobs[digest]


Manifested = Image | Artifact


def _bytes_opener(data: bytes) -> Opener:
    return lambda: contextlib.nullcontext(io.BytesIO(data))


def manifest_blobs(item: Manifested) -> list[Blob]:
    """The blobs ``item``'s manifest refers to: layers first, then the config."""
    manifest = item.manifest()
    if isinstance(item, Artifact):
        return [
            Blob(desc, _bytes_opener(item.blob(desc.digest)))
            for desc in (*manifest.layers, manifest.config)
        ]
    layers = item.layers()
    if len(layers) != len(manifest.layers):
        raise ImageError(
            f"image {item.digest()}: manifest lists {len(manifest.layers)} layers, "
            f"the image has {len(layers)}"
        )
    blobs = [
        Blob(desc, layer.open_compressed, getattr(layer, "source", None))
        for desc, layer in zip(manifest.layers, layers, strict=True)
    ]
    blobs.append(Blob(manifest.config, _bytes_opener(item.raw_config())))
    return blobs


@dataclass(frozen=True)
class IndexEntry:
    """One manifest of an index and the descriptor the index lists it under."""

    item: Manifested
    descriptor: Descriptor


@dataclass(frozen=True)
class ImageIndex:
    """An OCI image index of images and artifact manifests (images first), or a Docker
    manifest list of Docker images (``media_type``)."""

    entries: tuple[IndexEntry, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    media_type: str = mt.OCI_INDEX

    def index(self) -> Index:
        return Index(self.media_type, tuple(e.descriptor for e in self.entries), self.annotations)

    def raw_manifest(self) -> bytes:
        return self.index().to_json()

    def digest(self) -> Digest:
        return sha256_of(self.raw_manifest())

    def images(self) -> list[Image]:
        return [e.item for e in self.entries if not isinstance(e.item, Artifact)]


def image_entry(image: Image, platform: Platform) -> IndexEntry:
    """The index entry of ``image`` built for ``platform``."""
    raw = image.raw_manifest()
    return IndexEntry(image, Descriptor(image.media_type, image.digest(), len(raw), platform))


def artifact_entry(
    artifact: Artifact, platform: Platform | None, annotations: dict[str, str]
) -> IndexEntry:
    raw = artifact.raw_manifest()
    desc = Descriptor(
        artifact.media_type, artifact.digest(), len(raw), platform, annotations=annotations
    )
    return IndexEntry(artifact, desc)


def make_index(images: Sequence[IndexEntry], artifacts: Sequence[IndexEntry] = ()) -> ImageIndex:
    """An index listing ``images`` then ``artifacts``; images must use OCI media types."""
    for entry in images:
        if entry.item.media_type != mt.OCI_MANIFEST:
            raise ImageError(
                f"image {entry.descriptor.digest}: an OCI index needs OCI media types, "
                f"got {entry.item.media_type}"
            )
    return ImageIndex((*images, *artifacts))


def platform_index(images: Sequence[tuple[Image, Platform]]) -> ImageIndex:
    """The index of a multi-platform build: one entry per (image, platform), in order.

    A Docker manifest list when every image is Docker-typed (as BuildKit and buildah
    push one), else an OCI index, Docker-typed images converted to OCI types.
    """
    if not images:
        raise ImageError("an image index needs at least one image")
    docker = all(image.manifest().is_docker for image, _ in images)
    entries = []
    for image, platform in images:
        if not docker and image.manifest().is_docker:
            image = with_media_types(image, oci=True)
        entries.append(image_entry(image, platform))
    media_type = mt.DOCKER_MANIFEST_LIST if docker else mt.OCI_INDEX
    return ImageIndex(tuple(entries), media_type=media_type)
