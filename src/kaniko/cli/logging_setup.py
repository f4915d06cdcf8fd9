"""Log levels and formats as kaniko (logrus) has them; only the CLI installs handlers.

Levels: ``panic``, ``fatal``, ``error``, ``warn``/``warning``, ``info``, ``debug``,
``trace``. Python has no trace, panic or fatal: ``TRACE`` is level 5, and panic and fatal
are both ``CRITICAL``. Formats, one record per line on stderr:

- ``color``: ``INFO[0003] message`` (seconds since start, or the full time with
  ``--log-timestamp``), the level tag coloured when stderr is a terminal;
- ``text``: logfmt, ``time="2025-01-02T03:04:05Z" level=info msg="message"``;
- ``json``: ``{"level": "info", "msg": "message", "time": "2025-01-02T03:04:05Z"}``.

Every record passes :class:`kaniko.redact.RedactingFilter`, and the rendered line is
redacted again (tracebacks included), so registered secrets never reach the stream.
Records written for a stage built alongside others get the stage's ``[label]`` first
(:class:`kaniko.executor.scheduler.StagePrefix`), so interleaved stages stay readable.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import datetime
from typing import TextIO

from kaniko.errors import UsageError
from kaniko.executor.scheduler import StagePrefix
from kaniko.options import LOG_FORMATS, LogFormat, LogLevel, LogOptions
from kaniko.redact import RedactingFilter, redact

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

ROOT_LOGGER = "kaniko"

_LEVEL_NAMES: dict[str, LogLevel] = {
    "panic": "panic",
    "fatal": "fatal",
    "error": "error",
    "warn": "warning",
    "warning": "warning",
    "info": "info",
    "debug": "debug",
    "trace": "trace",
}

PYTHON_LEVELS: dict[LogLevel, int] = {
    "panic": logging.CRITICAL,
    "fatal": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": TRACE,
}

# logrus's colours: red for error and worse, yellow warn, blue info, grey debug and trace
_COLOURS = {"fatal": 31, "error": 31, "warning": 33, "info": 36, "debug": 37, "trace": 37}
_BARE = re.compile(r"[A-Za-z0-9\-._/@^+]+")


def parse_level(text: str) -> LogLevel:
    """A ``--verbosity`` value, case-insensitive, ``warn`` meaning ``warning``."""
    level = _LEVEL_NAMES.get(text.strip().lower())
    if level is None:
        raise UsageError(
            f'not a valid log level: "{text}" '
            "(want trace, debug, info, warn, error, fatal or panic)"
        )
    return level


def parse_format(text: str) -> LogFormat:
    """A ``--log-format`` value: text, color or json."""
    for name in LOG_FORMATS:
        if text == name:
            return name
    raise UsageError(f'not a valid log format: "{text}" (want text, color or json)')


def level_name(levelno: int) -> str:
    """logrus's name for a Python level number."""
    if levelno >= logging.CRITICAL:
        return "fatal"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    if levelno >= logging.DEBUG:
        return "debug"
    return "trace"


def _rfc3339(created: float) -> str:
    text = datetime.fromtimestamp(created).astimezone().isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


class _Formatter(logging.Formatter):
    """Common part: the message with its traceback, and redaction of the whole line."""

    def __init__(self, *, timestamp: bool = False, start: float | None = None) -> None:
        super().__init__()
        self.timestamp = timestamp
        self.start = time.time() if start is None else start

    def message(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        return text

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.render(record))

    def render(self, record: logging.LogRecord) -> str:
        raise NotImplementedError


class ColorFormatter(_Formatter):
    """``INFO[0003] message``; the tag in ANSI colour when ``color`` is set."""

    def __init__(self, *, color: bool, timestamp: bool = False, start: float | None = None):
        super().__init__(timestamp=timestamp, start=start)
        self.color = color

    def render(self, record: logging.LogRecord) -> str:
        name = level_name(record.levelno)
        tag = name.upper()[:4]
        if self.color:
            tag = f"\x1b[{_COLOURS[name]}m{tag}\x1b[0m"
        if self.timestamp:
            when = _rfc3339(record.created)
        else:
            when = f"{max(0, int(record.created - self.start)):04d}"
        return f"{tag}[{when}] {self.message(record)}"


class LogfmtFormatter(_Formatter):
    """logrus's plain text format: ``time="…" level=info msg="…"``."""

    def render(self, record: logging.LogRecord) -> str:
        msg = self.message(record)
        quoted = msg if _BARE.fullmatch(msg) else json.dumps(msg, ensure_ascii=False)
        name = level_name(record.levelno)
        return f'time="{_rfc3339(record.created)}" level={name} msg={quoted}'


class JsonFormatter(_Formatter):
    """One JSON object per line with ``level``, ``msg`` and ``time`` (and ``error``)."""

    def render(self, record: logging.LogRecord) -> str:
        entry = {
            "level": level_name(record.levelno),
            "msg": record.getMessage(),
            "time": _rfc3339(record.created),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def make_formatter(opts: LogOptions, stream: TextIO) -> logging.Formatter:
    """The formatter for ``opts``; ``color`` is plain when ``stream`` is no terminal."""
    if opts.format == "json":
        return JsonFormatter()
    if opts.format == "text":
        return LogfmtFormatter()
    isatty = getattr(stream, "isatty", None)
    color = bool(isatty and isatty()) and "NO_COLOR" not in os.environ
    return ColorFormatter(color=color, timestamp=opts.timestamp)


_installed: logging.Handler | None = None


def configure_logging(opts: LogOptions, stream: TextIO | None = None) -> logging.Handler:
    """Send the ``kaniko`` loggers' records at ``opts.level`` and above to ``stream``.

    Replaces the handler of any earlier call; :func:`reset_logging` undoes it.
    """
    global _installed
    reset_logging()
    target = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(target)
    handler.setFormatter(make_formatter(opts, target))
    handler.addFilter(StagePrefix())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(ROOT_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(PYTHON_LEVELS[opts.level])
    logger.propagate = False
    _installed = handler
    return handler


def reset_logging() -> None:
    """Remove the CLI's handler and give the ``kaniko`` logger back its defaults."""
    global _installed
    logger = logging.getLogger(ROOT_LOGGER)
    if _installed is not None:
        logger.removeHandler(_installed)
        _installed = None
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
