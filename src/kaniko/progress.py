"""Progress of long transfers (pulls, pushes, snapshots), reported to whoever listens.

The library never draws anything: it asks a :class:`Reporter` for a :class:`Task` per
transfer and advances it as bytes move. The CLI plugs in a terminal progress bar when
stderr is a terminal (:mod:`kaniko.cli.progress`); everyone else gets :data:`SILENT`.
"""

from __future__ import annotations

import io
from typing import BinaryIO, Protocol


class Task(Protocol):
    def advance(self, amount: int) -> None: ...

    def done(self) -> None: ...


class Reporter(Protocol):
    def task(self, description: str, total: int | None = None) -> Task: ...


class _SilentTask:
    def advance(self, amount: int) -> None:
        return

    def done(self) -> None:
        return


class _Silent:
    def task(self, description: str, total: int | None = None) -> Task:
        return _SilentTask()


SILENT: Reporter = _Silent()


class CountingReader(io.RawIOBase):
    """A read-only stream that reports every byte read to a :class:`Task`."""

    def __init__(self, stream: BinaryIO, task: Task) -> None:
        super().__init__()
        self._stream = stream
        self._task = task

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        data = self._stream.read(-1 if size is None else size)
        if data:
            self._task.advance(len(data))
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)
