"""Progress bars on a terminal (rich), for the library's :mod:`kaniko.progress` reporter.

Bars are shown only when stderr is a terminal and the log format is not JSON; while they
are live, log lines are printed above them (the logging handler writes through rich's
stderr proxy), and the bars vanish when their transfer ends.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kaniko.progress import SILENT, Reporter, Task

if TYPE_CHECKING:  # rich is imported only when bars are drawn: not in CI logs
    from rich.progress import Progress, TaskID


class _RichTask:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, amount: int) -> None:
        self._progress.advance(self._task, amount)

    def done(self) -> None:
        self._progress.remove_task(self._task)


class RichReporter:
    """A reporter drawing one bar per live transfer."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._lock = threading.Lock()

    def task(self, description: str, total: int | None = None) -> Task:
        with self._lock:
            return _RichTask(self._progress, self._progress.add_task(description, total=total))


@contextmanager
def terminal_progress(handler: logging.Handler | None, *, enabled: bool) -> Iterator[Reporter]:
    """A reporter for the duration of a build: rich bars if enabled and on a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield SILENT
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(file=sys.stderr)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        redirect_stderr=True,
    )
    stream = getattr(handler, "stream", None)
    with progress:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)  # rich's proxy while the bars are live
        try:
            yield RichReporter(progress)
        finally:
            if isinstance(handler, logging.StreamHandler) and stream is not None:
                handler.setStream(stream)
