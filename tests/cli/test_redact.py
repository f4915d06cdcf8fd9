from __future__ import annotations

import logging
import sys

from kaniko.redact import MASK, RedactingFilter, clear_secrets, redact, register_secret


def test_nothing_registered_changes_nothing() -> None:
    assert redact("password hunter2") == "password hunter2"


def test_registered_values_are_masked_everywhere() -> None:
    register_secret("hunter2")
    register_secret("tok-123")
    assert redact("a hunter2 b hunter2 tok-123") == f"a {MASK} b {MASK} {MASK}"


def test_empty_and_none_are_ignored() -> None:
    register_secret("")
    register_secret(None)
    assert redact("anything") == "anything"


def test_longer_secret_wins_over_its_substring() -> None:
    register_secret("abc")
    register_secret("abcdef")
    assert redact("xabcdefx abc") == f"x{MASK}x {MASK}"


def test_clear_forgets() -> None:
    register_secret("gone")
    clear_secrets()
    assert redact("gone") == "gone"


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    return logging.LogRecord(
        "kaniko.x", logging.INFO, __file__, 1, msg, args, sys.exc_info() if exc else None
    )


def test_filter_masks_message_and_args() -> None:
    register_secret("hunter2")
    record = _record("login %s as %s", "bob", "hunter2")
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == f"login bob as {MASK}"


def test_filter_masks_exception_text() -> None:
    register_secret("hunter2")
    try:
        raise ValueError("pw hunter2")
    except ValueError:
        record = _record("failed", exc=True)
    RedactingFilter().filter(record)
    assert record.exc_text is not None
    assert "hunter2" not in record.exc_text and "ValueError: pw ***" in record.exc_text


def test_filter_leaves_clean_records_alone() -> None:
    register_secret("hunter2")
    record = _record("count %d", 3)
    RedactingFilter().filter(record)
    assert record.msg == "count %d" and record.args == (3,)
