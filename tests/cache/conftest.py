"""Fixtures of the cache tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unreachable registries are retried with backoff: without the waits here."""
    from kaniko.registry.transport import Transport

    monkeypatch.setattr(Transport, "pause", lambda self, seconds: self.cancelled)
