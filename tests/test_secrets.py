"""``--secret`` values: where they come from, their limits, and that logs never show them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kaniko.errors import UsageError
from kaniko.options import SecretSource
from kaniko.redact import RedactingFilter, redact
from kaniko.secrets import MAX_SECRET_SIZE, SecretStore


def test_files_variables_and_the_implicit_source(tmp_path: Path) -> None:
    (tmp_path / "token").write_bytes(b"from-a-file\n")
    (tmp_path / "IMPLICIT").write_bytes(b"implicit-file")
    environ = {"VAR": "from-a-variable", "BOTH": "variable-wins"}
    (tmp_path / "BOTH").write_text("file-loses")
    sources = [
        SecretSource("a", src=str(tmp_path / "token")),
        SecretSource("b", env="VAR"),
        SecretSource("c", env="UNSET"),
        SecretSource("BOTH"),
        SecretSource(str(tmp_path / "IMPLICIT")),
    ]
    store = SecretStore.load(sources, environ)
    assert store.get("a") == b"from-a-file\n"
    assert store.get("b") == b"from-a-variable"
    assert store.get("c") is None and "c" not in store  # an unset variable: not given
    assert store.get("BOTH") == b"variable-wins"
    assert store.get(str(tmp_path / "IMPLICIT")) == b"implicit-file"


def test_unreadable_and_too_big_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--secret id=x: cannot read /nonexistent: No such"):
        SecretStore.load([SecretSource("x", src="/nonexistent")], {})
    big = tmp_path / "big"
    big.write_bytes(b"x" * (MAX_SECRET_SIZE + 1))
    with pytest.raises(UsageError, match="too big"):
        SecretStore.load([SecretSource("x", src=str(big))], {})
    big.write_bytes(b"x" * MAX_SECRET_SIZE)
    assert len(SecretStore.load([SecretSource("x", src=str(big))], {}).get("x") or b"") == (
        MAX_SECRET_SIZE
    )


def test_values_and_their_lines_are_masked_in_logs(tmp_path: Path) -> None:
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nshort\n-----END KEY-----\n"
    (tmp_path / "key").write_text(key)
    SecretStore.load(
        [SecretSource("k", src=str(tmp_path / "key")), SecretSource("t", env="T")],
        {"T": "hunter2-token"},
    )
    assert redact("token=hunter2-token") == "token=***"
    assert redact("[0:3] MIIEvQIBADANBgkqhkiG9w0BAQEFAASC") == "[0:3] ***"  # one line of it
    record = logging.LogRecord("x", logging.INFO, "", 0, "%s %s", ("env", "hunter2-token"), None)
    assert RedactingFilter().filter(record) and record.getMessage() == "env ***"
