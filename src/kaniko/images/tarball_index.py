"""``--tar-path`` for an index (attestations, several platforms): Docker 25's save format.

``docker save`` since Docker 25 writes an archive that is both a ``docker load`` tarball
and an OCI image layout: every blob under ``blobs/sha256/<hex>``, an ``oci-layout``
marker, an ``index.json`` whose one entry is the image index (tagged with
``io.containerd.image.name`` and ``org.opencontainers.image.ref.name``), and
``manifest.json`` for ``docker load``, whose ``Config`` and ``Layers`` name those blob
paths. An image with attestations is written this way, so the attestation manifests
travel with it; an image without stays in the classic layout (:mod:`.tarball`).

``manifest.json`` has one entry per image of the index, the destination tags on the
first. Entries are written as :mod:`.tarball` writes them: mode 0644, owner 0:0, mtime 0,
each blob checked against its digest while it is copied.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence

from kaniko.errors import FilesystemError
from kaniko.fs.atomic import atomic_file
from kaniko.images.index import ImageIndex, manifest_blobs
from kaniko.images.layout import INDEX_FILE, LAYOUT_FILE, LAYOUT_VERSION, REF_NAME
from kaniko.images.tarball import TAR_FORMAT, add_member, repo_tag
from kaniko.oci import mediatypes as mt
from kaniko.oci.canonical import dumps
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest
from kaniko.oci.manifest import Index

IMAGE_NAME = "io.containerd.image.name"


def blob_name(digest: Digest) -> str:
    return f"blobs/{digest.algorithm}/{digest.hex}"


def load_manifest(index: ImageIndex, tags: Sequence[str]) -> bytes:
    """The ``manifest.json`` of the archive: one entry per image, tags on the first."""
    entries = []
    repo_tags = list(dict.fromkeys(repo_tag(t) for t in tags))
    for i, image in enumerate(index.images()):
        manifest = image.manifest()
        entries.append(
            {
                "Config": blob_name(manifest.config.digest),
                "RepoTags": repo_tags if i == 0 else [],
                "Layers": [blob_name(d.digest) for d in manifest.layers],
            }
        )
    return dumps(entries)


def write_index_tarball(index: ImageIndex, path: str, tags: Sequence[str]) -> None:
    """Write ``index`` as a Docker 25 ``docker save`` archive at ``path``."""
    raw_index = index.raw_manifest()
    annotations = {}
    if tags:
        annotations = {IMAGE_NAME: repo_tag(tags[0]), REF_NAME: repo_tag(tags[0])}
    top = Descriptor(index.media_type, index.digest(), len(raw_index), annotations=annotations)
    try:
        with (
            atomic_file(path) as out,
            tarfile.open(fileobj=out, mode="w", format=TAR_FORMAT) as tar,
        ):
            seen: set[Digest] = set()

            def add(name: str, data: bytes) -> None:
                add_member(tar, name, io.BytesIO(data), None)

            add(LAYOUT_FILE, json.dumps({"imageLayoutVersion": LAYOUT_VERSION}).encode())
            for entry in index.entries:
                for blob in manifest_blobs(entry.item):
                    desc = blob.descriptor
                    if desc.digest in seen:
                        continue
                    seen.add(desc.digest)
                    with blob.open() as source:
                        add_member(tar, blob_name(desc.digest), source, desc)
                child = entry.item
                if child.digest() not in seen:
                    seen.add(child.digest())
                    add(blob_name(child.digest()), child.raw_manifest())
            add(blob_name(index.digest()), raw_index)
            add(INDEX_FILE, Index(mt.OCI_INDEX, (top,)).to_json())
            add("manifest.json", load_manifest(index, tags))
    except OSError as exc:
        raise FilesystemError(f"cannot write the image tarball {path}: {exc}") from None
