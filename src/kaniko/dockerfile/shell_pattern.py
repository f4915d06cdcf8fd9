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
"""

from __future__ import annotations

import re

_BOM = "\ufeff"
_EOF_RUNE = "\ufffd"  # how Go prints the "rune" read past the end of a string


class PatternError(Exception):
    """A pattern that BuildKit rejects; ``str()`` is BuildKit's wording."""


def _compile(pattern: str, *, greedy: bool) -> re.Pattern[str]:
    """Translate a shell pattern into a compiled (unanchored) regular expression."""
    # Go's text/scanner skips a byte-order mark at the very start of its input.
    text = pattern.removeprefix(_BOM)
    star = ".*" if greedy else ".*?"
    parts: list[str] = []
    i, end = 0, len(text)
    while i < end:
        tok = text[i]
        i += 1
        if tok == "*":
            parts.append(star)
        elif tok == "?":
            parts.append(".")
        elif tok == "\\":
            nxt = text[i] if i < end else None
            if nxt in ("}", "/"):
                continue  # the escape only protected the ${...} syntax
            if nxt not in ("*", "?", "\\"):
                raise PatternError(f"invalid escape '\\{nxt or _EOF_RUNE}'")
            parts.append(re.escape(nxt))
            i += 1
        else:
            parts.append(re.escape(tok))
    return re.compile("".join(parts))


def _invalid(pattern: str, err: PatternError) -> PatternError:
    return PatternError(f"invalid pattern ({pattern}) in substitution: {err}")


def trim_prefix(pattern: str, value: str, *, greedy: bool) -> str:
    """``${V#pattern}`` (``greedy`` False) or ``${V##pattern}`` (``greedy`` True)."""
    try:
        regex = _compile(pattern, greedy=greedy)
    except PatternError as err:
        raise _invalid(pattern, err) from None
    found = regex.match(value)
    return value[found.end() :] if found else value


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
        found = regex.search(value)
        if found is None:
            return value
        return value[: found.start()] + replacement + value[found.end() :]
    out: list[str] = []
    last_end = search = 0
    end = len(value)
    while search <= end:
        found = regex.search(value, search)
        if found is None:
            break
        start, stop = found.span()
        out.append(value[last_end:start])
        if stop > last_end or start == 0:
            out.append(_expand_template(replacement, value[start:stop]))
        last_end = stop
        # Always move on by at least one character.
        search = search + 1 if search + 1 > stop else stop
    out.append(value[last_end:])
    return "".join(out)
