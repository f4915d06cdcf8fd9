"""Go-compatible JSON output: escaping, omitempty and field order."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.errors import ImageError
from kaniko.oci.canonical import (
    dumps,
    go_struct,
    is_empty,
    loads_object,
    sorted_map,
    unknown_fields,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Go's json.Marshal output for the same values
        ({"a": "<&>"}, b'{"a":"\\u003c\\u0026\\u003e"}'),
        (
            ["apt-get update && apt-get install"],
            b'["apt-get update \\u0026\\u0026 apt-get install"]',
        ),
        ("caf\u00e9 \u2603", '"caf\u00e9 \u2603"'.encode()),
        ("line\u2028sep\u2029", b'"line\\u2028sep\\u2029"'),
        ("\n\r\t\x08\x0c\x01\x1f\x7f", b'"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f"'),
        ('quote " back \\ slash /', b'"quote \\" back \\\\ slash /"'),
        ({"b": 1, "a": [True, False, None]}, b'{"b":1,"a":[true,false,null]}'),
        ("\ud800 lone", '"\ufffd lone"'.encode()),
    ],
)
def test_dumps_matches_go(value: object, expected: bytes) -> None:
    assert dumps(value) == expected


_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_dumps_is_json_that_decodes_to_the_same_value(value: object) -> None:
    out = dumps(value)
    assert json.loads(out) == value
    assert not {ord("<"), ord(">"), ord("&"), ord("\n")} & set(out)


@pytest.mark.parametrize(
    ("value", "empty"),
    [
        (None, True),
        (False, True),
        (0, True),
        (0.0, True),
        ("", True),
        ([], True),
        ({}, True),
        ((), True),
        (True, False),
        (1, False),
        ("x", False),
        ([0], False),
        ({"": None}, False),
    ],
)
def test_is_empty(value: object, empty: bool) -> None:
    assert is_empty(value) is empty


def test_go_struct_orders_omits_and_keeps_unknown_fields() -> None:
    values = {"zeta": 1, "b": "", "a": 0, "c": None, "p": {}, "q": None, "unknown": [1]}
    layout = (("a", "never"), ("b", "empty"), ("c", "nil"), ("p", "nil"), ("q", "empty"))
    out = go_struct(values, layout)
    assert list(out.items()) == [("a", 0), ("p", {}), ("zeta", 1), ("unknown", [1])]
    with pytest.raises(ValueError, match="required field 'x'"):
        go_struct({}, (("x", "never"),))


def test_sorted_map_uses_code_point_order() -> None:
    mapping = {"b": 1, "B": 2, "\u00e9": 3, "a": 4, "a.b": 5}
    assert list(sorted_map(mapping)) == ["B", "a", "a.b", "b", "\u00e9"]


def test_loads_object() -> None:
    assert loads_object(b'{"a": 1}', "thing") == {"a": 1}
    with pytest.raises(ImageError, match=r"^thing is not valid JSON"):
        loads_object(b"{", "thing")
    with pytest.raises(ImageError, match=r"^thing is not a JSON object"):
        loads_object(b"[1]", "thing")
    with pytest.raises(ImageError, match="not valid JSON"):
        loads_object(b"\xff\xfe{", "thing")


def test_unknown_fields_keeps_only_what_writing_would_keep() -> None:
    layout = (("Known", "empty"), ("Typed", "empty"), ("Ptr", "nil"))
    values = {"Typed": "x", "Known": "", "Ptr": None, "Vendor": "", "Other": {"a": 1}}
    kept = unknown_fields(values, layout, frozenset({"Typed"}))
    assert kept == {"Vendor": "", "Other": {"a": 1}}
    assert unknown_fields({"Ptr": {}}, layout, frozenset()) == {"Ptr": {}}
    assert unknown_fields({"Known": "set"}, layout, frozenset()) == {"Known": "set"}
