"""Instruction flags (``--name=value``) and Go-style durations, as BuildKit reads them.

Each instruction declares the flags it accepts with a :class:`FlagKind`; :func:`parse_flags`
then checks the raw words the parser kept and returns their values. The rules follow
BuildKit's ``BFlags``:

* every word must start with ``--``; a bare ``--`` ends the flags;
* an unknown name is an error (``unknown flag: NAME``);
* a bool flag takes no value or ``=true``/``=false`` (any case);
* a string flag needs ``=value`` (an empty value is allowed) and may appear once;
* a strings flag (``--mount``, ``--exclude``) needs ``=value`` and may repeat.

Errors are :class:`FlagError` (a ``ValueError``); the instruction parser turns them into
:class:`~kaniko.errors.DockerfileError` with the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum


class FlagKind(Enum):
    """How a flag takes its value."""

    BOOL = "bool"
    STRING = "string"
    STRINGS = "strings"


class FlagError(ValueError):
    """A flag word that the instruction does not accept."""


FlagValue = bool | str | tuple[str, ...]


def parse_flags(words: Sequence[str], spec: Mapping[str, FlagKind]) -> dict[str, FlagValue]:
    """Read ``words`` against ``spec``; return only the flags that were given.

    Bool flags map to ``True``/``False``, string flags to their text, strings flags to
    the tuple of values in order.
    """
    found: dict[str, FlagValue] = {}
    for word in words:
        if not word.startswith("--"):
            raise FlagError(f"arg should start with -- : {word}")
        if word == "--":
            break
        name, eq, value = word[2:].partition("=")
        kind = spec.get(name)
        if kind is None:
            raise FlagError(f"unknown flag: {name}")
        if name in found and kind is not FlagKind.STRINGS:
            raise FlagError(f"duplicate flag specified: {name}")
        if kind is FlagKind.BOOL:
            if eq and not value:
                raise FlagError(f"missing a value on flag: {name}")
            lowered = value.lower()
            if lowered not in ("", "true", "false"):
                raise FlagError(f"expecting boolean value for flag {name}, not: {value}")
            found[name] = lowered != "false"
            continue
        if not eq:
            raise FlagError(f"missing a value on flag: {name}")
        if kind is FlagKind.STRING:
            found[name] = value
        else:
            previous = found.get(name, ())
            assert isinstance(previous, tuple)
            found[name] = (*previous, value)
    return found


_UNITS_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]+)")


def parse_duration(text: str) -> int:
    """Parse a Go duration (``1h30m``, ``1.5s``, ``300ms``, ``-2m``) into nanoseconds.

    Raises :class:`FlagError` with Go's wording for malformed text.
    """
    rest = text
    sign = 1
    if rest[:1] in ("-", "+"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise FlagError(f'time: invalid duration "{text}"')
    total = 0
    pos = 0
    while pos < len(rest):
        match = _DURATION_PART.match(rest, pos)
        if match is None:
            if rest[pos:].replace(".", "").isdigit():
                raise FlagError(f'time: missing unit in duration "{text}"')
            raise FlagError(f'time: invalid duration "{text}"')
        whole, frac, unit = match.group(1), match.group(2), match.group(3)
        if not whole and not frac:
            raise FlagError(f'time: invalid duration "{text}"')
        scale = _UNITS_NS.get(unit)
        if scale is None:
            raise FlagError(f'time: unknown unit "{unit}" in duration "{text}"')
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
        pos = match.end()
    return sign * total
