"""Layer-cache entries in local OCI layouts: ``--cache-repo=oci:PATH``.

The Go kaniko's format, kept so that either tool reads the other's cache: the entry of
key ``K`` is its own OCI image layout, the directory ``PATH:K`` (kaniko's
``cache.Destination`` joins repository and key with ``:``, and the ``oci:`` prefix is
dropped), holding one image. Reading takes the layout's image (the last one, as kaniko's
``locateImage``, should a writer have appended several); a directory that is not there is
a miss. Blobs are checked against their digests when read.

Writing is atomic: the layout is written into a new directory beside the final one and
renamed into place, so a reader never sees half an entry. When two builds write one key
at once, the first rename wins and the other build's entry, equivalent, is dropped: both
succeed. An entry that exists (expired, or found unusable) is replaced by moving it aside
first.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil

from kaniko.errors import FilesystemError, ImageError
from kaniko.images.layout import INDEX_FILE, read_oci_layout, write_oci_layout
from kaniko.oci.image import Image
from kaniko.oci.manifest import Index

PREFIX = "oci:"


def is_layout_repo(cache_repo: str) -> bool:
    """Whether ``--cache-repo`` names a local layout cache."""
    return cache_repo.startswith(PREFIX)


class LayoutStore:
    """Entries under ``base`` (the path after ``oci:``)."""

    def __init__(self, base: str) -> None:
        if not base:
            raise FilesystemError("--cache-repo oci: needs a path (oci:/cache/layers)")
        self.base = os.path.abspath(base)

    def path(self, key: str) -> str:
        return f"{self.base}:{key}"

    def where(self, key: str) -> str:
        return PREFIX + self.path(key)

    def read(self, key: str) -> Image | None:
        path = self.path(key)
        if not os.path.isdir(path):
            return None
        index_path = os.path.join(path, INDEX_FILE)
        try:
            with open(index_path, "rb") as f:
                index = Index.from_json(f.read(4 << 20), what=index_path)
        except OSError as e:
            raise ImageError(f"{path}: cannot read {INDEX_FILE}: {e.strerror or e}") from e
        if not index.manifests:
            raise ImageError(f"{path}: the layout holds no image")
        return read_oci_layout(path, str(index.manifests[-1].digest))

    def write(self, key: str, entry: Image) -> None:
        final = self.path(key)
        parent = os.path.dirname(final)
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as e:
            raise FilesystemError(f"cannot create {parent}: {e.strerror or e}") from e
        staging = f"{final}.tmp-{secrets.token_hex(6)}"
        try:
            write_oci_layout(entry, staging)
            self._install(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _install(staging: str, final: str) -> None:
        """Rename ``staging`` to ``final``; an entry already there is replaced, unless
        another writer renamed its own in meanwhile (then that one stays)."""
        if os.path.exists(final):
            aside = f"{final}.old-{secrets.token_hex(6)}"
            try:
                os.rename(final, aside)
            except FileNotFoundError:
                pass  # another writer moved it: go on
            else:
                shutil.rmtree(aside, ignore_errors=True)
        try:
            os.rename(staging, final)
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return  # a concurrent writer of the same key won; its entry is equivalent
            raise FilesystemError(f"cannot store the cache entry {final}: {e.strerror}") from e
