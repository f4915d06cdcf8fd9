"""The shell patterns of ``${V#p}``, ``${V%p}`` and ``${V/p/r}`` run in linear time and give
the leftmost-first matches Go's regexp (and Python's backtracking ``re``) give."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.dockerfile.shell_pattern import _compile, replace, trim_prefix, trim_suffix

PATTERN = st.text(alphabet="ab*?\n", max_size=8)
VALUE = st.text(alphabet="abc\n", max_size=14)


def _python_regex(pattern: str, greedy: bool) -> re.Pattern[str]:
    star = ".*" if greedy else ".*?"
    return re.compile(
        "".join(star if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    )


@settings(max_examples=400, deadline=None)
@given(PATTERN, VALUE, st.booleans(), st.integers(0, 14))
def test_same_matches_as_a_backtracking_engine(
    pattern: str, value: str, greedy: bool, pos: int
) -> None:
    pos = min(pos, len(value))
    program = _compile(pattern, greedy=greedy)
    expected = _python_regex(pattern, greedy)
    anchored = expected.match(value, pos)
    assert program.run(value, pos, anchored=True) == (anchored.span() if anchored else None)
    search = expected.search(value, pos)
    assert program.run(value, pos, anchored=False) == (search.span() if search else None)


def test_patterns_that_make_a_backtracking_engine_explode_finish() -> None:
    value = "a" * 3000
    pattern = "*a" * 25 + "b"  # no match: a backtracking engine tries ~3000^25 ways
    assert trim_prefix(pattern, value, greedy=False) == value
    assert trim_prefix(pattern, value, greedy=True) == value
    assert trim_suffix("b" + "a*" * 25, value, greedy=True) == value
    assert replace(pattern, value, "x", all_matches=True) == value
    assert replace("*a" * 25, value, "x", all_matches=False) == "x"
