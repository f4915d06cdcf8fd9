"""Streaming a RUN's merged stdout/stderr to the log, line by line, while it runs.

:func:`pump` watches two things at once: the output pipe and the keeper process (through a
pidfd where the kernel has them, else by polling ``waitpid``). Output is decoded as UTF-8
with replacement characters and handed over one line at a time without its newline; a
last line without a newline is flushed at the end, and a line longer than
:data:`MAX_LINE` characters is handed over in pieces so memory stays bounded.

When the keeper exits (it stays unreaped, so its pid, which is also the group id, cannot
be reused meanwhile), the RUN's process group is killed and the pipe is drained until end
of file or :data:`DRAIN_SECONDS`, whichever comes first (a process that escaped the group
and the namespace could otherwise hold the pipe open for ever).
"""

from __future__ import annotations

import codecs
import os
import select
import time
from collections.abc import Callable

from kaniko.sandbox.process import has_exited, kill_group

MAX_LINE = 65536
DRAIN_SECONDS = 2.0
_POLL_MS = 50


class LineSplitter:
    """Turns chunks of bytes into complete lines for ``emit``."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        *lines, self._pending = text.split("\n")
        for line in lines:
            self._emit(line)
        while len(self._pending) > MAX_LINE:
            self._emit(self._pending[:MAX_LINE])
            self._pending = self._pending[MAX_LINE:]

    def close(self) -> None:
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        if rest:
            self._emit(rest)


def _open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _read(fd: int, splitter: LineSplitter) -> bool:
    """Read what is available; False at end of file."""
    data = os.read(fd, 65536)
    if not data:
        return False
    splitter.feed(data)
    return True


def pump(pid: int, output: int, splitter: LineSplitter) -> None:
    """Stream ``output`` until child ``pid`` exits (it is left for the caller to reap).

    Afterwards the group ``pid`` is killed and the rest of the output drained. ``output``
    is left open for the caller to close.
    """
    pidfd = _open_pidfd(pid)
    poller = select.poll()
    poller.register(output, select.POLLIN)
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    open_output = True
    try:
        while not has_exited(pid):
            if not open_output and pidfd is None:
                time.sleep(_POLL_MS / 1000)
                continue
            for fd, _ in poller.poll(None if pidfd is not None else _POLL_MS):
                if fd == output and not _read(output, splitter):
                    poller.unregister(output)
                    open_output = False
    finally:
        if pidfd is not None:
            os.close(pidfd)
    kill_group(pid)
    if open_output:
        _drain(output, splitter)
    splitter.close()


def discard(output: int) -> None:
    """Read and drop ``output`` until end of file (or :data:`DRAIN_SECONDS`)."""
    _drain(output, LineSplitter(lambda line: None))


def _drain(output: int, splitter: LineSplitter) -> None:
    deadline = time.monotonic() + DRAIN_SECONDS
    poller = select.poll()
    poller.register(output, select.POLLIN)
    while (left := deadline - time.monotonic()) > 0:
        if poller.poll(int(left * 1000) + 1) and not _read(output, splitter):
            return
