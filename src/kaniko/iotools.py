"""Small stream helpers shared by every layer (standard library only).

:data:`CHUNK` is the one unit in which streams are read, copied and buffered (1 MiB: big
enough that per-call overhead vanishes, small enough to bound memory per stream).
:func:`write_all` writes a whole buffer to a descriptor (``os.write`` may write less).
:class:`ReadOnlyRaw` gives a read-only raw stream its ``readable``/``readinto`` from its
``read``, so it can sit under :class:`io.BufferedReader`, ``tarfile`` and the
decompressors. :class:`TeeReader` passes reads through and shows each chunk to an
observer (a hasher, a byte counter, a progress bar).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 1 << 20
"""Bytes per read, copy step or stream buffer."""


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` to descriptor ``fd`` (``os.write`` may write only a part)."""
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


class Readable(Protocol):
    """What a consumer that only reads needs of a stream (a file, a socket, a wrapper)."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """What a producer that only writes needs of a stream."""

    def write(self, data: bytes | bytearray | memoryview, /) -> object: ...


class ReadOnlyRaw(io.RawIOBase):
    """A readable raw stream defined by its ``read(size)``."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


class TeeReader(ReadOnlyRaw):
    """Reads ``source`` and hands every chunk read to ``observe``; never closes ``source``."""

    def __init__(self, source: Readable, observe: Callable[[bytes], object]) -> None:
        super().__init__()
        self._source = source
        self._observe = observe

    def read(self, size: int | None = -1, /) -> bytes:
        data = self._source.read(-1 if size is None else size)
        if data:
            self._observe(data)
        return data
