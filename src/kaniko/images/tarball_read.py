"""Reading a ``docker save`` / go-containerregistry image tarball as an image.

The archive holds a ``manifest.json`` (a list of ``Config``, ``RepoTags``, ``Layers``), the
config and the layer files, in go-containerregistry's layout (``sha256:<hex>`` or
``<hex>.json`` config, ``<hex>.tar.gz`` layers, stored as they were pushed) or Docker's
(``<id>/layer.tar``). Nothing is extracted: the archive is indexed once (tar headers only:
member offsets and sizes) and each layer is a slice of the file, opened on demand.

When the registry manifest of the image is known (the Go warmer saves it beside the
tarball as ``<digest>.json``) the image keeps those exact bytes, so its digest is the one
it was pulled by, and every layer read is checked against the manifest's digest and size.
Without it a Docker v2 schema 2 manifest is made from the members (their digests are
computed once, by reading them).
"""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from kaniko.errors import ImageError
from kaniko.images.composed import ComposedImage, ImageParts
from kaniko.iotools import CHUNK
from kaniko.oci import mediatypes as mt
from kaniko.oci.compress import open_decompressed, sniff
from kaniko.oci.config import ImageConfig
from kaniko.oci.digest import Digest, Hasher, VerifyingReader
from kaniko.oci.image import Image, RawImage
from kaniko.oci.manifest import Manifest

MAX_DOCUMENT = 16 << 20  # manifest.json and the config are small JSON documents


@dataclass(frozen=True)
class Member:
    """Where one archive member's bytes are in the file."""

    offset: int
    size: int


@dataclass(frozen=True)
class SliceLayer:
    """A layer blob stored as a member of a tarball; reads are checked when ``verify``."""

    path: str
    member: Member
    digest: Digest
    diff_id: Digest
    size: int
    media_type: str
    verify: bool = True

    @contextlib.contextmanager
    def open_compressed(self) -> Iterator[BinaryIO]:
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise ImageError(f"blob {self.digest}: cannot open {self.path}: {e}") from e
        with f:
            f.seek(self.member.offset)
            piece = _Slice(f, self.member.size)
            if not self.verify:
                yield piece  # type: ignore[misc]
                return
            reader = VerifyingReader(piece, self.digest, self.size, what=f"blob {self.digest}")
            yield io.BufferedReader(reader, CHUNK)

    @contextlib.contextmanager
    def open_uncompressed(self) -> Iterator[BinaryIO]:
        with self.open_compressed() as blob, open_decompressed(blob, self.media_type) as tar:
            yield tar


class _Slice(io.RawIOBase):
    """``size`` bytes of ``f`` from its current position."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        super().__init__()
        self._f = f
        self._left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._f.read(want)
        self._left -= len(data)
        return data

    def readinto(self, buffer: Any, /) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def index_members(path: str) -> dict[str, Member]:
    """Every regular member of the tarball at ``path``, by name (headers only)."""
    members: dict[str, Member] = {}
    try:
        with tarfile.open(path, mode="r:") as tar:
            for info in tar:
                if info.isreg():
                    members[info.name.removeprefix("./")] = Member(info.offset_data, info.size)
    except (OSError, tarfile.TarError) as e:
        raise ImageError(f"{path}: not a readable image tarball: {e}") from e
    return members


def _read_member(path: str, member: Member, what: str) -> bytes:
    if member.size > MAX_DOCUMENT:
        raise ImageError(f"{path}: {what} is {member.size} bytes, too large")
    with open(path, "rb") as f:
        f.seek(member.offset)
        return f.read(member.size)


def tarball_entry(path: str, members: dict[str, Member] | None = None) -> dict[str, Any]:
    """The one ``manifest.json`` entry of the tarball at ``path``."""
    members = index_members(path) if members is None else members
    if "manifest.json" not in members:
        raise ImageError(f"{path}: no manifest.json: not an image tarball")
    try:
        entries = json.loads(_read_member(path, members["manifest.json"], "manifest.json"))
    except ValueError as e:
        raise ImageError(f"{path}: manifest.json is not JSON: {e}") from e
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        raise ImageError(f"{path}: manifest.json must describe exactly one image")
    entry: dict[str, Any] = entries[0]
    return entry


def read_docker_tarball(path: str, raw_manifest: bytes | None = None) -> Image:
    """The image in the tarball at ``path`` (see the module docs)."""
    members = index_members(path)
    entry = tarball_entry(path, members)
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise ImageError(f"{path}: manifest.json lacks Config or Layers")
    for name in [config_name, *layer_names]:
        if not isinstance(name, str) or name not in members:
            raise ImageError(f"{path}: member {name!r} named by manifest.json is missing")
    raw_config = _read_member(path, members[config_name], "the config")
    config = ImageConfig.from_json(raw_config, what=f"{path}: config")
    if len(config.diff_ids) != len(layer_names):
        raise ImageError(
            f"{path}: config lists {len(config.diff_ids)} diff IDs for {len(layer_names)} layers"
        )
    if raw_manifest is not None:
        manifest = Manifest.from_json(raw_manifest, what=f"{path}.json")
        if Digest.of(raw_config, manifest.config.digest.algorithm) != manifest.config.digest:
            raise ImageError(f"{path}: the config does not match the manifest beside it")
        if len(manifest.layers) != len(layer_names):
            raise ImageError(f"{path}: the manifest beside it lists other layers")
        layers = [
            SliceLayer(path, members[name], desc.digest, diff_id, desc.size, desc.media_type)
            for name, desc, diff_id in zip(
                layer_names, manifest.layers, config.diff_ids, strict=True
            )
        ]
        return RawImage(raw_manifest, raw_config, layers, what=path)
    made = []
    for name, diff_id in zip(layer_names, config.diff_ids, strict=True):
        member = members[name]
        digest, media_type = _describe(path, member)
        made.append(SliceLayer(path, member, digest, diff_id, member.size, media_type))
    parts = ImageParts.new(mt.DOCKER_MANIFEST, raw_config, made)
    return ComposedImage(parts)


def _describe(path: str, member: Member) -> tuple[Digest, str]:
    """A member's digest (by reading it) and the Docker media type its bytes have."""
    hasher = Hasher()
    head = b""
    with open(path, "rb") as f:
        f.seek(member.offset)
        left = member.size
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                raise ImageError(f"{path}: truncated member at offset {member.offset}")
            if not head:
                head = chunk[:8]
            hasher.update(chunk)
            left -= len(chunk)
    kind = sniff(head)
    if kind == "gzip":
        media_type = mt.DOCKER_LAYER
    elif kind == "zstd":
        media_type = mt.OCI_LAYER_ZSTD
    else:
        media_type = mt.DOCKER_UNCOMPRESSED_LAYER
    return hasher.digest(), media_type
