"""JSON bytes written the way Go's ``encoding/json`` writes them, so digests match ggcr's.

The Go kaniko marshals manifests and configs with go-containerregistry's structs. Its
output is therefore *not* sorted-key "canonical JSON": it is

* struct fields in declaration order, with ``omitempty`` fields left out when they are
  ``false``, ``0``, ``""``, ``null``, or an empty list or map (pointer fields only when
  ``null``);
* map keys (``annotations``, ``Labels``, ``ExposedPorts``, ``Volumes``) sorted bytewise;
* compact separators, non-ASCII written as raw UTF-8, and the HTML-sensitive characters
  ``<``, ``>``, ``&`` plus U+2028/U+2029 escaped as ``\\u003c``, ``\\u003e``, ``\\u0026``,
  ``\\u2028``, ``\\u2029``; control characters as ``\\n``, ``\\r``, ``\\t``, ``\\b``,
  ``\\f`` (Go >= 1.22) or ``\\u00XX`` with lowercase hex. Python's encoder already agrees
  on everything but the HTML escapes, which :func:`dumps` adds.

Models build plain dicts in ggcr's field order with :func:`go_struct` and serialise them
with :func:`dumps`. Floats (which no manifest or config field uses) are written in
Python's shortest form; Go would spell whole numbers >= 1e16 without an exponent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from kaniko.errors import ImageError

# "empty": Go omitempty on a value field; "nil": omitempty on a pointer field (only a
# missing/null value is left out); "never": always written.
Omit = Literal["empty", "nil", "never"]

_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_HTML_RE = re.compile("[<>&\u2028\u2029]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def dumps(value: Any) -> bytes:
    """Serialise ``value`` compactly, byte for byte as Go's ``json.Marshal`` would.

    Dicts are written in their insertion order: build them with :func:`go_struct` and
    :func:`sorted_map`. Lone surrogates (which Go cannot hold) become U+FFFD.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _HTML_RE.sub(lambda m: _HTML_ESCAPES[m.group()], text)
    text = _SURROGATE_RE.sub("\ufffd", text)
    return text.encode("utf-8")


def is_empty(value: Any) -> bool:
    """What Go's ``omitempty`` treats as empty: false, 0, "", null, [] and {}."""
    if value is None or value is False:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) == 0
    return False


def go_struct(values: Mapping[str, Any], layout: Sequence[tuple[str, Omit]]) -> dict[str, Any]:
    """Order ``values`` like a Go struct declared as ``layout``, honouring omitempty.

    Keys of ``values`` the layout does not know (fields a Go struct would drop) follow in
    their own order, so that nothing read from a document is lost when it is written back.
    """
    out: dict[str, Any] = {}
    known = set()
    for key, omit in layout:
        known.add(key)
        if key not in values:
            if omit == "never":
                raise ValueError(f"go_struct: required field {key!r} missing")
            continue
        value = values[key]
        if (omit == "empty" and is_empty(value)) or (omit == "nil" and value is None):
            continue
        out[key] = value
    for key, value in values.items():
        if key not in known:
            out[key] = value
    return out


def unknown_fields(
    values: Mapping[str, Any], layout: Sequence[tuple[str, Omit]], typed: frozenset[str]
) -> dict[str, Any]:
    """The fields of ``values`` a model keeps verbatim: not ``typed``, and not ones
    :func:`go_struct` would omit anyway (so that reading is already a fixed point)."""
    rules = dict(layout)

    def omitted(key: str, value: Any) -> bool:
        rule = rules.get(key)
        return (rule == "empty" and is_empty(value)) or (rule == "nil" and value is None)

    return {
        key: value for key, value in values.items() if key not in typed and not omitted(key, value)
    }


def sorted_map(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``mapping`` with keys in Go's map order (bytewise UTF-8, i.e. code point)."""
    return {key: mapping[key] for key in sorted(mapping)}


def loads_object(data: bytes | str, what: str) -> dict[str, Any]:
    """Parse a JSON document that must be an object; ``what`` names it in errors."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ImageError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ImageError(f"{what} is not a JSON object")
    return value
