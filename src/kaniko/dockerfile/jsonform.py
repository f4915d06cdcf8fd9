"""The JSON (exec) form of an instruction, decoded as Go's json.Decoder decodes it.

Only a line whose arguments start with ``[`` can be JSON. The first JSON value is read and
anything after it ignored; invalid JSON (including numbers too large for a float64 and
NaN/Infinity, which Go rejects) means shell form; a valid array holding anything but
strings is an error.
"""

from __future__ import annotations

import json
import math
import re

from kaniko.dockerfile.words import GO_SPACES, LineError

NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only"
_MAX_DEPTH = 10000  # Go's encoding/json nesting limit


class _NotJSON(Exception):
    pass


def _reject_constant(name: str) -> float:
    raise _NotJSON(name)


def _go_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):  # Go's float64 decoding fails: the line is not JSON then
        raise _NotJSON(text)
    return number


_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_go_float, parse_int=_go_float
)
_RE_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(rest: str) -> tuple[str, ...] | None:
    """The strings of a JSON array at the start of ``rest``, or None if it is not one.

    Like Go's json.Decoder, anything after the array is ignored. An array holding
    anything but strings is an error, not a fallback to shell form.
    """
    rest = rest.lstrip(GO_SPACES)
    if not rest.startswith("["):
        return None
    try:
        items, _ = _DECODER.raw_decode(rest)
    except (ValueError, _NotJSON):
        return None
    except RecursionError:  # nested deeper than Python's json allows, not Go's
        if _go_decodes(rest):
            raise LineError(NOT_STRING_ARRAY) from None
        return None
    if not all(isinstance(item, str) for item in items):
        raise LineError(NOT_STRING_ARRAY)
    return tuple(_RE_SURROGATE.sub("\ufffd", item) for item in items)


_TOKEN = re.compile(
    r"""[ \t\n\r]*(?:
        (?P<open>[\[{]) | (?P<close>[\]}]) | (?P<comma>,) | (?P<colon>:)
      | (?P<str>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")
      | (?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      | (?P<lit>true|false|null)
    )""",
    re.VERBOSE,
)


def _go_decodes(text: str) -> bool:
    """Whether Go would decode the JSON value at the start of ``text`` without error.

    Iterative, for values nested too deeply for Python's recursive decoder.
    """
    stack: list[str] = []
    expect = "value"  # value, item (value or close), key, member (key or close), colon, next
    pos = 0
    while (match := _TOKEN.match(text, pos)) is not None:
        pos = match.end()
        kind = match.lastgroup
        token = match.group(kind or "")
        if kind == "open" and expect in ("value", "item"):
            stack.append(token)
            if len(stack) > _MAX_DEPTH:
                return False
            expect = "item" if token == "[" else "member"
            continue
        if (
            kind == "close"
            and stack
            and (expect == "next" or expect == ("item" if stack[-1] == "[" else "member"))
        ):
            if (stack.pop() == "[") != (token == "]"):
                return False
        elif kind == "comma" and expect == "next" and stack:
            expect = "value" if stack[-1] == "[" else "key"
            continue
        elif kind == "colon" and expect == "colon":
            expect = "value"
            continue
        elif kind == "str" and expect in ("key", "member"):
            expect = "colon"
            continue
        elif kind in ("str", "num", "lit") and expect in ("value", "item"):
            if kind == "num" and math.isinf(float(token)):
                return False
        else:
            return False
        if not stack:
            return True
        expect = "next"
    return False
