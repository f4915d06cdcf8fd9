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

from collections.abc import Mapping, Sequence
from enum import Enum

from kaniko.godur import parse_go_duration


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


def parse_duration(text: str) -> int:
    """Parse a Go duration (``1h30m``, ``1.5s``, ``300ms``, ``-2m``) into nanoseconds.

    Raises :class:`FlagError` with Go's wording for malformed text.
    """
    try:
        return parse_go_duration(text)
    except ValueError as e:
        raise FlagError(str(e)) from None
