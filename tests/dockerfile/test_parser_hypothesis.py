"""Our parser against BuildKit's on generated Dockerfiles (see strategies.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.dockerfile.corpus import assert_same_as_buildkit
from tests.dockerfile.strategies import dockerfiles, noise

oracle = pytest.importorskip("dockerfile")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_generated_dockerfiles_match_buildkit(text: str) -> None:
    assert_same_as_buildkit(text, oracle)


@settings(max_examples=200, deadline=None)
@given(noise())
def test_raw_noise_matches_buildkit(text: str) -> None:
    assert_same_as_buildkit(text, oracle)
