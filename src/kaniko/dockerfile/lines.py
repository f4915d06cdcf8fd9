"""Per-instruction splitting of a logical line's arguments, as BuildKit's parser does it.

After :func:`~kaniko.dockerfile.words.split_command` has taken off the instruction name
and its flags, the rest is split by the rule of that instruction: JSON array or shell
string, whitespace-separated words, ``key=value`` pairs, one string, or a nested
instruction (``ONBUILD``). Quotes and escapes are kept in the words: expansion is a later
step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kaniko.dockerfile.jsonform import parse_json
from kaniko.dockerfile.words import (
    BYTE_SPACES,
    RE_WHITESPACE,
    LineError,
    from_bytes_view,
    go_lower,
    go_quote,
    parse_words,
    split_command,
    to_bytes_view,
)


@dataclass(slots=True)
class Parsed:
    """What one instruction's rule made of its arguments."""

    value: tuple[str, ...] = ()
    json: bool = False
    sub: tuple[str, tuple[str, ...], str, Parsed] | None = None  # ONBUILD: cmd, flags, rest


def parse_maybe_json(rest: str, _escape: str) -> Parsed:
    """RUN, CMD, ENTRYPOINT, SHELL: a JSON array, else the whole rest as one string."""
    if not rest:
        return Parsed()
    items = parse_json(rest)
    return Parsed(items, True) if items is not None else Parsed((rest,))


def parse_maybe_json_to_list(rest: str, escape: str) -> Parsed:
    """ADD, COPY, VOLUME: a JSON array, else whitespace-separated words."""
    items = parse_json(rest)
    if items is not None:
        return Parsed(items, True)
    return parse_whitespace_delimited(rest, escape)


def parse_whitespace_delimited(rest: str, _escape: str) -> Parsed:
    """FROM, EXPOSE: words split on ASCII blanks."""
    return Parsed(tuple(RE_WHITESPACE.split(rest))) if rest else Parsed()


def parse_string(rest: str, _escape: str) -> Parsed:
    """MAINTAINER, USER, WORKDIR, STOPSIGNAL: the rest as one string."""
    return Parsed((rest,)) if rest else Parsed()


def parse_ignore(_rest: str, _escape: str) -> Parsed:
    """An unknown instruction: BuildKit keeps one empty word."""
    return Parsed(("",))


def parse_name_or_name_val(rest: str, escape: str) -> Parsed:
    """ARG: ``name`` and ``name=value`` words, quotes kept."""
    return Parsed(tuple(parse_words(rest, escape)))


def _parse_name_val(rest: str, escape: str, key: str) -> Parsed:
    words = parse_words(rest, escape)
    if not words:
        return Parsed()
    if "=" not in words[0]:  # legacy form: KEY name value
        parts = RE_WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise LineError(f"{key} must have two arguments")
        return Parsed((parts[0], parts[1]))
    value: list[str] = []
    for word in words:
        name, eq, val = word.partition("=")
        if not eq:
            raise LineError(
                f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value"
            )
        value += (name, val)
    return Parsed(tuple(value))


def parse_env(rest: str, escape: str) -> Parsed:
    """ENV: key, value, key, value … (``k=v`` words or the legacy ``k v`` form)."""
    return _parse_name_val(rest, escape, "ENV")


def parse_label(rest: str, escape: str) -> Parsed:
    """LABEL: as ENV."""
    return _parse_name_val(rest, escape, "LABEL")


def parse_health_config(rest: str, escape: str) -> Parsed:
    """HEALTHCHECK: the type word (CMD, NONE, …), then the command as RUN takes it."""
    view = rest if rest.isascii() else to_bytes_view(rest)
    sep = 0
    while sep < len(view) and view[sep] not in BYTE_SPACES:
        sep += 1
    if sep == 0:
        return Parsed()
    nxt = sep
    while nxt < len(view) and view[nxt] in BYTE_SPACES:
        nxt += 1
    kind, cmd = view[:sep], view[nxt:]
    if view is not rest:
        kind, cmd = from_bytes_view(kind), from_bytes_view(cmd)
    parsed = parse_maybe_json(cmd, escape)
    return Parsed((kind, *parsed.value), parsed.json)


def parse_sub_command(rest: str, escape: str) -> Parsed:
    """ONBUILD: the rest is an instruction of its own."""
    if not rest:
        return Parsed()
    cmd, flags, args = split_command(rest)
    return Parsed(sub=(cmd, flags, rest, dispatch(cmd)(args, escape)))


DISPATCH: dict[str, Callable[[str, str], Parsed]] = {
    "add": parse_maybe_json_to_list,
    "arg": parse_name_or_name_val,
    "cmd": parse_maybe_json,
    "copy": parse_maybe_json_to_list,
    "entrypoint": parse_maybe_json,
    "env": parse_env,
    "expose": parse_whitespace_delimited,
    "from": parse_whitespace_delimited,
    "healthcheck": parse_health_config,
    "label": parse_label,
    "maintainer": parse_string,
    "onbuild": parse_sub_command,
    "run": parse_maybe_json,
    "shell": parse_maybe_json,
    "stopsignal": parse_string,
    "user": parse_string,
    "volume": parse_maybe_json_to_list,
    "workdir": parse_string,
}


def dispatch(cmd: str) -> Callable[[str, str], Parsed]:
    """The rule for an instruction word (any case); unknown words keep no arguments."""
    return DISPATCH.get(go_lower(cmd), parse_ignore)
