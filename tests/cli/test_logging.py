"""Log levels, formats, timestamps and redaction of the CLI's log handler."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import datetime

import pytest

from kaniko.cli import run as run_module
from kaniko.cli.logging_setup import (
    TRACE,
    configure_logging,
    parse_format,
    parse_level,
    reset_logging,
)
from kaniko.cli.main import main
from kaniko.errors import UsageError
from kaniko.options import LogOptions
from kaniko.redact import register_secret

lib = logging.getLogger("kaniko.executor.steps")

ALL = [
    (TRACE, "t"),
    (logging.DEBUG, "d"),
    (logging.INFO, "i"),
    (logging.WARNING, "w"),
    (logging.ERROR, "e"),
    (logging.CRITICAL, "c"),
]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _emit_all() -> None:
    for level, text in ALL:
        lib.log(level, "msg-%s", text)


def _capture(opts: LogOptions, stream: io.StringIO | None = None) -> io.StringIO:
    out = stream if stream is not None else io.StringIO()
    configure_logging(opts, out)
    return out


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        ("trace", "tdiwec"),
        ("debug", "diwec"),
        ("info", "iwec"),
        ("warning", "wec"),
        ("error", "ec"),
        ("fatal", "c"),
        ("panic", "c"),
    ],
)
def test_level_filtering(level: str, shown: str) -> None:
    out = _capture(LogOptions(level=parse_level(level), format="json"))
    _emit_all()
    got = "".join(json.loads(line)["msg"][-1] for line in out.getvalue().splitlines())
    assert got == shown


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("warn", "warning"),
        ("WARNING", "warning"),
        ("Info", "info"),
        ("trace", "trace"),
        ("panic", "panic"),
        ("fatal", "fatal"),
    ],
)
def test_parse_level(text: str, level: str) -> None:
    assert parse_level(text) == level


def test_parse_level_and_format_reject() -> None:
    with pytest.raises(UsageError):
        parse_level("verbose")
    with pytest.raises(UsageError):
        parse_format("JSON")


def test_json_lines() -> None:
    out = _capture(LogOptions(level="trace", format="json"))
    _emit_all()
    lines = out.getvalue().splitlines()
    assert len(lines) == 6
    entries = [json.loads(line) for line in lines]
    assert [e["level"] for e in entries] == ["trace", "debug", "info", "warning", "error", "fatal"]
    for entry in entries:
        assert set(entry) == {"level", "msg", "time"}
        datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))


def test_json_keeps_multiline_message_and_traceback_on_one_line() -> None:
    out = _capture(LogOptions(format="json"))
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        lib.exception("two\nlines")
    (line,) = out.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["msg"] == "two\nlines" and "ValueError: bad" in entry["error"]


def test_color_format_plain_when_not_a_terminal() -> None:
    out = _capture(LogOptions(format="color"))
    lib.info("Retrieving image manifest %s", "alpine")
    lib.warning("careful")
    assert out.getvalue() == "INFO[0000] Retrieving image manifest alpine\nWARN[0000] careful\n"


def test_color_format_coloured_on_a_terminal() -> None:
    out = _capture(LogOptions(format="color"), _Tty())
    lib.error("failed")
    lib.info("ok")
    assert out.getvalue() == "\x1b[31mERRO\x1b[0m[0000] failed\n\x1b[36mINFO\x1b[0m[0000] ok\n"


def test_no_color_env_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = _capture(LogOptions(format="color"), _Tty())
    lib.info("ok")
    assert out.getvalue() == "INFO[0000] ok\n"


def test_log_timestamp_gives_full_time() -> None:
    out = _capture(LogOptions(format="color", timestamp=True))
    lib.info("hello")
    match = re.fullmatch(r"INFO\[(\S+)\] hello\n", out.getvalue())
    assert match, out.getvalue()
    datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))


def test_text_format_is_logfmt() -> None:
    out = _capture(LogOptions(format="text"))
    lib.info("Built cross stage deps")
    lib.warning("single")
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r'time="[^"]+" level=info msg="Built cross stage deps"', lines[0])
    assert re.fullmatch(r'time="[^"]+" level=warning msg=single', lines[1])


@pytest.mark.parametrize("fmt", ["text", "color", "json"])
def test_secrets_redacted_in_every_format(fmt: str) -> None:
    register_secret("s3cr3t-token")
    out = _capture(LogOptions(format=fmt))
    lib.info("token is %s", "s3cr3t-token")
    lib.info("inline s3cr3t-token")
    try:
        raise RuntimeError("leaked s3cr3t-token")
    except RuntimeError:
        lib.exception("failed")
    text = out.getvalue()
    assert "s3cr3t-token" not in text
    assert text.count("***") >= 3


def test_reset_restores_logger() -> None:
    configure_logging(LogOptions(level="error"), io.StringIO())
    logger = logging.getLogger("kaniko")
    assert logger.level == logging.ERROR and not logger.propagate
    reset_logging()
    assert logger.level == logging.NOTSET and logger.propagate and not logger.handlers


def test_configure_twice_keeps_one_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(LogOptions(), first)
    configure_logging(LogOptions(), second)
    lib.info("once")
    assert first.getvalue() == "" and second.getvalue() == "INFO[0000] once\n"


def test_main_logs_json_to_stderr(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    register_secret("pa55word")

    def fake(opts: object, progress: object = None) -> int:
        lib.debug("debug detail")
        lib.info("login with pa55word")
        return 0

    monkeypatch.setattr(run_module, "execute", fake)
    assert main(["--no-push", "--log-format=json", "-v", "info"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["msg"] for line in lines] == ["login with ***"]
    # main leaves logging as it found it
    assert logging.getLogger("kaniko").handlers == []
