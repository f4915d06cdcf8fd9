"""Progress of long transfers (pulls, pushes, snapshots), reported to whoever listens.

The library never draws anything: it asks a :class:`Reporter` for a :class:`Task` per
transfer and advances it as bytes move. The CLI plugs in a terminal progress bar when
stderr is a terminal (:mod:`kaniko.cli.progress`); everyone else gets :data:`SILENT`.
"""

from __future__ import annotations

from typing import BinaryIO, Protocol

from kaniko.iotools import TeeReader


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


def CountingReader(stream: BinaryIO, task: Task) -> TeeReader:
    """A read-only stream that reports every byte read to ``task``."""
    return TeeReader(stream, lambda data: task.advance(len(data)))
