from __future__ import annotations

import io
import logging

from rich.console import Console
from rich.progress import Progress

from kaniko.cli.progress import RichReporter, terminal_progress
from kaniko.progress import SILENT, CountingReader


class _Recorder:
    def __init__(self) -> None:
        self.seen: list[int] = []
        self.finished = False

    def advance(self, amount: int) -> None:
        self.seen.append(amount)

    def done(self) -> None:
        self.finished = True


def test_counting_reader_reports_every_byte() -> None:
    task = _Recorder()
    reader = io.BufferedReader(CountingReader(io.BytesIO(b"x" * 10_000), task), 4096)
    assert reader.read() == b"x" * 10_000
    assert sum(task.seen) == 10_000


def test_not_a_terminal_means_silent(capsys) -> None:
    with terminal_progress(logging.StreamHandler(), enabled=True) as reporter:
        assert reporter is SILENT
        reporter.task("pull", 10).advance(5)
    assert capsys.readouterr().err == ""


def test_rich_reporter_tracks_and_removes_tasks() -> None:
    progress = Progress(console=Console(file=io.StringIO(), force_terminal=True))
    reporter = RichReporter(progress)
    task = reporter.task("push abc", 100)
    task.advance(40)
    assert progress.tasks[0].completed == 40
    task.done()
    assert progress.tasks == []
