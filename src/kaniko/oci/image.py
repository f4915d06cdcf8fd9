"""The one Layer/Image protocol every image source and sink speaks, and concrete layers.

A :class:`Layer` is a filesystem change set as a blob: ``digest`` and ``size`` describe the
compressed bytes a registry stores, ``diff_id`` the uncompressed tar the image config
lists. Both views are opened as fresh binary streams, never held whole in memory.

An :class:`Image` is a manifest, a config and its layers. Remote images, docker tarballs,
OCI layouts, ``scratch``, cache hits and the images :mod:`kaniko.images.mutate` derives all
implement it. :class:`RawImage` is an image whose manifest and config bytes are known.

Layers here: :class:`FileLayer` (a compressed blob on disk with known digests: what
:class:`~kaniko.oci.streams.LayerSpooler` spools a snapshot into, and what an OCI layout
holds) and :class:`BytesLayer` (small blobs, tests).
Compressing and decompressing go through :mod:`kaniko.oci.compress`, the one codec path.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, cast, runtime_checkable

from kaniko.errors import ImageError
from kaniko.iotools import CHUNK
from kaniko.oci import mediatypes as mt
from kaniko.oci.compress import DecompressionError, compress, open_decompressed
from kaniko.oci.config import ImageConfig
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest, Hasher, VerifyingReader, sha256_of
from kaniko.oci.manifest import Manifest


@runtime_checkable
class Layer(Protocol):
    """One layer: a compressed blob and the uncompressed tar it holds."""

    @property
    def digest(self) -> Digest:
        """The digest of the compressed blob."""
        ...

    @property
    def diff_id(self) -> Digest:
        """The digest of the uncompressed tar."""
        ...

    @property
    def size(self) -> int:
        """The size of the compressed blob in bytes."""
        ...

    @property
    def media_type(self) -> str:
        """The layer media type, which says how the blob is compressed."""
        ...

    def open_compressed(self) -> AbstractContextManager[BinaryIO]:
        """A fresh stream of the blob as stored (and as pushed)."""
        ...

    def open_uncompressed(self) -> AbstractContextManager[BinaryIO]:
        """A fresh stream of the layer's tar."""
        ...


@runtime_checkable
class Image(Protocol):
    """One image: manifest, config and ordered layers."""

    @property
    def media_type(self) -> str:
        """The manifest media type (Docker v2 schema 2 or OCI)."""
        ...

    def raw_manifest(self) -> bytes: ...

    def manifest(self) -> Manifest: ...

    def digest(self) -> Digest:
        """The digest of :meth:`raw_manifest`."""
        ...

    def raw_config(self) -> bytes: ...

    def config(self) -> ImageConfig: ...

    def layers(self) -> Sequence[Layer]: ...


def layer_descriptor(layer: Layer) -> Descriptor:
    """The manifest descriptor of ``layer``."""
    return Descriptor(layer.media_type, layer.digest, layer.size)


def described_layers(image: Image) -> list[tuple[Descriptor, Layer]]:
    """``image``'s layers, each with the manifest descriptor that lists it; an
    :class:`ImageError` when the manifest lists another number of layers."""
    manifest = image.manifest()
    layers = image.layers()
    if len(layers) != len(manifest.layers):
        raise ImageError(
            f"image {image.digest()}: manifest lists {len(manifest.layers)} layers, "
            f"the image has {len(layers)}"
        )
    return list(zip(manifest.layers, layers, strict=True))


def _diff_id_of(opener: Callable[[], AbstractContextManager[BinaryIO]], media_type: str) -> Digest:
    hasher = Hasher()
    try:
        with opener() as blob, open_decompressed(blob, media_type) as tar:
            while chunk := tar.read(CHUNK):
                hasher.update(chunk)
    except DecompressionError as exc:
        raise ImageError(f"cannot decompress {media_type} layer: {exc}") from exc
    return hasher.digest()


@dataclass(frozen=True, slots=True)
class FileLayer:
    """A compressed layer blob in a file whose digests and size are already known.

    With ``verify`` every read of the blob is checked against ``digest`` and ``size`` (for
    blobs read from disk that something else wrote, such as an OCI layout).
    """

    path: Path
    digest: Digest
    diff_id: Digest
    size: int
    media_type: str
    verify: bool = False

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], media_type: str, *, verify: bool = False
    ) -> FileLayer:
        """Describe an existing blob file by reading it (digest, size and diff ID)."""
        path = Path(path)
        hasher = Hasher()
        with open(path, "rb") as blob:
            while chunk := blob.read(CHUNK):
                hasher.update(chunk)
        diff_id = _diff_id_of(lambda: open(path, "rb"), media_type)  # noqa: SIM115
        return cls(path, hasher.digest(), diff_id, hasher.size, media_type, verify)

    @property
    def compression(self) -> mt.Compression:
        """How the blob is compressed (what its media type says)."""
        return mt.layer_compression(self.media_type)

    @contextlib.contextmanager
    def open_compressed(self) -> Iterator[BinaryIO]:
        try:
            blob = open(self.path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise ImageError(f"blob {self.digest}: cannot open {self.path}: {exc}") from exc
        with blob:
            if not self.verify:
                yield blob
                return
            reader = VerifyingReader(blob, self.digest, self.size, what=f"blob {self.digest}")
            yield cast(BinaryIO, io.BufferedReader(reader, CHUNK))

    @contextlib.contextmanager
    def open_uncompressed(self) -> Iterator[BinaryIO]:
        with self.open_compressed() as blob, open_decompressed(blob, self.media_type) as tar:
            yield tar

    def remove(self) -> None:
        """Delete the spool file (a layer that is no longer needed)."""
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class BytesLayer:
    """A layer held in memory: for small blobs and tests."""

    data: bytes
    media_type: str
    diff_id: Digest
    digest: Digest = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", sha256_of(self.data))
        object.__setattr__(self, "size", len(self.data))

    @classmethod
    def from_blob(cls, data: bytes, media_type: str) -> BytesLayer:
        """A layer from its compressed blob; the diff ID is computed by decompressing."""
        diff_id = _diff_id_of(lambda: contextlib.nullcontext(io.BytesIO(data)), media_type)
        return cls(data, media_type, diff_id)

    @classmethod
    def from_tar(
        cls, tar: bytes, *, compression: mt.Compression = "gzip", oci: bool = False
    ) -> BytesLayer:
        """A layer from an uncompressed tar, compressed as asked."""
        media_type = mt.layer_media_type("oci" if oci else "docker", compression)
        return cls(compress(tar, compression), media_type, sha256_of(tar))

    @contextlib.contextmanager
    def open_compressed(self) -> Iterator[BinaryIO]:
        yield io.BytesIO(self.data)

    @contextlib.contextmanager
    def open_uncompressed(self) -> Iterator[BinaryIO]:
        with self.open_compressed() as blob, open_decompressed(blob, self.media_type) as tar:
            yield tar


class RawImage:
    """An image whose manifest and config bytes are known, with its layer objects.

    The manifest and config are parsed once, on first use; ``digest()`` hashes the exact
    manifest bytes, so an image read from anywhere keeps the digest it was stored under.
    """

    def __init__(
        self, manifest: bytes, config: bytes, layers: Sequence[Layer], *, what: str = "image"
    ) -> None:
        self._raw_manifest = manifest
        self._raw_config = config
        self._layers = tuple(layers)
        self._what = what
        self._manifest: Manifest | None = None
        self._config: ImageConfig | None = None

    @property
    def media_type(self) -> str:
        return self.manifest().media_type

    def raw_manifest(self) -> bytes:
        return self._raw_manifest

    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest.from_json(self._raw_manifest, what=f"{self._what} manifest")
        return self._manifest

    def digest(self) -> Digest:
        return sha256_of(self._raw_manifest)

    def raw_config(self) -> bytes:
        return self._raw_config

    def config(self) -> ImageConfig:
        if self._config is None:
            self._config = ImageConfig.from_json(self._raw_config, what=f"{self._what} config")
        return self._config

    def layers(self) -> Sequence[Layer]:
        return self._layers
