"""Unpacking a context archive as it streams in, with the safety of an image layer.

Every archive source (a local tar, stdin, S3, GCS, Azure, an https URL, a git tree) ends
here: :func:`unpack` hands the stream to :func:`kaniko.fs.unpack.unpack_archive`, which
detects the compression (gzip, zstd, xz, bzip2 or none), reads the tar one member at a
time and writes each entry under the context directory without ever leaving it (names
cleaned, parents resolved inside the root, links re-rooted). Nothing is kept in memory
or spooled to a temporary copy of the archive. The decompressed stream is bounded by
``--context-size-limit``; passing it, a truncated stream or something that is not a tar
is one :class:`~kaniko.errors.ContextError` naming the source.

:class:`ChunkReader` turns an iterator of byte chunks (what the object-store clients
give) into the ``read(n)`` file the tar reader wants.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from kaniko.errors import ContextError, FilesystemError
from kaniko.fs.unpack import ArchiveTooLarge, UnpackStats, unpack_archive

LIMIT_FLAG = "--context-size-limit"


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of ``bytes``-like chunks."""

    def __init__(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        self._chunks: Iterator[bytes | bytearray | memoryview] = iter(chunks)
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        while not self._current:
            try:
                self._current = memoryview(next(self._chunks)).cast("B")
            except StopIteration:
                return 0
        n = min(len(view), len(self._current))
        view[:n] = self._current[:n]
        self._current = self._current[n:]
        return n


def reader(chunks: Iterable[bytes | bytearray | memoryview]) -> BinaryIO:
    """A buffered binary file over ``chunks``."""
    return io.BufferedReader(ChunkReader(chunks), 1 << 20)


def _reason(error: FilesystemError, label: str) -> str:
    text = str(error)
    if text.startswith(label + ": "):
        text = text[len(label) + 2 :]
    if text in ("invalid header", "bad checksum", "truncated header") or text.startswith(
        ("invalid header", "empty header")
    ):
        return f"not a tar archive ({text})"
    text = text.replace(" layer data", " data")
    if "unexpected end of data" in text or "ended before" in text or "ends inside" in text:
        return f"the archive is truncated ({text})"
    return text


def unpack(stream: BinaryIO, dest: Path | str, *, limit: int, source: str) -> UnpackStats:
    """Unpack the tar read from ``stream`` into ``dest``; errors name ``source``."""
    label = "archive"
    try:
        return unpack_archive(stream, dest, limit=limit, label=label)
    except ArchiveTooLarge as e:
        raise ContextError(
            f"{source}: the context unpacks to more than {e.limit} bytes "
            f"(raise the limit with {LIMIT_FLAG})"
        ) from None
    except FilesystemError as e:
        raise ContextError(f"{source}: {_reason(e, label)}") from None
