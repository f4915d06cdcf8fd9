"""Every test here starts and ends with no registered secret: credentials a test hands to
the chains must not mask text in later tests of the same worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kaniko.redact import clear_secrets


@pytest.fixture(autouse=True)
def _no_secrets_left() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()
