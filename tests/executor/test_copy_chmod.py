"""``--chmod`` values: octal and BSD-symbolic modes as BuildKit evaluates them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.errors import BuildError
from kaniko.executor.steps.chmod import parse_chmod

# (mode text, original permission bits, is a directory, expected permission bits)
TABLE = [
    ("755", 0o644, False, 0o755),
    ("0644", 0o4777, False, 0o644),  # octal replaces the set-id bits too
    ("4755", 0o644, False, 0o4755),
    ("0", 0o777, True, 0o000),
    ("7777", 0o000, False, 0o7777),
    ("u+x", 0o644, False, 0o744),
    ("go-w", 0o666, False, 0o644),
    ("a=r", 0o777, False, 0o444),
    ("+x", 0o644, False, 0o755),  # no class: all of them
    ("+w", 0o444, False, 0o644),  # no class: limited by umask 022
    ("=rw,+X", 0o755, False, 0o755),  # X keeps execute that was there
    ("=rw,+X", 0o644, True, 0o755),  # X on a directory
    ("=rw,+X", 0o644, False, 0o644),
    ("-X", 0o755, False, 0o755),  # X only counts with +
    ("u=rwx,go=u-w", 0o000, False, 0o755),  # copy the user's bits, then drop w
    ("go=", 0o777, False, 0o700),
    ("g=u", 0o740, False, 0o770),
    ("o+g", 0o750, False, 0o755),
    ("u-x,g+w", 0o755, False, 0o675),
    ("u+s", 0o755, False, 0o4755),
    ("g+s", 0o755, True, 0o2755),
    ("o+s", 0o755, False, 0o755),  # set-id for "o" alone is ignored
    ("+t", 0o755, True, 0o1755),
    ("o+t", 0o755, True, 0o755),
    ("a-s", 0o6755, False, 0o755),
    ("u=rw,g=r,o=", 0o777, False, 0o640),
    ("ug+rw,o-rwx", 0o604, False, 0o660),
]


@pytest.mark.parametrize(("text", "mode", "is_dir", "want"), TABLE, ids=[t[0] for t in TABLE])
def test_modes(text: str, mode: int, is_dir: bool, want: int) -> None:
    assert parse_chmod(text).apply(mode, is_dir=is_dir) == want


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("8", "it should be octal string and between 0 and 07777"),
        ("17777", "between 0 and 07777"),
        ("0o755", "it should be octal string"),
        ("abc", "not an octal or symbolic mode"),
        ("u+q", "not an octal or symbolic mode"),
        ("u", "not an octal or symbolic mode"),
        ("u+x,", "not an octal or symbolic mode"),
        (",u+x", "not an octal or symbolic mode"),
    ],
)
def test_invalid(text: str, needle: str) -> None:
    with pytest.raises(BuildError, match=needle):
        parse_chmod(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0o7777), st.integers(0, 0o7777), st.booleans())
def test_octal_is_absolute(value: int, mode: int, is_dir: bool) -> None:
    assert parse_chmod(f"{value:o}").apply(mode, is_dir=is_dir) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0o7777), st.sampled_from("ugo"), st.sampled_from("rwx"))
def test_plus_then_minus_restores_other_bits(mode: int, who: str, perm: str) -> None:
    added = parse_chmod(f"{who}+{perm}").apply(mode, is_dir=False)
    removed = parse_chmod(f"{who}-{perm}").apply(added, is_dir=False)
    bit = {"r": 4, "w": 2, "x": 1}[perm] << {"u": 6, "g": 3, "o": 0}[who]
    assert added == mode | bit
    assert removed == mode & ~bit
