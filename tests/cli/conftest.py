"""Shared fixtures of the CLI tests: a clean logging setup and secret registry per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kaniko.cli.logging_setup import reset_logging
from kaniko.redact import clear_secrets

ENV_VARS = ("KANIKO_DIR", "KANIKO_REGISTRY_MIRROR", "KANIKO_REGISTRY_MAP", "KANIKO_NO_PUSH")


@pytest.fixture(autouse=True)
def _clean_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    clear_secrets()
    yield
    reset_logging()
    clear_secrets()
