"""Shell-glob patterns of ``${V#p}``, ``${V%p}`` and ``${V/p/r}``, as BuildKit matches them.

BuildKit turns the pattern into a regular expression: ``*`` is any run of characters
(shortest for ``#``/``%``, longest for ``##``/``%%`` and for ``/``), ``?`` is one character,
and everything else is literal, brackets included (``[ab]`` is not a character class).
A backslash in the pattern may only escape ``*``, ``?`` or another backslash; before ``}``
or ``/`` it is dropped (it kept those characters from ending the ``${...}``); before
anything else it is an invalid escape. Like any regular expression without flags, a
wildcard does not match a newline.

Suffix removal reverses the pattern (keeping escape pairs together) and the value, and
removes a prefix. ``${V//p/r}`` follows Go's ``ReplaceAllString``: empty matches right after
a match are skipped, and ``$0``/``${0}`` in the replacement stand for the matched text
(``$$`` for a dollar, any other ``$name`` for nothing). ``${V/p/r}`` inserts ``r`` as is.

The expression is run by :class:`_Program`, a Pike VM: Go's engine gives leftmost-first
matches without backtracking, and so does this one, in time linear in the value for a given
pattern. Python's ``re`` would give the same answers, but ``*a*a*a*a*b`` against a long
run of ``a`` made it backtrack for minutes (a Dockerfile is untrusted input).
"""

from __future__ import annotations

from typing import Any

_BOM = "\ufeff"
_EOF_RUNE = "\ufffd"  # how Go prints the "rune" read past the end of a string


class PatternError(Exception):
    """A pattern that BuildKit rejects; ``str()`` is BuildKit's wording."""


# Instructions of a compiled pattern: ("char", c) one given character; ("any",) one
# character but a newline (as ``.``); ("split", x, y) try x, then y; ("jmp", x); ("match",).
_Inst = tuple[Any, ...]


class _Program:
    """A compiled shell pattern, matched leftmost-first as Go's regexp package does."""

    def __init__(self, insts: list[_Inst]) -> None:
        self.insts = insts

    def _add(self, threads: list[tuple[int, int]], seen: set[int], pc: int, start: int) -> None:
        """Add the thread at ``pc`` and, through splits and jumps, those it leads to, in
        priority order; each ``pc`` once per step (the first to arrive has priority)."""
        stack = [pc]
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            inst = self.insts[pc]
            if inst[0] == "jmp":
                stack.append(inst[1])
            elif inst[0] == "split":
                stack.append(inst[2])  # popped after everything ``inst[1]`` leads to
                stack.append(inst[1])
            else:
                threads.append((pc, start))

    def run(self, value: str, pos: int, *, anchored: bool) -> tuple[int, int] | None:
        """(start, end) of the leftmost-first match at or (unless ``anchored``) after ``pos``."""
        found: tuple[int, int] | None = None
        current: list[tuple[int, int]] = []
        seen: set[int] = set()
        self._add(current, seen, 0, pos)
        i = pos
        while True:
            following: list[tuple[int, int]] = []
            next_seen: set[int] = set()
            ch = value[i] if i < len(value) else None
            for pc, start in current:
                inst = self.insts[pc]
                if inst[0] == "match":
                    found = (start, i)
                    break  # every later thread has a lower priority
                if ch is not None and (
                    (inst[0] == "char" and inst[1] == ch) or (inst[0] == "any" and ch != "\n")
                ):
                    self._add(following, next_seen, pc + 1, start)
            if ch is None:
                return found
            i += 1
            if found is None and not anchored:
                self._add(following, next_seen, 0, i)  # a match starting here, lowest priority
            if not following:
                return found
            current = following


def _compile(pattern: str, *, greedy: bool) -> _Program:
    """Translate a shell pattern into a program (an unanchored regular expression)."""
    # Go's text/scanner skips a byte-order mark at the very start of its input.
    text = pattern.removeprefix(_BOM)
    insts: list[_Inst] = []
    i, end = 0, len(text)
    while i < end:
        tok = text[i]
        i += 1
        if tok == "*":
            at = len(insts)  # split; any; jmp back; then what follows
            first, second = (at + 1, at + 3) if greedy else (at + 3, at + 1)
            insts += [("split", first, second), ("any",), ("jmp", at)]
        elif tok == "?":
            insts.append(("any",))
        elif tok == "\\":
            nxt = text[i] if i < end else None
            if nxt in ("}", "/"):
                continue  # the escape only protected the ${...} syntax
            if nxt not in ("*", "?", "\\"):
                raise PatternError(f"invalid escape '\\{nxt or _EOF_RUNE}'")
            insts.append(("char", nxt))
            i += 1
        else:
            insts.append(("char", tok))
    insts.append(("match",))
    return _Program(insts)


def _invalid(pattern: str, err: PatternError) -> PatternError:
    return PatternError(f"invalid pattern ({pattern}) in substitution: {err}")


def trim_prefix(pattern: str, value: str, *, greedy: bool) -> str:
    """``${V#pattern}`` (``greedy`` False) or ``${V##pattern}`` (``greedy`` True)."""
    try:
        regex = _compile(pattern, greedy=greedy)
    except PatternError as err:
        raise _invalid(pattern, err) from None
    found = regex.run(value, 0, anchored=True)
    return value[found[1] :] if found else value


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern, keeping each backslash before the character it escapes."""
    units: list[str] = []
    i, last = 0, len(pattern) - 1
    while i <= last:
        if pattern[i] == "\\" and i != last:
            units.append(pattern[i : i + 2])
            i += 2
        else:
            units.append(pattern[i])
            i += 1
    return "".join(reversed(units))


def trim_suffix(pattern: str, value: str, *, greedy: bool) -> str:
    """``${V%pattern}`` (``greedy`` False) or ``${V%%pattern}`` (``greedy`` True)."""
    return trim_prefix(_reverse_pattern(pattern), value[::-1], greedy=greedy)[::-1]


def _template_name(template: str, start: int) -> tuple[str, int] | None:
    """Read ``name`` or ``{name}`` at ``start`` as Go's regexp template does."""
    i, end = start, len(template)
    brace = i < end and template[i] == "{"
    if brace:
        i += 1
    first = i
    while i < end and (template[i].isalpha() or template[i].isdecimal() or template[i] == "_"):
        i += 1
    if i == first:
        return None
    name = template[first:i]
    if brace:
        if i >= end or template[i] != "}":
            return None
        i += 1
    return name, i


def _expand_template(template: str, matched: str) -> str:
    """Expand a Go replacement template for a regexp whose only group is the match."""
    out: list[str] = []
    i = 0
    while (dollar := template.find("$", i)) >= 0:
        out.append(template[i:dollar])
        i = dollar + 1
        if template.startswith("$", i):
            out.append("$")
            i += 1
            continue
        parsed = _template_name(template, i)
        if parsed is None:
            out.append("$")  # malformed reference: the dollar stays as text
            continue
        name, i = parsed
        if name == "0":
            out.append(matched)
    out.append(template[i:])
    return "".join(out)


def replace(pattern: str, value: str, replacement: str, *, all_matches: bool) -> str:
    """``${V/pattern/replacement}`` or, with ``all_matches``, ``${V//pattern/replacement}``."""
    try:
        regex = _compile(pattern, greedy=True)
    except PatternError as err:
        raise _invalid(pattern, err) from None
    if not all_matches:
        found = regex.run(value, 0, anchored=False)
        if found is None:
            return value
        return value[: found[0]] + replacement + value[found[1] :]
    out: list[str] = []
    last_end = search = 0
    end = len(value)
    while search <= end:
        found = regex.run(value, search, anchored=False)
        if found is None:
            break
        start, stop = found
        out.append(value[last_end:start])
        if stop > last_end or start == 0:
            out.append(_expand_template(replacement, value[start:stop]))
        last_end = stop
        # Always move on by at least one character.
        search = search + 1 if search + 1 > stop else stop
    out.append(value[last_end:])
    return "".join(out)
