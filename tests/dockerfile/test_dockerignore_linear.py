"""Linear-time matching of .dockerignore regexes: same answers as ``re``, no blow-up.

``**/`` repeated k times became k nested optional groups, on which Python's backtracking
``re`` took time exponential in k (8 took seconds per path, 10 minutes). The linear
engine must answer exactly as ``re`` does on every pattern moby can produce: the table
and quirk rows of ``test_dockerignore_match`` and random patterns say so.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.dockerfile import patterns as gp
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.dockerfile.linear_regex import compile_linear, needs_linear
from tests.dockerfile.test_dockerignore_match import QUIRKS, TABLE


def _python_regex(pattern: str) -> str | None:
    text = gp.go_clean(pattern.strip(gp.GO_SPACE)).removeprefix("!")
    try:
        gp.check_glob(text)
        kind, source = gp.classify(text)
        if kind != gp.REGEX:
            return None
        python = gp.go_regex_to_python(source)
        re.compile(python, re.ASCII)
    except (gp.BadPattern, re.error):
        return None
    return python


def _subjects(path: str) -> list[str]:
    parts = path.split("/")
    return [path] + ["/".join(parts[:i]) for i in range(1, len(parts))]


def _agree(python: str, subjects: list[str]) -> None:
    backtracking = re.compile(python, re.ASCII).match
    linear = compile_linear(python)
    for subject in subjects:
        assert linear(subject) == bool(backtracking(subject)), (python, subject)


ROWS = [(p, path) for patterns, path, _ in TABLE for p in patterns] + [
    (pattern, path) for pattern, path, _ in QUIRKS
]


@pytest.mark.parametrize(("pattern", "path"), ROWS)
def test_the_linear_engine_agrees_with_re_on_every_table_row(pattern: str, path: str) -> None:
    python = _python_regex(pattern)
    if python is not None:
        _agree(python, [*_subjects(path), "", "x", path + "/more", "a]", "ab$"])


PIECES = ["a", "b", "/", "*", "?", "**", "**/", "[ab]", "[^a]", "[a-c]", "\\d", "\\b", ".", "x]"]


@settings(max_examples=400, deadline=None)
@given(
    pattern=st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join),
    paths=st.lists(st.text("ab/._1]", max_size=12), min_size=1, max_size=6),
)
def test_the_linear_engine_agrees_with_re_on_random_patterns(
    pattern: str, paths: list[str]
) -> None:
    python = _python_regex(pattern)
    if python is not None:
        _agree(python, paths)


def test_simple_patterns_stay_with_re_and_starred_ones_go_linear() -> None:
    assert not needs_linear(r"\A[^/]*\.log\Z")
    assert not needs_linear(r"\Abuild/[a-z]\Z")
    assert needs_linear(r"\A(?:.*/)?[^/]*\.pyc\Z")
    assert needs_linear(r"\A[^/]*a[^/]*b\Z")
    assert not needs_linear(r"\Aa\*\+b[*+]\Z")  # escaped or in a class: not repetition


def test_many_double_stars_match_in_linear_time() -> None:
    """Run apart, with a generous bound: the backtracking engine never finishes this."""
    script = textwrap.dedent(
        """
        from kaniko.dockerfile.dockerignore import PatternMatcher
        deep = "/".join(["a"] * 200)
        hostile = ["**/" * 40 + "x", "*a" * 30 + "b", "**/*a*a*a*a*a*a*a*a*a*a*b/**"]
        matcher = PatternMatcher(hostile)
        assert not matcher.excluded(deep + "/y")
        assert not matcher.can_skip_dir(deep)
        assert matcher.excluded(deep + "/x")
        assert matcher.excluded("a" * 200 + "b")
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_the_patterns_still_mean_what_moby_says() -> None:
    matcher = PatternMatcher(["**/**/**/**/**/**/**/**/*.tmp", "!keep/**"])
    assert matcher.excluded("a/b/c/d/e/f/g/h/i/j.tmp")
    assert matcher.excluded("j.tmp")
    assert not matcher.excluded("keep/a/b.tmp")
    assert not matcher.excluded("a/b/c.txt")
