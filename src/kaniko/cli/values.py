"""Parsers for the value spellings kaniko's flags accept (Go ``strconv`` and pflag rules).

Each parser takes the text of one flag value and returns a Python value, or raises
:class:`ValueError` with a short reason; the flag table wraps that into a usage error
naming the flag.
"""

from __future__ import annotations

import csv
import re
from datetime import timedelta

from kaniko.godur import parse_go_duration

# strconv.ParseBool
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})

_INT = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+"
    r"|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)"
)

_DECIMAL = re.compile(r"[+-]?[0-9]+")
_EPOCH_MIN = -62_135_596_800  # 0001-01-01T00:00:00Z
_EPOCH_MAX = 253_402_300_799  # 9999-12-31T23:59:59Z

GIT_KEYS = ("branch", "single-branch", "recurse-submodules", "insecure-skip-tls")
_GIT_SPLIT = re.compile(r",(?=(?:" + "|".join(re.escape(k) for k in GIT_KEYS) + r")=)")


def parse_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``: 1/t/T/TRUE/true/True and 0/f/F/FALSE/false/False."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("want true or false")


def parse_int(text: str) -> int:
    """Go's ``strconv.ParseInt(text, 0, 64)``: decimal, 0x/0o/0b prefixes, 0-leading octal."""
    if not _INT.fullmatch(text):
        raise ValueError("want an integer")
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body[:2].lower() in ("0x", "0o", "0b"):
        value = int(body, 0)
    elif len(body) > 1 and body.startswith("0"):
        value = int(body.replace("_", ""), 8)
    else:
        value = int(body)
    if not -(2**63) <= sign * value < 2**63:
        raise ValueError("value out of range")
    return sign * value


def parse_source_date_epoch(text: str) -> int:
    """``SOURCE_DATE_EPOCH``, read as BuildKit reads it: Go's ``strconv.ParseInt(text, 10,
    64)`` (an optional sign and decimal digits, nothing else: no spaces, no ``_``, no
    prefix), seconds since 1970 UTC. The time must also fall in the years 1 to 9999, all
    that an RFC 3339 ``created`` can hold."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError("want a whole number of seconds since 1970-01-01 UTC")
    seconds = int(text)
    if not _EPOCH_MIN <= seconds <= _EPOCH_MAX:
        raise ValueError("out of range (years 1 to 9999)")
    return seconds


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """A byte count: ``1048576``, ``512MB``, ``10GiB``, ``1.5G`` (K, M, G, T; with ``i``
    or without, powers of 1024 either way, as for memory limits)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError("want a size such as 500MiB, 10GiB or a number of bytes")
    number, unit = float(match.group(1)), match.group(2).upper()
    value = int(number * 1024 ** " KMGT".index(unit or " "))
    if value <= 0:
        raise ValueError("the size must be positive")
    return value


def parse_duration(text: str) -> timedelta:
    """Go's ``time.ParseDuration``: ``336h``, ``1h30m``, ``1.5h``, ``90s``, ``-2m``, ``0``."""
    return timedelta(microseconds=parse_go_duration(text) / 1000)


def format_duration(value: timedelta) -> str:
    """A duration in Go's spelling (``336h0m0s``), for help and display."""
    total = value.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total == 0:
        return "0s"
    hours, rem = divmod(total, 3600)
    minutes, seconds = divmod(rem, 60)
    secs = f"{seconds:g}"
    if hours:
        return f"{sign}{int(hours)}h{int(minutes)}m{secs}s"
    if minutes:
        return f"{sign}{int(minutes)}m{secs}s"
    return f"{sign}{secs}s"


def parse_key_value(text: str) -> tuple[str, str]:
    """One ``key=value`` (kaniko's keyValueArg): split at the first ``=``."""
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError("want key=value")
    return key, value


def parse_client_cert(text: str) -> tuple[str, tuple[str, str]]:
    """``registry=/path/cert,/path/key`` for ``--registry-client-cert``."""
    registry, pair = parse_key_value(text)
    parts = pair.split(",")
    if len(parts) != 2 or not all(parts):
        raise ValueError("want registry=/path/to/cert,/path/to/key")
    return registry, (parts[0], parts[1])


def parse_key_multi_value(text: str) -> list[tuple[str, str]]:
    """kaniko's multiKeyMultiValueArg: ``a=b`` or ``a=b;c=d``; empty text adds nothing."""
    if not text:
        return []
    return [parse_key_value(item) for item in text.split(";")]


def parse_build_arg(text: str) -> tuple[str, str | None]:
    """``NAME=value``, or a bare ``NAME`` whose value comes from the environment."""
    name, sep, value = text.partition("=")
    if not name:
        raise ValueError("want NAME=value or NAME")
    return name, (value if sep else None)


def parse_label(text: str) -> tuple[str, str]:
    """``key=value`` for ``--label``."""
    key, value = parse_key_value(text)
    if not key:
        raise ValueError("want key=value")
    return key, value


def parse_git(text: str) -> list[tuple[str, str]]:
    """``--git`` items: ``key=value``, several joined by commas before a known key.

    kaniko takes one ``key=value`` per flag; ``branch=x,single-branch=true`` is also split,
    but only before a known key, so a comma inside a branch name survives. Boolean keys
    are checked here; unknown keys are returned for the caller to warn about.
    """
    items = []
    for part in _GIT_SPLIT.split(text):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError("invalid git flag, must be in the key=value format")
        if key in GIT_KEYS[1:]:
            parse_bool(value)
        items.append((key, value))
    return items


def parse_secret(text: str) -> tuple[str, str, str]:
    """``--secret`` as BuildKit's clients spell it: ``id=NAME[,src=PATH|,env=VAR]``
    (``source`` for ``src``; ``type=file|env`` says how a lone ``src`` is meant);
    returns (id, src, env)."""
    secret_id = src = env = kind = ""
    for field in next(csv.reader([text])) if text else []:
        key, sep, value = field.partition("=")
        key = key.strip().lower()
        if not sep:
            raise ValueError(f"invalid field {field!r}: want key=value")
        if key == "type":
            if value not in ("file", "env"):
                raise ValueError(f"unsupported secret type {value!r}: want file or env")
            kind = value
        elif key == "id":
            secret_id = value
        elif key in ("src", "source"):
            src = value
        elif key == "env":
            env = value
        else:
            raise ValueError(f"unexpected key {key!r} in {field!r}: want id, src, env or type")
    if kind == "env" and not env:
        env, src = src, ""
    if not secret_id:
        raise ValueError("want id=NAME[,src=PATH|,env=VAR]")
    if src and env:
        raise ValueError("give src or env, not both")
    return secret_id, src, env


def parse_ssh(text: str) -> tuple[str, tuple[str, ...]]:
    """``--ssh`` as BuildKit's clients spell it: ``default``, ``ID=SOCKET`` or
    ``ID=KEYFILE[,KEYFILE…]``; returns (id, paths)."""
    ssh_id, sep, paths = text.partition("=")
    if not ssh_id or (sep and not paths):
        raise ValueError("want default, or ID=/path/to/agent.sock or ID=/path/to/key[,key]")
    return ssh_id, tuple(p for p in paths.split(",") if p) if sep else ()
