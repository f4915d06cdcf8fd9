"""Our parser against BuildKit's own, on every hand-written case of the corpus.

For each case both parsers must agree on every instruction's name, trigger name, form,
original text, first and last line, flags, value words and heredocs; where BuildKit
rejects the file we must raise DockerfileError with the same message and a line number.
"""

from __future__ import annotations

import pytest

from tests.dockerfile.corpus import all_cases, assert_same_as_buildkit

oracle = pytest.importorskip("dockerfile")

CASES = all_cases()


@pytest.mark.parametrize(("case_id", "text"), [pytest.param(*case, id=case[0]) for case in CASES])
def test_same_as_buildkit(case_id: str, text: str) -> None:
    rejected = assert_same_as_buildkit(text, oracle)
    # the corpus labels its rejected cases, so a reader knows which ones must fail
    assert rejected == case_id.split("/", 1)[1].startswith("error-")


def test_corpus_is_large_and_grouped() -> None:
    ids = [case_id for case_id, _ in CASES]
    assert len(ids) == len(set(ids)) >= 170
    groups = {case_id.split("/", 1)[0] for case_id in ids}
    assert groups == {"directives", "lines", "forms", "heredocs"}
