"""``--tar-path``: an image as a ``docker load`` tarball.

The archive holds what go-containerregistry's ``tarball.Write`` (which the Go kaniko uses)
puts in it: the config, each distinct layer blob as stored (compressed, named by its
digest's hex), and ``manifest.json`` last, a one-element list of ``Config``, ``RepoTags``,
``Layers`` (plus ``LayerSources`` for non-distributable layers). Two deliberate
differences: the config is named ``<hex>.json`` as ``docker save`` names it (ggcr uses
``sha256:<hex>``, a colon some extractors reject), and a layer's file extension follows
its compression (ggcr always writes ``.tar.gz``); ``docker load`` detects compression from
the content either way.

Entries are regular files with mode 0644, owner 0:0 and mtime 0, so the same image and tags
always give the same bytes. The archive is written beside ``path`` and renamed into place
only when complete; each blob is checked against its digest and size while it is copied.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from typing import Any, BinaryIO

from kaniko.errors import FilesystemError, ImageError
from kaniko.fs.atomic import atomic_file
from kaniko.oci import mediatypes as mt
from kaniko.oci.canonical import dumps
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest, Hasher
from kaniko.oci.image import Image, described_layers
from kaniko.refs import DEFAULT_TAG, InvalidReferenceError, parse_tagged

TAR_FORMAT = tarfile.PAX_FORMAT  # plain ustar headers unless a blob is over 8 GiB
_TRUNCATED = "unexpected end of data"  # what tarfile says when a source runs short


def repo_tag(text: str) -> str:
    """The ``RepoTags`` spelling of a destination: as given, ``:latest`` added if untagged.

    This is ggcr's rule: the reference as the user wrote it (``docker load`` tags with it
    verbatim), with the default tag made explicit because ``docker load`` needs one.
    """
    try:
        ref = parse_tagged(text)
    except InvalidReferenceError as exc:
        raise ImageError(f"cannot tag the image tarball: {exc}") from None
    if ref.tag == DEFAULT_TAG and not text.endswith(f":{DEFAULT_TAG}"):
        return f"{text}:{DEFAULT_TAG}"
    return text


def tarball_manifest(image: Image, tags: Sequence[str]) -> bytes:
    """The ``manifest.json`` of the tarball of ``image`` tagged ``tags``."""
    manifest = image.manifest()
    config = image.config()
    entry: dict[str, Any] = {
        "Config": config_name(manifest.config.digest),
        "RepoTags": list(dict.fromkeys(repo_tag(t) for t in tags)),
        "Layers": [layer_name(d.digest, d.media_type) for d in manifest.layers],
    }
    foreign = {
        str(diff_id): desc.to_dict()
        for desc, diff_id in zip(manifest.layers, config.diff_ids, strict=False)
        if not mt.is_distributable(desc.media_type)
    }
    if foreign:
        entry["LayerSources"] = dict(sorted(foreign.items()))
    return dumps([entry])


def config_name(digest: Digest) -> str:
    """The archive member name of the config blob."""
    return f"{digest.hex}.json"


def layer_name(digest: Digest, media_type: str) -> str:
    """The archive member name of a layer blob."""
    return digest.hex + mt.layer_suffix(mt.layer_compression(media_type))


def write_docker_tarball(image: Image, path: str, tags: Sequence[str]) -> None:
    """Write ``image`` tagged with each of ``tags`` as a ``docker load`` tarball at ``path``."""
    manifest = image.manifest()
    layers = described_layers(image)
    index = tarball_manifest(image, tags)
    raw_config = image.raw_config()
    try:
        with (
            atomic_file(path) as out,
            tarfile.open(fileobj=out, mode="w", format=TAR_FORMAT) as tar,
        ):
            add_member(
                tar, config_name(manifest.config.digest), io.BytesIO(raw_config), manifest.config
            )
            seen: set[Digest] = set()
            for desc, layer in layers:
                if desc.digest in seen:
                    continue
                seen.add(desc.digest)
                with layer.open_compressed() as blob:
                    add_member(tar, layer_name(desc.digest, desc.media_type), blob, desc)
            add_member(tar, "manifest.json", io.BytesIO(index), None)
    except OSError as exc:
        raise FilesystemError(f"cannot write the image tarball {path}: {exc}") from exc


class _Hashing(io.RawIOBase):
    """Hashes what the tar writer reads through it."""

    def __init__(self, source: BinaryIO, algorithm: str) -> None:
        super().__init__()
        self.source = source
        self.hasher = Hasher(algorithm)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        data = self.source.read(-1 if size is None else size)
        self.hasher.update(data)
        return data


def add_member(tar: tarfile.TarFile, name: str, source: BinaryIO, desc: Descriptor | None) -> None:
    info = tarfile.TarInfo(name)
    info.mode = 0o644
    info.mtime = 0
    info.type = tarfile.REGTYPE
    if desc is None:
        data = source.read()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        return
    what = f"blob {desc.digest}"
    info.size = desc.size
    reader = _Hashing(source, desc.digest.algorithm)
    try:
        tar.addfile(info, reader)
    except OSError as exc:
        if str(exc) != _TRUNCATED:
            raise
        raise ImageError(f"{what}: truncated: fewer than the expected {desc.size} bytes") from None
    if reader.read(1):
        raise ImageError(f"{what}: more data than the expected {desc.size} bytes")
    actual = reader.hasher.digest()
    if actual != desc.digest:
        raise ImageError(f"{what}: digest mismatch: expected {desc.digest}, got {actual}")
