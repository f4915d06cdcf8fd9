"""Word expansion failures: which words BuildKit rejects, and with what message."""

from __future__ import annotations

import pytest

from kaniko.dockerfile.shell import ShellLex
from kaniko.errors import ExpansionError, KanikoError

BAD_SUB = "syntax error: bad substitution"
NO_BRACE = "syntax error: missing '}'"
SINGLE = "unexpected end of statement while looking for matching single-quote"
DOUBLE = "unexpected end of statement while looking for matching double-quote"

# (word, env, message after 'failed to process "WORD": ')
ERROR_CASES = [
    # envVarTest rows that BuildKit expects to fail
    ("he'llo", {}, SINGLE),
    (r"he\\'llo", {}, SINGLE),
    ('"hello', {}, DOUBLE),
    ('"hello\\"', {}, DOUBLE),
    ('"hello\\', {}, DOUBLE),
    ("'hello", {}, SINGLE),
    ("안'녕하세요", {}, SINGLE),
    ('"안녕하세요\\"', {}, DOUBLE),
    ('hello" there', {}, DOUBLE),
    ("${}", {}, BAD_SUB),
    ("${}aaa", {}, BAD_SUB),
    ("he${}", {}, BAD_SUB),
    ("he${}xx", {}, BAD_SUB),
    ("안녕${}xx", {}, BAD_SUB),
    ("${{aaa}", {}, BAD_SUB),
    ("${{aaa:-bbb}", {}, BAD_SUB),
    ("${:}", {}, BAD_SUB),
    ("${:-bbb}", {}, BAD_SUB),
    ("${:+bbb}", {}, BAD_SUB),
    ("${A:-${}}", {}, BAD_SUB),  # a nested error is passed on as it is
    ("$A${", {}, NO_BRACE),
    ("he${PWD", {"PWD": "/home"}, NO_BRACE),
    ("${aaa", {}, NO_BRACE),
    ("${aaa:-bbb", {}, NO_BRACE),
    ("${aaa:-bbb ${foo}", {}, NO_BRACE),
    ("${A:-'x}", {}, NO_BRACE),  # ... unless it ran off the end of the word
    ("${A:", {}, NO_BRACE),
    ("${V:}", {}, NO_BRACE),
    ("${V:-x\\", {}, NO_BRACE),
    ("he${.}", {}, "unsupported modifier (.) in substitution"),
    ("he${XXX:YYY}", {}, "unsupported modifier (:Y) in substitution"),
    ("he${PWD:=000}xx", {"PWD": "/home"}, "unsupported modifier (:=) in substitution"),
    ("${FOO=aaa}", {"FOO": "xxx"}, "unsupported modifier (=) in substitution"),
    ("${FOO=:aaa}", {"FOO": "xxx"}, "unsupported modifier (=) in substitution"),
    ("${FOO=}", {}, "unsupported modifier (=) in substitution"),
    ("${#V}", {"V": "abc"}, "unsupported modifier (V) in substitution"),
    ("${V:0:2}", {"V": "abc"}, "unsupported modifier (:0) in substitution"),
    ("${V:/a/b}", {"V": "abc"}, "unsupported modifier (:/) in substitution"),
    ("${V^^}", {"V": "abc"}, "unsupported modifier (^) in substitution"),
    # ? and :?
    ("${BAZ?ccc}", {}, "BAZ: ccc"),
    ("${BAZ?}", {}, "BAZ: is not allowed to be unset"),
    ("${BAZ:?}", {}, "BAZ: is not allowed to be unset"),
    ("${BAR:?bbb}", {"BAR": ""}, "BAR: bbb"),
    ("${BAR:?}", {"BAR": ""}, "BAR: is not allowed to be empty"),
    ("${VAR:?message here$ARG}", {"ARG": "x"}, "VAR: message herex"),
    ("${VAR:?message here$ARG}", {"VAR": "", "ARG": "x"}, "VAR: message herex"),
    ("${VAR?message here$ARG}", {"ARG": "x"}, "VAR: message herex"),
    # / and //
    ("${FOO//ww}", {"FOO": "xxyy"}, "syntax error: missing '/' in ${}"),
    ("${FOO//}", {"FOO": "xxyy"}, "syntax error: missing '/' in ${}"),
    ("${FOO/a}", {"FOO": "xxyy"}, "syntax error: missing '/' in ${}"),
    ("${FOO/a/b", {"FOO": "xxyy"}, NO_BRACE),
    # patterns
    (r"${V#\x}", {"V": "x"}, r"invalid pattern (\x) in substitution: invalid escape '\x'"),
    (r"${V#\#x}", {"V": "#x"}, r"invalid pattern (\#x) in substitution: invalid escape '\#'"),
    # % reverses the pattern before reading it
    (r"${V%a\x}", {"V": "x"}, r"invalid pattern (\xa) in substitution: invalid escape '\x'"),
    (r"${V/\x/y}", {"V": "x"}, r"invalid pattern (\x) in substitution: invalid escape '\x'"),
    ("${V#$P}", {"V": "x", "P": "a\\"},
     "invalid pattern (a\\) in substitution: invalid escape '\\\ufffd'"),
]  # fmt: skip


@pytest.mark.parametrize(("word", "env", "message"), ERROR_CASES)
def test_errors(word: str, env: dict[str, str], message: str) -> None:
    lex = ShellLex()
    with pytest.raises(ExpansionError) as caught:
        lex.process_word(word, env)
    text = str(caught.value)
    assert text.endswith(": " + message)
    assert text.startswith("failed to process ")
    assert "\n" not in text
    with pytest.raises(ExpansionError):
        lex.process_words(word, env)


def test_message_names_the_word() -> None:
    with pytest.raises(ExpansionError) as caught:
        ShellLex().process_word("${aaa:-bbb", {})
    assert str(caught.value) == "failed to process \"${aaa:-bbb\": syntax error: missing '}'"
    assert isinstance(caught.value, KanikoError)


def test_message_quotes_the_word_on_one_line() -> None:
    with pytest.raises(ExpansionError) as caught:
        ShellLex().process_word('a"\n${V?gone}', {})
    assert str(caught.value) == 'failed to process "a\\"\\n${V?gone}": V: gone'


def test_backtick_escape_cannot_escape_a_slash_in_a_pattern() -> None:
    # With ` as the escape, a backslash is an ordinary character, and a pattern ending in one
    # is an invalid escape.
    with pytest.raises(ExpansionError, match="invalid escape"):
        ShellLex("`").process_word("${V//\\//-}", {"V": "a/b"})


def test_skip_unset_env_defers_the_question_mark() -> None:
    lex = ShellLex(skip_unset_env=True)
    assert lex.process_word("${V:?no}", {}) == "${V:?no}"
    with pytest.raises(ExpansionError, match="V: no"):
        lex.process_word("${V:?no}", {"V": ""})


def test_skip_process_quotes_never_reports_quotes() -> None:
    lex = ShellLex(skip_process_quotes=True)
    assert lex.process_word("it's \"open", {}) == "it's \"open"
    with pytest.raises(ExpansionError, match="missing"):
        lex.process_word("'${A", {})
