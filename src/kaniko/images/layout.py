"""``--oci-layout-path``: OCI image layouts on disk, written and read.

A layout is a directory with an ``oci-layout`` marker, an ``index.json`` image index and
``blobs/<algorithm>/<hex>`` content files. :func:`write_oci_layout` adds one image: each blob
is written to a temporary file beside its final name, checked against its digest and size,
and renamed into place (blobs already present are kept); then ``index.json`` is rewritten
atomically with the image's descriptor appended, tagged with
``org.opencontainers.image.ref.name`` when a name is given (an entry with the same name is
replaced, as ``skopeo copy`` does). The Go kaniko rewrites ``index.json`` from scratch on
every build; appending keeps what else the directory holds. :func:`write_oci_layout_index`
adds an image index (several platforms, attestation manifests) the same way, nested
under one ``index.json`` entry.

:func:`read_oci_layout` opens an image of a layout as a source: manifest and config are read
and verified at once, layer blobs are verified each time they are streamed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from kaniko.errors import FilesystemError, ImageError
from kaniko.fs.atomic import atomic_file, write_atomic
from kaniko.images.index import ImageIndex, Manifested, manifest_blobs
from kaniko.oci import mediatypes as mt
from kaniko.oci.config import ImageConfig
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest, copy_verified, digest_problem
from kaniko.oci.image import FileLayer, Image, RawImage
from kaniko.oci.manifest import Index, Manifest, parse_manifest
from kaniko.oci.platform import Platform

REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
LAYOUT_VERSION = "1.0.0"
MAX_METADATA = 4 * 1024 * 1024  # manifests, indexes and configs are small documents


def blob_path(root: str, digest: Digest) -> str:
    """Where the blob ``digest`` lives in the layout at ``root``."""
    return os.path.join(root, "blobs", digest.algorithm, digest.hex)


def write_oci_layout(image: Image, path: str, ref_name: str | None = None) -> Descriptor:
    """Add ``image`` to the OCI layout at ``path`` (created if needed); return its descriptor."""
    try:
        return _write(image, path, ref_name)
    except OSError as exc:
        raise FilesystemError(f"cannot write the OCI layout {path}: {exc}") from exc


def write_oci_layout_index(index: ImageIndex, path: str, ref_name: str | None = None) -> Descriptor:
    """Add ``index`` (its images and artifacts, nested) to the OCI layout at ``path``.

    ``index.json`` gets one entry, the nested index, as BuildKit's ``oci`` exporter writes
    it; :func:`read_oci_layout` resolves it for a platform, skipping attestations.
    """
    try:
        return _write(index, path, ref_name)
    except OSError as exc:
        raise FilesystemError(f"cannot write the OCI layout {path}: {exc}") from None


def _write(item: Image | ImageIndex, path: str, ref_name: str | None) -> Descriptor:
    os.makedirs(path, exist_ok=True)
    _ensure_marker(path)
    children: list[Manifested] = (
        [e.item for e in item.entries] if isinstance(item, ImageIndex) else [item]
    )
    for child in children:
        for blob in manifest_blobs(child):
            desc = blob.descriptor
            target = blob_path(path, desc.digest)
            if _present(target, desc.size):
                continue
            with blob.open() as source, atomic_file(target) as out:
                copy_verified(source, out, desc.digest, desc.size, f"blob {desc.digest}")
        if isinstance(item, ImageIndex):
            raw_child = child.raw_manifest()
            child_desc = Descriptor(child.media_type, child.digest(), len(raw_child))
            _write_bytes_blob(path, raw_child, child_desc)
    raw_manifest = item.raw_manifest()
    annotations = {REF_NAME: ref_name} if ref_name else {}
    entry = Descriptor(item.media_type, item.digest(), len(raw_manifest), annotations=annotations)
    _write_bytes_blob(path, raw_manifest, entry)
    _update_index(path, entry, ref_name)
    return entry


def _ensure_marker(path: str) -> None:
    marker = os.path.join(path, LAYOUT_FILE)
    if os.path.exists(marker):
        _check_marker(path)
    else:
        write_atomic(marker, json.dumps({"imageLayoutVersion": LAYOUT_VERSION}).encode())


def _present(target: str, size: int) -> bool:
    try:
        return os.path.getsize(target) == size
    except OSError:
        return False


def _write_bytes_blob(root: str, data: bytes, desc: Descriptor) -> None:
    target = blob_path(root, desc.digest)
    if _present(target, desc.size):
        return
    if len(data) != desc.size or Digest.of(data, desc.digest.algorithm) != desc.digest:
        raise ImageError(f"blob {desc.digest}: content does not match its descriptor")
    write_atomic(target, data)


def _update_index(root: str, entry: Descriptor, ref_name: str | None) -> None:
    index_path = os.path.join(root, INDEX_FILE)
    kept: Iterable[Descriptor] = ()
    if os.path.exists(index_path):
        kept = _read_index(root).manifests
    if ref_name:
        kept = [d for d in kept if d.annotations.get(REF_NAME) != ref_name]
    kept = [d for d in kept if d != entry]
    index = Index(mt.OCI_INDEX, (*kept, entry))
    write_atomic(index_path, index.to_json())


# ---- reading ---------------------------------------------------------------------------


def read_oci_layout(
    path: str, ref: str | None = None, *, platform: Platform | None = None
) -> Image:
    """The image ``ref`` of the layout at ``path``: a ref name or a manifest digest.

    Without ``ref`` the layout must hold exactly one entry. An entry that is an index is
    resolved for ``platform`` (default: this machine's).
    """
    try:
        _check_marker(path)
        entry = _choose(path, _read_index(path), ref)
        for _ in range(8):  # nested indexes, bounded
            if not mt.is_index(entry.media_type):
                break
            nested = _read_small_blob(path, entry)
            index = Index.from_json(nested, what=f"{path}: index {entry.digest}")
            entry = index.select(platform or Platform.host(), what=f"{path}: index {entry.digest}")
        raw_manifest = _read_small_blob(path, entry)
        manifest = Manifest.from_json(raw_manifest, what=f"{path}: manifest {entry.digest}")
        raw_config = _read_small_blob(path, manifest.config)
        return _image(path, entry, manifest, raw_manifest, raw_config)
    except OSError as exc:
        raise ImageError(f"cannot read the OCI layout {path}: {exc}") from exc


def _image(
    path: str, entry: Descriptor, manifest: Manifest, raw_manifest: bytes, raw_config: bytes
) -> Image:
    what = f"{path}: {entry.digest}"
    diff_ids = ImageConfig.from_json(raw_config, what=f"{what} config").diff_ids
    if len(diff_ids) != len(manifest.layers):
        raise ImageError(
            f"{path}: image {entry.digest}: config lists {len(diff_ids)} diff IDs "
            f"for {len(manifest.layers)} layers"
        )
    layers = []
    for desc, diff_id in zip(manifest.layers, diff_ids, strict=True):
        blob = blob_path(path, desc.digest)
        if not os.path.isfile(blob):
            raise ImageError(f"{path}: blob {desc.digest} is missing")
        layers.append(FileLayer(Path(blob), desc.digest, diff_id, desc.size, desc.media_type, True))
    return RawImage(raw_manifest, raw_config, layers, what=what)


def _check_marker(path: str) -> None:
    marker = os.path.join(path, LAYOUT_FILE)
    try:
        with open(marker, "rb") as f:
            data = json.loads(f.read(MAX_METADATA))
    except FileNotFoundError:
        raise ImageError(f"{path} is not an OCI image layout (no {LAYOUT_FILE} file)") from None
    except ValueError as exc:
        raise ImageError(f"{marker}: not valid JSON: {exc}") from exc
    version = data.get("imageLayoutVersion") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith("1."):
        raise ImageError(f"{marker}: unsupported imageLayoutVersion {version!r}")


def _read_index(root: str) -> Index:
    index_path = os.path.join(root, INDEX_FILE)
    try:
        with open(index_path, "rb") as f:
            data = f.read(MAX_METADATA + 1)
    except FileNotFoundError:
        raise ImageError(f"{root}: the OCI layout has no {INDEX_FILE}") from None
    if len(data) > MAX_METADATA:
        raise ImageError(f"{index_path}: larger than {MAX_METADATA} bytes")
    parsed = parse_manifest(data, what=index_path)
    if not isinstance(parsed, Index):
        raise ImageError(f"{index_path}: not an image index")
    return parsed


def _choose(root: str, index: Index, ref: str | None) -> Descriptor:
    entries = index.manifests
    names = [d.annotations[REF_NAME] for d in entries if REF_NAME in d.annotations]
    if ref is None:
        if len(entries) == 1:
            return entries[0]
        listed = ", ".join(names) or "none named"
        raise ImageError(f"{root}: the OCI layout holds {len(entries)} images; name one ({listed})")
    by_digest = digest_problem(ref) is None
    for entry in entries:
        if (str(entry.digest) == ref) if by_digest else (entry.annotations.get(REF_NAME) == ref):
            return entry
    listed = ", ".join(names) or "none"
    raise ImageError(f"{root}: no image {ref!r} in the OCI layout (names: {listed})")


def _read_small_blob(root: str, desc: Descriptor) -> bytes:
    if desc.size > MAX_METADATA:
        raise ImageError(f"{root}: blob {desc.digest} is {desc.size} bytes, too large")
    try:
        with open(blob_path(root, desc.digest), "rb") as f:
            data = f.read(desc.size + 1)
    except FileNotFoundError:
        raise ImageError(f"{root}: blob {desc.digest} is missing") from None
    if len(data) != desc.size:
        raise ImageError(
            f"{root}: blob {desc.digest}: size {len(data)} differs from the expected {desc.size}"
        )
    actual = Digest.of(data, desc.digest.algorithm)
    if actual != desc.digest:
        raise ImageError(f"{root}: blob {desc.digest}: digest mismatch, got {actual}")
    return data
