"""Word expansion: special parameters, patterns, field splitting, the escape and the knobs.

These rows follow BuildKit's lexer (moby/buildkit frontend/dockerfile/shell) where it
differs from a POSIX shell: specials are plain names, brackets in patterns are literal,
wildcards stop at a newline, the ``//`` replacement is a Go regexp template.
"""

from __future__ import annotations

import pytest

from kaniko.dockerfile.shell import ShellLex

# (word, env, expected ProcessWord result)
SPECIAL_CASES = [
    ("$@", {}, ""),
    ("$@", {"@": "at"}, "at"),
    ("$$", {}, ""),
    ("$$x", {}, "x"),
    ("$12x", {"12": "twelve"}, "twelvex"),
    ("$0", {}, ""),
    ("$01", {"01": "z"}, "z"),
    ("${1}", {"1": "one"}, "one"),
    ("${#}", {}, ""),
    ("$-x", {}, "x"),
    ("$!", {}, ""),
    ("$*", {}, ""),
    ("$?x", {}, "x"),
    ("$", {}, "$"),
    ("a$", {}, "a$"),
    ("$ x", {}, "$ x"),
    ("$/", {}, "$/"),
    ("$%", {}, "$%"),
    ("$'a'", {}, "$a"),
    ('$"a"', {}, "$a"),
    ("$名golang", {"名golang": "v"}, "v"),
    ("$é-", {"é": "e"}, "e-"),
    ("${Foo}", {"FOO": "x"}, ""),
    ("$foo", {"FOO": "x", "foo": "y"}, "y"),
    ("${A:-$B}", {"B": "b"}, "b"),
    ("${A:-${B:-c}}", {}, "c"),
    ("${A:-'${B}'}", {"B": "b"}, "${B}"),
    (r"${A:-\}}", {}, "}"),
    ("${A:-'}'}", {}, "}"),
    ('${A:-"}"}', {}, "}"),
    ("${A+${B}}", {"A": "", "B": "b"}, "b"),
    ("\ufeff$A", {"A": "a"}, "a"),  # a leading byte-order mark is skipped
]


@pytest.mark.parametrize(("word", "env", "expected"), SPECIAL_CASES)
def test_special_names_and_nesting(word: str, env: dict[str, str], expected: str) -> None:
    assert ShellLex().process_word(word, env) == expected


# (word, V, expected) for pattern operators on V.
PATTERN_CASES = [
    ("${V#[ab]}", "[ab]c", "c"),  # brackets are literal, not a class
    ("${V#[ab]}", "ac", "ac"),
    ("${V#a?}", "abc", "c"),
    ("${V%?}", "abc", "ab"),
    ("${V%%b*}", "abcb", "a"),
    ("${V%b*}", "abcb", "abc"),
    ("${V##*}", "a\nb", "\nb"),  # wildcards do not match a newline
    ("${V%%*}", "a\nb", "a\n"),
    ("${V//*/R}", "abc", "R"),  # no second, empty match after a match
    ("${V//*/R}", "a\nb", "R\nR"),
    ("${V//$E/-}", "ab", "-a-b-"),
    ("${V/$E/-}", "ab", "-ab"),
    ("${V/b/[$R]}", "abc", "a[$0]c"),  # one replacement is inserted as written
    ("${V//b/[$R]}", "abc", "a[b]c"),  # all: $0 is the matched text
    ("${V//b/$D}", "abc", "a$c"),  # $$ is a dollar
    ("${V//b/<$X>}", "abc", "a<>c"),  # other names are empty
    ("${V//b/$L}", "abc", "a$c"),  # a lone $ stays
    ("${V//b/$B0}", "abc", "abc"),  # ${0}
    ("${V:#a}", "ab", "b"),  # ":" before # or % changes nothing
    ("${V:%b}", "ab", "a"),
    ('${V#"?"}', "ab", "b"),  # a quoted ? is still a wildcard once unquoted
    ("${V/x/a b}", "x", "a b"),
    ("${V//a/\\\\}", "aa", "\\\\\\\\"),  # the replacement keeps its escapes
]

PATTERN_ENV = {"E": "", "R": "$0", "D": "$$", "X": "$x", "L": "$", "B0": "${0}"}


@pytest.mark.parametrize(("word", "value", "expected"), PATTERN_CASES)
def test_patterns(word: str, value: str, expected: str) -> None:
    assert ShellLex().process_word(word, {**PATTERN_ENV, "V": value}) == expected


# (word, env, expected fields)
SPLIT_CASES = [
    ("", {}, []),
    ('""', {}, []),
    ("a '' b", {}, ["a", "b"]),
    ("  a\tb\nc  ", {}, ["a", "b", "c"]),
    ("a\u3000b\u00a0c", {}, ["a", "b", "c"]),  # Unicode spaces split too
    ("a\x1cb", {}, ["a\x1cb"]),  # ... but not the ASCII separators Python counts
    ("$V", {"V": " x  y "}, ["x", "y"]),
    ('"$V"', {"V": " x  y "}, [" x  y "]),
    ("${A:-a b}", {}, ["a", "b"]),
    ('${A:-"a b"}', {}, ["a", "b"]),  # the default's quotes do not survive the split
    (r"${A:-a\ b}", {}, ["a", "b"]),
    ('"${A:-a b}"', {}, ["a b"]),
    ("'a b'c d", {}, ["a bc", "d"]),
]


@pytest.mark.parametrize(("word", "env", "expected"), SPLIT_CASES)
def test_field_splitting(word: str, env: dict[str, str], expected: list[str]) -> None:
    lex = ShellLex()
    assert lex.process_words(word, env) == expected
    assert list(lex.process_word_with_matches(word, env).words) == expected


BACKTICK_CASES = [
    (r"C:\path\$X", {"X": "x"}, r"C:\path\x"),
    ("a`$b", {"b": "B"}, "a$b"),
    ('"x`"y"', {}, 'x"y'),
    ("``", {}, "`"),
    ('"a\\"', {}, "a\\"),
    ("'a`b'", {}, "a`b"),
    ("a` b", {}, "a b"),
    ("end`", {}, "end"),
    ("${V//`//-}", {"V": "a`/b"}, "a-b"),  # the escape is kept in a pattern: literal "`/"
]


@pytest.mark.parametrize(("word", "env", "expected"), BACKTICK_CASES)
def test_backtick_escape(word: str, env: dict[str, str], expected: str) -> None:
    assert ShellLex("`").process_word(word, env) == expected


def test_backtick_escaped_space_keeps_one_field() -> None:
    assert ShellLex("`").process_words("a` b c", {}) == ["a b", "c"]


# (knobs, word, env, expected result, expected fields)
KNOB_CASES = [
    ({"raw_quotes": True}, "'a b' \"c\"", {}, "'a b' \"c\"", ["'a b'", '"c"']),
    ({"raw_quotes": True}, '"$X"', {"X": "1"}, '"1"', ['"1"']),
    ({"raw_escapes": True}, r"a\ b", {}, r"a\ b", [r"a\ b"]),
    ({"raw_escapes": True}, r'"x\"y"', {}, r"x\"y", [r"x\"y"]),
    ({"raw_escapes": True}, r'"a\tb"', {}, r"a\\tb", [r"a\\tb"]),  # BuildKit doubles it
    ({"raw_escapes": True}, "hello\\", {}, "hello\\", ["hello\\"]),
    ({"raw_escapes": True}, r"${A:-\$x}", {}, "$x", ["$x"]),  # defaults are never raw
    ({"raw_quotes": True, "raw_escapes": True, "skip_unset_env": True},
     "<<\"EOF\" <<'E2' $A", {}, "<<\"EOF\" <<'E2' $A", ['<<"EOF"', "<<'E2'", "$A"]),
    ({"skip_process_quotes": True}, "echo '$A' \"$B\"", {"A": "1", "B": "2"},
     "echo '1' \"2\"", ["echo", "'1'", '"2"']),
    ({"skip_process_quotes": True}, "it's", {}, "it's", ["it's"]),
    ({"skip_process_quotes": True}, r"\$A a\nb", {"A": "1"}, "$A anb", ["$A", "anb"]),
    ({"skip_unset_env": True}, "$V ${V} ${V:-x} ${V-$W}", {"W": "w"},
     "$V ${V} ${V:-x} ${V-w}", ["$V", "${V}", "${V:-x}", "${V-w}"]),
    ({"skip_unset_env": True}, "${V/a/b} ${V//a/b} ${V#p} ${V##p}", {},
     "${V/a/b} ${V/a/b} ${V#p} ${V##p}", ["${V/a/b}", "${V/a/b}", "${V#p}", "${V##p}"]),
    ({"skip_unset_env": True}, "${V?m} ${V:?} ${V:x}", {}, "${V?m} ${V:?} ${V:x}",
     ["${V?m}", "${V:?}", "${V:x}"]),
    ({"skip_unset_env": True}, "$V ${V:-x}", {"V": "v"}, "v v", ["v", "v"]),
    ({"raw_quotes": True, "skip_unset_env": True}, "echo \"$X\" $Y", {"X": "1"},
     'echo "1" $Y', ["echo", '"1"', "$Y"]),
]  # fmt: skip


@pytest.mark.parametrize(("knobs", "word", "env", "result", "words"), KNOB_CASES)
def test_knobs(
    knobs: dict[str, bool], word: str, env: dict[str, str], result: str, words: list[str]
) -> None:
    got = ShellLex(**knobs).process_word_with_matches(word, env)
    assert (got.result, list(got.words)) == (result, words)


def test_skip_unset_env_still_reports_unmatched() -> None:
    got = ShellLex(skip_unset_env=True).process_word_with_matches("$A${B:-$C}", {"C": "c"})
    assert (got.result, got.matched, got.unmatched) == ("$A${B:-c}", {"C"}, {"A", "B"})


def test_escape_must_be_one_character() -> None:
    with pytest.raises(ValueError, match="one character"):
        ShellLex("")
