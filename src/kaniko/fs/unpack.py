"""Applying image layers to a root directory: streaming, whiteout-aware, never escaping it.

:func:`apply_layer` reads one layer blob (gzip, zstd, bzip2, xz or plain: detected by magic,
whatever ``media_type`` says) as a stream: ``tarfile`` in stream mode, one member at a
time, file contents copied in 1 MiB chunks. Nothing of the layer is kept in memory or
copied to a temporary file. How each member lands is :mod:`kaniko.fs.entries`; how
whiteouts remove lower content is :mod:`kaniko.fs.whiteout`.

:func:`extract_image` applies an image's layers in order and implements
``--image-fs-extract-retry``: after a failure the root is wiped (except ignored paths) and
extraction starts over from the first layer, up to ``retries`` more times.

The ignore list is in the root's coordinates (see :mod:`kaniko.fs.ignore`): entries that
fall under it are neither written nor deleted, whether named directly or reached through
a symlink.
"""

from __future__ import annotations

import logging
import os
import tarfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from kaniko.errors import FilesystemError, ImageError, KanikoError
from kaniko.fs.entries import LayerApplier
from kaniko.fs.entrymeta import UnpackStats, unpack_notices
from kaniko.fs.fileattrs import Notices
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.whiteout import wipe_root
from kaniko.iotools import CHUNK
from kaniko.oci.compress import open_decompressed
from kaniko.oci.digest import Digest, Hasher

__all__ = [
    "ArchiveTooLarge",
    "UnpackStats",
    "apply_layer",
    "extract_image",
    "unpack_archive",
    "wipe_root",
]

log = logging.getLogger("kaniko.fs.unpack")


def apply_layer(
    stream: BinaryIO,
    root: Path | str,
    *,
    ignore: IgnoreList | None = None,
    media_type: str | None = None,
) -> UnpackStats:
    """Apply one layer blob read from ``stream`` to ``root``; ``stream`` is not closed.

    ``media_type`` only names the layer in error messages. Every failure is a
    :class:`~kaniko.errors.FilesystemError` naming the entry (or the stream) at fault.
    """
    return _apply(stream, os.path.abspath(root), ignore, unpack_notices(), media_type or "layer")


class ArchiveTooLarge(FilesystemError):
    """An archive unpacks to more than the limit its caller set."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


def unpack_archive(
    stream: BinaryIO, root: Path | str, *, limit: int | None = None, label: str = "archive"
) -> UnpackStats:
    """Unpack a tar read from ``stream`` (any compression :func:`apply_layer` reads) into
    the directory ``root``, with the same safety as a layer but no whiteouts.

    ``limit`` bounds the bytes of the decompressed tar stream (headers and contents), so a
    decompression bomb stops at that size with :class:`ArchiveTooLarge`. Other failures
    (not a tar, a truncated or corrupt stream, an entry that would escape ``root``) are
    :class:`~kaniko.errors.FilesystemError` naming ``label``.
    """
    root = os.path.abspath(root)
    return _apply(stream, root, None, unpack_notices(), label, whiteouts=False, limit=limit)


def _apply(
    stream: BinaryIO,
    root: str,
    ignore: IgnoreList | None,
    notices: Notices,
    label: str,
    diff_id: Digest | None = None,
    *,
    whiteouts: bool = True,
    limit: int | None = None,
) -> UnpackStats:
    if not os.path.isdir(root):
        raise FilesystemError(f"{root}: extraction root is not a directory")
    stats = UnpackStats()
    applier = LayerApplier(root, ignore, stats, notices, whiteouts=whiteouts)
    hasher = None if diff_id is None else Hasher(diff_id.algorithm)
    try:
        with open_decompressed(stream) as data:
            tally = _Tally(data, limit, hasher)
            try:
                # closed by the `with tar` below
                tar = tarfile.open(  # type: ignore[call-overload]  # "r|" only reads  # noqa: SIM115
                    fileobj=tally,
                    mode="r|",
                    bufsize=tarfile.RECORDSIZE,  # every header read copies this buffer
                    encoding="utf-8",
                    errors="surrogateescape",
                )
            except tarfile.ReadError as e:
                if str(e) != "empty file":
                    raise
                _check_diff_id(hasher, diff_id)
                return stats  # a zero-byte layer: nothing to apply
            with tar:
                for member in _members(tar, tally):
                    stats.entries += 1
                    applier.apply(tar, member)
            while tally.read(CHUNK):
                pass  # to the end: checks the compressed stream's trailer and checksum
        applier.finish()
        _check_diff_id(hasher, diff_id)
    except ArchiveTooLarge as e:
        raise ArchiveTooLarge(f"{label}: {e}", e.limit) from e
    except FilesystemError as e:
        raise FilesystemError(f"{label}: {e}") from e
    except (ImageError, tarfile.TarError) as e:
        raise FilesystemError(f"{label}: {e}") from e
    except OSError as e:
        raise FilesystemError(f"{label}: reading the layer: {e.strerror or e}") from e
    return stats


def _check_diff_id(hasher: Hasher | None, diff_id: Digest | None) -> None:
    if hasher is not None and hasher.digest() != diff_id:
        raise ImageError(
            f"diff_id mismatch: the image config lists {diff_id}, the layer's content is "
            f"{hasher.digest()}"
        )


class _Tally:
    """Counts (and hashes, for the diff_id) the decompressed tar stream; notices its end."""

    def __init__(
        self, inner: BinaryIO, limit: int | None = None, hasher: Hasher | None = None
    ) -> None:
        self._inner = inner
        self._limit = limit
        self._hasher = hasher
        self.count = 0
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        self.count += len(data)
        if self._limit is not None and self.count > self._limit:
            raise ArchiveTooLarge(f"unpacks to more than {self._limit} bytes", self._limit)
        self.eof = self.eof or (not data and size != 0)
        if self._hasher is not None and data:
            self._hasher.update(data)
        return data


def _members(tar: tarfile.TarFile, tally: _Tally) -> Iterator[tarfile.TarInfo]:
    """The members of a stream-mode archive, one at a time, none kept.

    Some tools (umoci's layer generator, opencontainers/umoci#436) end a layer right after
    the last member's content, without its padding or the end-of-archive blocks. Such a
    layer is accepted when every byte of that content arrived; any other early end is
    still an error.
    """
    data_end = 0
    while True:
        try:
            member = tar.next()
        except tarfile.ReadError as e:
            if str(e) == "unexpected end of data" and tally.eof and tally.count >= data_end:
                return
            raise
        if member is None:
            return
        # tarfile would keep every header otherwise
        tar.members.clear()  # type: ignore[attr-defined]  # real, but not in typeshed
        data_end = member.offset_data + (member.size if member.isreg() else 0)
        yield member


def extract_image(
    layers: Iterable[Callable[[], AbstractContextManager[BinaryIO]]],
    root: Path | str,
    *,
    ignore: IgnoreList | None = None,
    retries: int = 0,
    diff_ids: Sequence[Digest] | None = None,
    names: Sequence[str] | None = None,
) -> list[UnpackStats]:
    """Apply layers (each given as a function opening its blob) in order to ``root``.

    With ``diff_ids`` (what the image config lists), each layer's uncompressed content is
    hashed as it is applied and must match: a base image whose config lies about a layer
    fails, naming it (``names`` label the layers in messages, e.g. by blob digest).
    On a failure the root is wiped (ignored paths stay) and the whole extraction is tried
    again, at most ``retries`` more times; the last failure is raised. Each opened stream
    is closed after use. Returns one :class:`UnpackStats` per layer.
    """
    openers = list(layers)
    base = os.path.abspath(root)
    attempt = 0
    while True:
        notices = unpack_notices()
        try:
            results = []
            for index, opener in enumerate(openers, 1):
                label = f"layer {index}/{len(openers)}"
                if names is not None:
                    label += f" ({names[index - 1]})"
                expected = None if diff_ids is None else diff_ids[index - 1]
                with opener() as stream:
                    results.append(_apply(stream, base, ignore, notices, label, expected))
            return results
        except (KanikoError, OSError) as e:
            if attempt >= retries:
                if isinstance(e, KanikoError):
                    raise
                raise FilesystemError(f"extracting the image: {e.strerror or e}") from e
            attempt += 1
            log.warning(
                "extracting the image failed (%s); wiping %s and retrying (%d of %d)",
                e,
                base,
                attempt,
                retries,
            )
            wipe_root(base, ignore=ignore)
