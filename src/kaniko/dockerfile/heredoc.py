"""Finding the here-documents a RUN, COPY or ADD line opens, as BuildKit finds them.

BuildKit splits the whole logical line into shell words with its word lexer (quotes and
backslashes kept, unset variables left as written) and takes every word shaped like
``[fd]<<[-]WORD`` as a heredoc. The delimiter is WORD with its quotes removed; if any part
of it was quoted, the body is not expanded. Its body is stored as written: for ``<<-``
the leading tabs are stripped only when the body is used (:func:`heredoc_body`).

The lexer here is the subset of BuildKit's that this needs: no variables are ever set, so
``$x`` and ``${x…}`` come out as written, and malformed ones are errors.
"""

from __future__ import annotations

import re

from kaniko.dockerfile.ast import Heredoc
from kaniko.dockerfile.words import GO_SPACE_SET, LineError, go_quote

_RE_HEREDOC = re.compile(r"([0-9]*)<<(-?)([^<]*)", re.DOTALL)
_RE_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_MAX_FD = 2**64 - 1


class _LexError(Exception):
    pass


class _Words:
    """Collects the words of a lexed string (BuildKit's wordsStruct)."""

    __slots__ = ("in_word", "word", "words")

    def __init__(self) -> None:
        self.words: list[str] = []
        self.word = ""
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch in GO_SPACE_SET:
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word, self.in_word = "", False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def finish(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False
        return self.words


class _Lexer:
    """BuildKit's shell word lexer with an empty environment and unset variables kept."""

    __slots__ = ("pos", "raw_escapes", "raw_quotes", "text")

    def __init__(self, text: str, *, raw_quotes: bool, raw_escapes: bool) -> None:
        self.text = text
        self.pos = 1 if text.startswith("\ufeff") else 0  # Go's text/scanner skips a BOM
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def words(self) -> list[str]:
        return self._until("")[1]

    def _until(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while (ch := self.peek()) != "":
            if stop and ch == stop:
                self.next()
                return "".join(result), words.finish()
            if ch in "$'\"":
                part = self._dollar() if ch == "$" else self._quoted(ch)
                result.append(part)
                if ch == "$":
                    for c in part:
                        words.add_char(c)
                else:
                    words.add_raw(part)
                continue
            ch = self.next()
            if ch == "\\":
                if self.raw_escapes:
                    words.add_raw(ch)
                    result.append(ch)
                ch = self.next()
                if not ch:
                    break
                words.add_raw(ch)
            else:
                words.add_char(ch)
            result.append(ch)
        if stop:
            raise _LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish()

    def _quoted(self, quote: str) -> str:
        opening = self.next()
        result = [opening] if self.raw_quotes else []
        while True:
            ch = self.peek()
            if not ch:
                kind = "single" if quote == "'" else "double"
                raise _LexError(
                    f"unexpected end of statement while looking for matching {kind}-quote"
                )
            if ch == quote:
                self.next()
                if self.raw_quotes:
                    result.append(ch)
                return "".join(result)
            if quote == '"' and ch == "$":
                result.append(self._dollar())
                continue
            ch = self.next()
            if quote == '"' and ch == "\\":
                if self.raw_escapes:
                    result.append(ch)
                following = self.peek()
                if not following:
                    continue
                if following in '"$\\':
                    ch = self.next()
            result.append(ch)

    def _dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self._name()
            return "$" + name
        self.next()
        first = self.peek()
        if not first:
            raise _LexError("syntax error: missing '}'")
        if first in "{}:":
            raise _LexError("syntax error: bad substitution")
        name = self._name()
        ch = self.next()
        if ch == "}":
            return "${" + name + "}"
        modifier = ch
        if ch == ":":
            ch = self.next()
            modifier += ch or "\ufffd"
        elif ch not in ("+", "-", "?"):
            shown = ch or "\ufffd"
            raise _LexError(f"unsupported modifier ({shown}) in substitution")
        try:
            word, _ = self._until("}")
        except _LexError:
            if not self.peek():
                raise _LexError("syntax error: missing '}'") from None
            raise
        return "${" + name + modifier + word + "}"

    def _name(self) -> str:
        start = self.pos
        text = self.text
        if start < len(text):
            first = text[start]
            if first.isdecimal():
                end = start
                while end < len(text) and text[end].isdecimal():
                    end += 1
                self.pos = end
                return text[start:end]
            if first in _SPECIAL_PARAMS:
                self.pos += 1
                return first
        end = start
        while end < len(text) and _is_name_char(text[end]):
            end += 1
        self.pos = end
        return text[start:end]


def _is_name_char(ch: str) -> bool:
    # Go's unicode.IsLetter or unicode.IsDigit (Nd only: str.isalnum would admit "²").
    return ch.isalpha() or ch.isdecimal() or ch == "_"


def _process_words(text: str, *, raw_quotes: bool, raw_escapes: bool = False) -> list[str]:
    try:
        return _Lexer(text, raw_quotes=raw_quotes, raw_escapes=raw_escapes).words()
    except _LexError as err:
        raise LineError(f"failed to process {go_quote(text)}: {err}") from None


def parse_heredoc_word(word: str) -> Heredoc | None:
    """The heredoc a word like ``3<<-"EOF"`` opens (content empty), or None."""
    match = _RE_HEREDOC.fullmatch(word)
    if match is None:
        return None
    digits, dash, rest = match.groups()
    if not rest:
        return None
    words = _process_words(rest, raw_quotes=False)
    if len(words) != 1:
        return None
    raw = _process_words(rest, raw_quotes=True)
    if len(raw) != len(words):
        raise LineError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    name = words[0]
    quotes = name.count("'") + name.count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"')
    return Heredoc(
        name=name,
        content="",
        file_descriptor=min(int(digits), _MAX_FD) if digits else 0,
        expand=quotes == raw_quotes,
        chomp=dash == "-",
    )


def heredocs_from_line(line: str) -> list[Heredoc]:
    """Every heredoc a logical line opens, in order; a line that fails to lex opens none."""
    try:
        words = _Lexer(line, raw_quotes=True, raw_escapes=True).words()
    except _LexError:
        return []
    found = []
    for word in words:
        heredoc = parse_heredoc_word(word)
        if heredoc is not None:
            found.append(heredoc)
    return found


def heredoc_body(heredoc: Heredoc) -> str:
    """The body as the instruction uses it: for ``<<-``, leading tabs of each line removed."""
    if heredoc.chomp:
        return _RE_LEADING_TABS.sub("", heredoc.content)
    return heredoc.content
