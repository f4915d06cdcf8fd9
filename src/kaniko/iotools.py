"""Small stream helpers shared by every layer (standard library only).

:class:`ReadOnlyRaw` gives a read-only raw stream its ``readable``/``readinto`` from its
``read``, so it can sit under :class:`io.BufferedReader`, ``tarfile`` and the
decompressors. :class:`TeeReader` passes reads through and shows each chunk to an
observer (a hasher, a byte counter, a progress bar).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO


class ReadOnlyRaw(io.RawIOBase):
    """A readable raw stream defined by its ``read(size)``."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


class TeeReader(ReadOnlyRaw):
    """Reads ``source`` and hands every chunk read to ``observe``; never closes ``source``."""

    def __init__(self, source: BinaryIO, observe: Callable[[bytes], object]) -> None:
        super().__init__()
        self._source = source
        self._observe = observe

    def read(self, size: int | None = -1, /) -> bytes:
        data = self._source.read(-1 if size is None else size)
        if data:
            self._observe(data)
        return data
