"""Word expansion in Dockerfiles, as BuildKit's shell lexer does it.

A word is read left to right. ``$name``/``${name}`` and the ``${name<op>word}`` forms are
replaced from the environment given (names are case-sensitive; an unset name gives the
empty string). Single quotes keep everything literal; double quotes keep everything but
``$`` expansions, and there the escape character only escapes ``"``, ``$`` and itself.
Outside quotes the escape character (``\\``, or a backtick after ``# escape=```) makes
the next character literal and is dropped; at the very end of the word it is dropped too.

Supported operators: ``:-`` ``-`` ``:+`` ``+`` ``:?`` ``?`` (``:`` also treats an empty
value as unset), ``#`` ``##`` ``%`` ``%%`` (see :mod:`kaniko.dockerfile.shell_pattern`)
and ``/`` ``//`` (both ``/`` separators are required). The word after an operator is
itself expanded, quotes and nested ``${...}`` included, before the variable is looked up.
``$`` before anything but a name, a digit, ``{`` or a special parameter is a literal
``$``. Digits (``$1``, ``$10``) and the special parameters ``@ * # ? - $ ! 0`` are looked
up as ordinary names, so they are normally empty. ``${...}`` forms that BuildKit rejects
(``${}``, ``${:-x}``, ``${V:=x}``, ``${V`` …) raise :class:`~kaniko.errors.ExpansionError`
with BuildKit's wording, prefixed ``failed to process "WORD":``. The one difference: a
word ending inside ``${name`` says ``syntax error: missing '}'`` where BuildKit prints an
"unsupported modifier" with a replacement character.

Word splitting (:meth:`ShellLex.process_words`) happens on unquoted whitespace, including
whitespace that came out of an unquoted expansion; quoted text and escaped characters
never split, and a field is only produced when it is non-empty.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from kaniko.dockerfile.shell_expand import Expansion, LexError
from kaniko.errors import ExpansionError


@dataclass(frozen=True)
class WordResult:
    """The outcome of expanding one word."""

    result: str  # the expanded word (what process_word returns)
    words: tuple[str, ...]  # the word split into fields (what process_words returns)
    matched: frozenset[str]  # variable names that were referenced and set
    unmatched: frozenset[str]  # variable names that were referenced but unset


class ShellLex:
    """BuildKit's word expander (``shell.Lex``), with its four knobs.

    ``escape`` is the Dockerfile's escape character (``\\`` or a backtick).

    ``raw_quotes`` keeps the quote characters in the output (the quoting still takes
    effect). BuildKit uses it with ``skip_unset_env`` to show a RUN command with its
    variables filled in, and with ``raw_escapes`` to find heredoc markers in a line.

    ``raw_escapes`` keeps the escape characters in the output. BuildKit uses it when
    splitting an instruction line to find ``<<EOF`` words; the patterns of ``#``, ``%`` and
    ``/`` are always read this way, whatever this flag says.

    ``skip_process_quotes`` treats quotes as plain characters. BuildKit expands the bodies
    of COPY/ADD heredocs this way, since the quotes there belong to the file's content.

    ``skip_unset_env`` leaves references to unset variables as written (``$V``, ``${V}``,
    ``${V:-x}`` with the word expanded) instead of expanding them, and raises no error for
    ``${V?}`` of an unset ``V``. BuildKit uses it for display and for partial expansion.
    """

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_process_quotes: bool = False,
        skip_unset_env: bool = False,
    ) -> None:
        if len(escape) != 1:
            raise ValueError(f"escape must be one character, not {escape!r}")
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_process_quotes = skip_process_quotes
        self.skip_unset_env = skip_unset_env

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        """Expand ``word``, keeping whitespace (BuildKit's ``ProcessWord``)."""
        return self.process_word_with_matches(word, env).result

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """Expand ``word`` and split it into fields (BuildKit's ``ProcessWords``)."""
        return list(self.process_word_with_matches(word, env).words)

    def process_word_with_matches(self, word: str, env: Mapping[str, str]) -> WordResult:
        """Expand ``word``; also report the fields and which names were set or unset."""
        state = Expansion(self, word, env)
        try:
            result, words = state.until(None, self.raw_escapes)
        except LexError as err:
            raise ExpansionError(f"failed to process {_go_quote(word)}: {err}") from None
        return WordResult(
            result, tuple(words), frozenset(state.matched), frozenset(state.unmatched)
        )


QUOTED_MAX = 80  # characters of a word an error message repeats


def _go_quote(text: str) -> str:
    """Quote ``text`` for a message, close to Go's ``%q`` (printable characters kept).

    A word longer than :data:`QUOTED_MAX` is cut (``…`` after the quote), so a hostile
    word cannot turn the one-line error into megabytes.
    """
    if len(text) <= QUOTED_MAX:
        return json.dumps(text, ensure_ascii=False)
    return json.dumps(text[:QUOTED_MAX], ensure_ascii=False) + "…"
