"""Fixtures of the end-to-end tests: the HTTP server for ADD <url>, base image trees."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.e2e.cases import CASES_DIR
from tests.e2e.served import serve
from tests.lab.flatten import Tree, flatten


@pytest.fixture(scope="session")
def http_cases() -> Iterator[str]:
    """``tests/e2e/conformance`` over HTTP; a case's files are at ``URL/<case>/served/``."""
    with serve(CASES_DIR) as url:
        yield url


@pytest.fixture(scope="session")
def base_tree() -> Callable[[str], Tree]:
    """The flattened tree of a base image reference, flattened once per session."""
    trees: dict[str, Tree] = {}

    def get(ref: str) -> Tree:
        if ref not in trees:
            trees[ref] = flatten(ref)
        return trees[ref]

    return get
