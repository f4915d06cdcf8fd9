"""The engine of :mod:`kaniko.dockerfile.shell`: one pass over a word, as BuildKit's lexer.

It mirrors BuildKit's ``shellWord`` step by step (what is consumed before an error is
detected decides which message is given), so :class:`Expansion` is written as a cursor
over the word with ``peek``/``next``, and :class:`Fields` accumulates the split fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from kaniko.dockerfile.shell_pattern import PatternError, replace, trim_prefix, trim_suffix

# Go's unicode.IsSpace: the Unicode White_Space characters.
_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_MISSING_BRACE = "syntax error: missing '}'"
# Bounds on hostile words (BuildKit has none; Go's growable stacks hide the nesting one):
# ``${A:-${A:-…}}`` recurses once per level, and ``A1=${A0}${A0}``, ``A2=${A1}${A1}`` …
# doubles a value per line. No real Dockerfile comes near either.
MAX_NESTING = 64
MAX_SUBSTITUTED = 1 << 20  # bytes of variable values one word may take in


class Knobs(Protocol):
    """The lexer settings an expansion reads (see :class:`kaniko.dockerfile.shell.ShellLex`)."""

    escape: str
    raw_quotes: bool
    raw_escapes: bool
    skip_process_quotes: bool
    skip_unset_env: bool


class LexError(Exception):
    """An expansion failure, before the word is named in the message."""


class _LimitError(LexError):
    """A word past :data:`MAX_NESTING` or :data:`MAX_SUBSTITUTED`: reported as it is."""


class Fields:
    """Splits the expanded characters into fields, as BuildKit's ``wordsStruct``."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.current: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch not in _SPACES:
            self.add_raw(ch)
        elif self.in_word and self.current:
            self.words.append("".join(self.current))
            self.current = []
            self.in_word = False

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw(self, text: str) -> None:
        if text:
            self.current.append(text)
        self.in_word = True  # even for "": it opens a field that a space will not close

    def finish(self) -> list[str]:
        if self.current:
            self.words.append("".join(self.current))
            self.current = []
            self.in_word = False
        return self.words


def _is_name_char(ch: str) -> bool:
    return ch.isalpha() or ch.isdecimal() or ch == "_"


class Expansion:
    """The state of one expansion: the cursor in the word and the names looked up."""

    def __init__(self, lex: Knobs, word: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        # Go's text/scanner skips a byte-order mark at the start of its input.
        self.src = word.removeprefix("\ufeff")
        self.pos = 0
        self.env = env
        self.raw_escapes = lex.raw_escapes
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()
        self.depth = 0
        self.substituted = 0

    def peek(self) -> str | None:
        return self.src[self.pos] if self.pos < len(self.src) else None

    def next(self) -> str | None:
        ch = self.peek()
        if ch is not None:
            self.pos += 1
        return ch

    def lookup(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            self.matched.add(name)
            value = self.env[name]
            self.substituted += len(value)
            if self.substituted > MAX_SUBSTITUTED:
                raise _LimitError(
                    f"expansion too large: variables add more than {MAX_SUBSTITUTED} "
                    "bytes to one word"
                )
            return value, True
        self.unmatched.add(name)
        return "", False

    def until(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        """Expand up to ``stop`` (consumed) or, when ``stop`` is None, to the end."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._until(stop)
        finally:
            self.raw_escapes = saved

    def _until(self, stop: str | None) -> tuple[str, list[str]]:
        result: list[str] = []
        fields = Fields()
        quotes = not self.lex.skip_process_quotes
        escape = self.lex.escape
        while (ch := self.peek()) is not None:
            if ch == stop:
                self.pos += 1
                return "".join(result), fields.finish()
            if ch == "$":
                text = self.dollar()
                result.append(text)
                fields.add_string(text)
            elif quotes and ch in "'\"":
                text = self.single_quoted() if ch == "'" else self.double_quoted()
                result.append(text)
                fields.add_raw(text)
            else:
                self.pos += 1
                if ch == escape:
                    if self.raw_escapes:
                        fields.add_raw(ch)
                        result.append(ch)
                    escaped = self.next()
                    if escaped is None:
                        break  # an escape at the end of the word is dropped
                    ch = escaped
                    fields.add_raw(ch)
                else:
                    fields.add_char(ch)
                result.append(ch)
        if stop is not None:
            raise LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), fields.finish()

    def single_quoted(self) -> str:
        raw = self.lex.raw_quotes
        out = [self.src[self.pos]] if raw else []
        self.pos += 1
        while (ch := self.next()) != "'":
            if ch is None:
                raise LexError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            out.append(ch)
        if raw:
            out.append(ch)
        return "".join(out)

    def double_quoted(self) -> str:
        raw = self.lex.raw_quotes
        escape = self.lex.escape
        out = [self.src[self.pos]] if raw else []
        self.pos += 1
        while (ch := self.peek()) != '"':
            if ch is None:
                raise LexError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == escape:
                if self.raw_escapes:
                    out.append(ch)
                following = self.peek()
                if following is None:
                    continue  # reported as an unterminated quote just above
                if following in ('"', "$", escape):
                    ch = following
                    self.pos += 1
            out.append(ch)
        self.pos += 1
        if raw:
            out.append(ch)
        return "".join(out)

    def name(self) -> str:
        """Read a variable name: letters, digits and ``_``; or digits; or one special."""
        start = self.pos
        src = self.src
        if start < len(src):
            first = src[start]
            if first.isdecimal():
                end = start
                while end < len(src) and src[end].isdecimal():
                    end += 1
                self.pos = end
                return src[start:end]
            if first in _SPECIAL_PARAMS:
                self.pos += 1
                return first
        while self.pos < len(src) and _is_name_char(src[self.pos]):
            self.pos += 1
        return src[start : self.pos]

    def dollar(self) -> str:
        self.pos += 1  # the "$"
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value, found = self.lookup(name)
            if not found and self.lex.skip_unset_env:
                return "$" + name
            return value
        self.pos += 1  # the "{"
        ch = self.peek()
        if ch is None:
            raise LexError(_MISSING_BRACE)
        if ch in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self.name()
        op = self.next()
        if op is None:
            # BuildKit says "unsupported modifier (\ufffd) in substitution" here (it prints
            # the end-of-input marker); the one deliberate difference is a clearer message.
            raise LexError(_MISSING_BRACE)
        if op == "}":
            value, found = self.lookup(name)
            if not found and self.lex.skip_unset_env:
                return f"${{{name}}}"
            return value
        if op == "/":
            return self.substitute(name)
        if op not in ":+-?#%":
            raise LexError(f"unsupported modifier ({op}) in substitution")
        return self.modifier(name, op)

    def closing(self, stop: str, raw_escapes: bool, missing: str) -> str:
        """Expand the word part of a ``${...}`` up to ``stop``."""
        if self.depth >= MAX_NESTING:
            raise _LimitError(f"expansion nested too deeply: more than {MAX_NESTING} levels")
        self.depth += 1
        try:
            return self.until(stop, raw_escapes)[0]
        except LexError as err:
            if self.peek() is None and not isinstance(err, _LimitError):
                raise LexError(missing) from None
            raise
        finally:
            self.depth -= 1

    def modifier(self, name: str, op: str) -> str:
        null_is_unset = op == ":"
        chs = op
        if null_is_unset:
            following = self.next()
            op = following or "\ufffd"
            chs += op
        word = self.closing("}", op in "#%", _MISSING_BRACE)
        value, found = self.lookup(name)
        if not found and self.lex.skip_unset_env:
            return f"${{{name}{chs}{word}}}"
        empty = not found or (null_is_unset and value == "")
        if op == "-":
            return word if empty else value
        if op == "+":
            return "" if empty else word
        if op == "?":
            if not found:
                raise LexError(f"{name}: {word or 'is not allowed to be unset'}")
            if empty:
                raise LexError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if op in "#%":
            greedy = word.startswith(op)
            pattern = word[1:] if greedy else word
            trim = trim_suffix if op == "%" else trim_prefix
            try:
                return trim(pattern, value, greedy=greedy)
            except PatternError as err:
                raise LexError(str(err)) from None
        raise LexError(f"unsupported modifier ({chs}) in substitution")

    def substitute(self, name: str) -> str:
        all_matches = self.peek() == "/"
        if all_matches:
            self.pos += 1
        pattern = self.closing("/", True, "syntax error: missing '/' in ${}")
        replacement = self.closing("}", True, _MISSING_BRACE)
        value, found = self.lookup(name)
        if not found and self.lex.skip_unset_env:
            return f"${{{name}/{pattern}/{replacement}}}"
        try:
            return replace(pattern, value, replacement, all_matches=all_matches)
        except PatternError as err:
            raise LexError(str(err)) from None
