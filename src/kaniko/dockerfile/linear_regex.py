"""Matching moby's ``.dockerignore`` regexes in time linear in the path, as Go's RE2 does.

moby turns each pattern into a Go regular expression, and Go's engine never backtracks.
Python's ``re`` does: ``**/**/**/…/x`` becomes ``(?:.*/)?(?:.*/)?…x`` and a path of thirty
components took seconds at eight ``**/``, minutes at ten. :func:`compile_linear` takes the
Python source :func:`kaniko.dockerfile.patterns.go_regex_to_python` emits (a small subset:
literals, ``.``, classes, ``(?:…)``, ``|``, ``*`` ``+`` ``?`` and their lazy forms, ``\\A``
``\\Z`` ``\\b`` ``\\B``), builds a Thompson NFA, and runs it as a DFA built lazily: each
(state set, next character) is worked out once, then every character costs one lookup.

:func:`needs_linear` says when that is worth it: a regex with at most one unbounded
repetition and no optional group (``*.log``, ``build/[a-z]*``) cannot backtrack more than
linearly in ``re``, which is faster per character, so those stay with ``re``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

_Ranges = tuple[tuple[int, int], ...]
_ASSERTIONS = {"A", "Z", "b", "B"}
_MAX_STATES = 4096  # DFA states kept per pattern before the cache starts over
_MATCHED = -1
_DEAD = 0


class UnsupportedRegex(ValueError):
    """Source outside the subset ``go_regex_to_python`` emits."""


# --- parsing the emitted Python regex -------------------------------------------------------


@dataclass(frozen=True)
class _Set:
    ranges: _Ranges
    negated: bool = False

    def __call__(self, ch: str) -> bool:
        code = ord(ch)
        return any(lo <= code <= hi for lo, hi in self.ranges) != self.negated


_ANY = _Set(((ord("\n"), ord("\n")),), negated=True)  # '.': anything but a newline


@dataclass
class _Parser:
    src: str
    pos: int = 0

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def take(self) -> str:
        ch = self.peek()
        if not ch:
            raise UnsupportedRegex("unexpected end of regex")
        self.pos += 1
        return ch

    def alternation(self) -> object:
        branches = [self.concatenation()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.concatenation())
        return ("alt", branches) if len(branches) > 1 else branches[0]

    def concatenation(self) -> object:
        items: list[object] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            quantifier = self.peek()
            if quantifier in ("*", "+", "?"):
                self.pos += 1
                if self.peek() == "?":  # lazy: the same set of matches
                    self.pos += 1
                atom = ("rep", atom, quantifier)
            items.append(atom)
        return ("cat", items)

    def atom(self) -> object:
        ch = self.take()
        if ch == "(":
            if self.src.startswith("?:", self.pos):
                self.pos += 2
            inner = self.alternation()
            if self.take() != ")":
                raise UnsupportedRegex("missing )")
            return inner
        if ch == "[":
            return self.char_class()
        if ch == ".":
            return _ANY
        if ch == "\\":
            escaped = self.take()
            if escaped in _ASSERTIONS:
                return ("assert", escaped)
            if escaped == "U":
                point = self.code_point()
                return _Set(((point, point),))
            return _Set(((ord(escaped), ord(escaped)),))
        if ch in "*+?{}^$":
            raise UnsupportedRegex(f"unexpected {ch!r}")
        return _Set(((ord(ch), ord(ch)),))

    def code_point(self) -> int:
        digits = self.src[self.pos : self.pos + 8]
        if len(digits) != 8:
            raise UnsupportedRegex("short \\U escape")
        self.pos += 8
        return int(digits, 16)

    def char_class(self) -> _Set:
        negated = self.peek() == "^"
        self.pos += negated
        ranges: list[tuple[int, int]] = []
        while (ch := self.take()) != "]":
            low = self.class_member(ch)
            high = low
            if self.peek() == "-" and self.src[self.pos + 1 : self.pos + 2] not in ("", "]"):
                self.pos += 1
                high = self.class_member(self.take())
            ranges.append((low, high))
        return _Set(tuple(ranges), negated)

    def class_member(self, ch: str) -> int:
        if ch != "\\":
            return ord(ch)
        escaped = self.take()
        return self.code_point() if escaped == "U" else ord(escaped)


# --- the NFA --------------------------------------------------------------------------------

# A state is a list: ["char", predicate, out] | ["split", out1, out2] | ["assert", kind, out]
# | ["match"]; "out" fields hold state indexes.


@dataclass
class _Nfa:
    states: list[list[Any]] = field(default_factory=list)

    def add(self, *state: object) -> int:
        self.states.append(list(state))
        return len(self.states) - 1

    def build(self, node: object, after: int) -> int:
        """The start state of ``node`` followed by state ``after``."""
        if isinstance(node, _Set):
            return self.add("char", node, after)
        kind = node[0]  # type: ignore[index]
        if kind == "cat":
            for item in reversed(node[1]):  # type: ignore[index]
                after = self.build(item, after)
            return after
        if kind == "alt":
            branches = [self.build(b, after) for b in node[1]]  # type: ignore[index]
            start = branches[-1]
            for branch in reversed(branches[:-1]):
                start = self.add("split", branch, start)
            return start
        if kind == "assert":
            return self.add("assert", node[1], after)  # type: ignore[index]
        _, inner, quantifier = cast("tuple[str, object, str]", node)
        if quantifier == "?":
            return self.add("split", self.build(inner, after), after)
        loop = self.add("split", -1, after)
        self.states[loop][1] = self.build(inner, loop)
        return loop if quantifier == "*" else self.build(inner, loop)


def _is_word(ch: str | None) -> bool:
    return ch is not None and ch.isascii() and (ch.isalnum() or ch == "_")


class _LinearMatcher:
    """``re.match`` of one compiled regex, in time linear in the subject."""

    def __init__(self, nfa: _Nfa, start: int) -> None:
        self._nfa = nfa
        self._start = start
        self._reset()

    def _reset(self) -> None:
        # DFA state id -> (NFA states before the epsilon closure, previous char is a word char,
        # at the start); id 0 is the dead state.
        self._sets: list[tuple[frozenset[int], bool, bool]] = [(frozenset(), False, False)]
        self._ids: dict[tuple[frozenset[int], bool, bool], int] = {}
        self._rows: list[dict[str, int]] = [{}]
        self._final: dict[int, bool] = {}
        self._initial = self._id(frozenset((self._start,)), False, True)

    def _id(self, states: frozenset[int], word: bool, at_start: bool) -> int:
        if not states:
            return _DEAD
        key = (states, word, at_start)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self._sets)
            self._sets.append(key)
            self._rows.append({})
        return found

    def _closure(self, state: int, following: str | None) -> tuple[list[int], bool]:
        """The character states reachable from ``state`` before ``following``; matched?"""
        starts, prev_word, at_start = self._sets[state]
        nfa = self._nfa.states
        seen: set[int] = set()
        stack = list(starts)
        chars: list[int] = []
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            node = nfa[index]
            op = node[0]
            if op == "char":
                chars.append(index)
            elif op == "split":
                stack += (node[2], node[1])
            elif op == "assert":
                kind = node[1]
                holds = (
                    at_start
                    if kind == "A"
                    else following is None
                    if kind == "Z"
                    else (prev_word != _is_word(following)) == (kind == "b")
                )
                if holds:
                    stack.append(node[2])
            else:
                return chars, True
        return chars, False

    def _step(self, state: int, ch: str) -> int:
        if len(self._sets) > _MAX_STATES:  # start over, keeping the state we are in
            key = self._sets[state]
            self._reset()
            state = self._id(*key)
        chars, matched = self._closure(state, ch)
        if matched:
            result = _MATCHED
        else:
            nfa = self._nfa.states
            after = frozenset(nfa[i][2] for i in chars if nfa[i][1](ch))
            result = self._id(after, _is_word(ch), False)
        self._rows[state][ch] = result
        return result

    def _accepts(self, state: int) -> bool:
        """Whether the subject may end in ``state`` (``\\Z`` holds, ``\\b`` sees no next)."""
        found = self._final.get(state)
        if found is None:
            found = self._final[state] = self._closure(state, None)[1]
        return found

    def _walk(self, subject: str) -> bool:
        """:meth:`__call__` that fills in the transitions it lacks."""
        state = self._initial
        for ch in subject:
            step = self._rows[state].get(ch)
            if step is None:
                step = self._step(state, ch)
            if step <= _DEAD:
                return step == _MATCHED
            state = step
        return self._accepts(state)

    def __call__(self, subject: str) -> bool:
        rows, state = self._rows, self._initial
        try:
            for ch in subject:
                state = rows[state][ch]
                if state <= _DEAD:
                    return state == _MATCHED
        except KeyError:  # a transition not worked out yet: walk again, filling them in
            return self._walk(subject)
        return self._accepts(state)


def compile_linear(source: str) -> Callable[[str], bool]:
    """A function telling whether ``re.match(source, s)`` would match, in O(len(s))."""
    parser = _Parser(source)
    tree = parser.alternation()
    if parser.pos != len(source):
        raise UnsupportedRegex(f"unexpected {source[parser.pos]!r}")
    nfa = _Nfa()
    start = nfa.build(tree, nfa.add("match"))
    return _LinearMatcher(nfa, start)


_UNBOUNDED = re.compile(r"\\.|\[(?:\\.|[^\]])*\]|([*+])|(\(\?:)")


def needs_linear(source: str) -> bool:
    """Whether ``re`` could backtrack more than linearly on ``source`` (see the docstring)."""
    unbounded = groups = 0
    for found in _UNBOUNDED.finditer(source):
        unbounded += found.group(1) is not None
        groups += found.group(2) is not None
    return unbounded > 1 or groups > 0
