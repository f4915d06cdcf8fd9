"""Property tests of word expansion: quoting gives text back, expansion inserts values."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kaniko.dockerfile.shell import ShellLex

# Go's unicode.IsSpace, the separators of process_words.
GO_SPACES = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
SPECIAL = "$'\"\\`"

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
plain_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters=SPECIAL + "\ufeff"), max_size=40
)
name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
simple_word = st.text(
    st.characters(exclude_categories=("Cs", "Z", "Cc"), exclude_characters=SPECIAL + "\ufeff"),
    min_size=1,
    max_size=12,
).filter(lambda w: not any(ch in GO_SPACES for ch in w))

LEXES = [ShellLex(), ShellLex("`")]


def go_fields(text: str) -> list[str]:
    fields, current = [], ""
    for ch in text:
        if ch in GO_SPACES:
            if current:
                fields.append(current)
            current = ""
        else:
            current += ch
    return [*fields, current] if current else fields


@settings(max_examples=150)
@given(plain_text)
@example("a\u3000b \x1c c")
def test_text_without_specials_is_unchanged(text: str) -> None:
    for lex in LEXES:
        got = lex.process_word_with_matches(text, {"A": "x"})
        assert got.result == text
        assert list(got.words) == go_fields(text)
        assert not got.matched and not got.unmatched


@settings(max_examples=150)
@given(any_text.filter(lambda s: "'" not in s))
@example('$A ${B:-c} \\ "')
def test_single_quotes_keep_everything(text: str) -> None:
    for lex in LEXES:
        got = lex.process_word_with_matches(f"'{text}'", {"A": "x"})
        assert got.result == text
        assert list(got.words) == ([text] if text else [])
        assert not got.unmatched


def double_quote(text: str, escape: str) -> str:
    escaped = "".join(escape + ch if ch in ('"', "$", escape) else ch for ch in text)
    return f'"{escaped}"'


@settings(max_examples=150)
@given(any_text)
@example('a\\tb $V "x" `y` \\')
def test_double_quotes_with_escapes_give_the_text_back(text: str) -> None:
    for lex in LEXES:
        got = lex.process_words(double_quote(text, lex.escape), {"V": "v"})
        assert got == ([text] if text else [])
        assert lex.process_word(double_quote(text, lex.escape), {"V": "v"}) == text


@settings(max_examples=150)
@given(name, any_text)
def test_braced_reference_gives_the_value(var: str, value: str) -> None:
    lex = ShellLex()
    for word in (f"${{{var}}}", f'"${{{var}}}"', f"${{{var}:-unused}}", f"${{{var}-x}}"):
        got = lex.process_word_with_matches(word, {var: value})
        assert got.result == value or (word.endswith(":-unused}") and value == "")
        assert got.matched == {var}
    assert lex.process_word(f"${var}", {var: value}) == value
    # unquoted, the value is split on whitespace; quoted, it is one field
    assert lex.process_words(f"${var}", {var: value}) == go_fields(value)
    assert lex.process_words(f'"${var}"', {var: value}) == ([value] if value else [])


@settings(max_examples=100)
@given(name)
def test_unset_reference_is_empty_or_kept(var: str) -> None:
    got = ShellLex().process_word_with_matches(f"<${{{var}}}>", {})
    assert (got.result, got.unmatched) == ("<>", {var})
    kept = ShellLex(skip_unset_env=True).process_word(f"<${var}|${{{var}}}>", {})
    assert kept == f"<${var}|${{{var}}}>"


@settings(max_examples=150)
@given(st.lists(simple_word, min_size=0, max_size=8), st.sampled_from([" ", "  ", "\t", " \n "]))
def test_space_joined_words_split_back(words: list[str], sep: str) -> None:
    line = sep + sep.join(words) + sep
    for lex in LEXES:
        assert lex.process_words(line, {}) == words
        assert lex.process_word(line, {}) == line


literal = st.text(st.sampled_from("abc-._:x@"), min_size=1, max_size=4)
value_text = st.text(st.sampled_from("abc-._:x@/ "), max_size=20)


@settings(max_examples=150)
@given(value_text, literal, st.text(st.sampled_from("abz-"), max_size=3))
def test_literal_patterns_match_str_methods(value: str, pat: str, rep: str) -> None:
    lex = ShellLex()
    env = {"V": value, "P": pat, "R": rep}
    assert lex.process_word("${V/$P/$R}", env) == value.replace(pat, rep, 1)
    assert lex.process_word("${V//$P/$R}", env) == value.replace(pat, rep)
    assert lex.process_word("${V#$P}", env) == value.removeprefix(pat)
    assert lex.process_word("${V##$P}", env) == value.removeprefix(pat)
    assert lex.process_word("${V%$P}", env) == value.removesuffix(pat)
    assert lex.process_word("${V%%$P}", env) == value.removesuffix(pat)


@settings(max_examples=100)
@given(value_text, st.sampled_from(".-:/"))
def test_star_patterns_cut_at_first_or_last_separator(value: str, sep: str) -> None:
    env = {"V": value}
    lex = ShellLex()
    head = value.partition(sep)[0]
    rest = value.split(sep, 1)[1] if sep in value else value
    last_rest = value.rsplit(sep, 1)[1] if sep in value else value
    init = value.rsplit(sep, 1)[0] if sep in value else value
    quoted = "\\/" if sep == "/" else sep
    assert lex.process_word(f"${{V#*{quoted}}}", env) == rest
    assert lex.process_word(f"${{V##*{quoted}}}", env) == last_rest
    assert lex.process_word(f"${{V%{quoted}*}}", env) == init
    assert lex.process_word(f"${{V%%{quoted}*}}", env) == head
