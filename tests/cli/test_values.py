from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.cli import values


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_bool_true(text: str) -> None:
    assert values.parse_bool(text) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_bool_false(text: str) -> None:
    assert values.parse_bool(text) is False


@pytest.mark.parametrize("text", ["", "yes", "no", "tRUE", "2", " true"])
def test_bool_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        values.parse_bool(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("3", 3),
        ("-1", -1),
        ("+7", 7),
        ("0x10", 16),
        ("0o17", 15),
        ("0b11", 3),
        ("010", 8),
        ("1_000", 1000),
    ],
)
def test_int(text: str, expected: int) -> None:
    assert values.parse_int(text) == expected


@pytest.mark.parametrize("text", ["", "x", "1.5", "08", "--1", "1__0", "_1", "1_", "0x"])
def test_int_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        values.parse_int(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("336h", timedelta(hours=336)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("1.5h", timedelta(minutes=90)),
        ("-2m", timedelta(minutes=-2)),
        ("+5s", timedelta(seconds=5)),
        ("0", timedelta(0)),
        ("300ms", timedelta(milliseconds=300)),
        ("2us", timedelta(microseconds=2)),
        ("3µs", timedelta(microseconds=3)),
        ("1h0m0.5s", timedelta(hours=1, milliseconds=500)),
        (".5s", timedelta(milliseconds=500)),
    ],
)
def test_duration(text: str, expected: timedelta) -> None:
    assert values.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "-", "h", "10", "1x", "1d", "1h 30m", ".s", "1hh"])
def test_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        values.parse_duration(text)


@settings(max_examples=60)
@given(st.integers(min_value=0, max_value=10**7))
def test_duration_format_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert values.parse_duration(values.format_duration(value)) == value


def test_format_duration_is_go_spelling() -> None:
    assert values.format_duration(timedelta(hours=336)) == "336h0m0s"
    assert values.format_duration(timedelta(seconds=90)) == "1m30s"
    assert values.format_duration(timedelta(0)) == "0s"


def test_key_value_splits_at_first_equals() -> None:
    assert values.parse_key_value("reg=/a=b") == ("reg", "/a=b")
    assert values.parse_key_value("reg=") == ("reg", "")
    with pytest.raises(ValueError, match="key=value"):
        values.parse_key_value("noequals")


def test_client_cert_needs_cert_and_key() -> None:
    assert values.parse_client_cert("r.io=/c.pem,/k.pem") == ("r.io", ("/c.pem", "/k.pem"))
    for bad in ["r.io=/c.pem", "r.io=/c,/k,/x", "r.io=,/k", "r.io"]:
        with pytest.raises(ValueError):
            values.parse_client_cert(bad)


def test_key_multi_value() -> None:
    assert values.parse_key_multi_value("a=b;c=d;a=e") == [("a", "b"), ("c", "d"), ("a", "e")]
    assert values.parse_key_multi_value("") == []
    with pytest.raises(ValueError):
        values.parse_key_multi_value("a=b;oops")


def test_build_arg_and_label() -> None:
    assert values.parse_build_arg("A=1=2") == ("A", "1=2")
    assert values.parse_build_arg("A=") == ("A", "")
    assert values.parse_build_arg("A") == ("A", None)
    with pytest.raises(ValueError):
        values.parse_build_arg("=x")
    assert values.parse_label("k=v w") == ("k", "v w")
    for bad in ["k", "=v"]:
        with pytest.raises(ValueError):
            values.parse_label(bad)


def test_git_items() -> None:
    assert values.parse_git("branch=main") == [("branch", "main")]
    assert values.parse_git("branch=x,single-branch=true,recurse-submodules=1") == [
        ("branch", "x"),
        ("single-branch", "true"),
        ("recurse-submodules", "1"),
    ]
    # a comma not followed by a known key stays in the value
    assert values.parse_git("branch=a,b") == [("branch", "a,b")]
    assert values.parse_git("depth=1") == [("depth", "1")]
    with pytest.raises(ValueError, match="key=value"):
        values.parse_git("main")
    with pytest.raises(ValueError):
        values.parse_git("single-branch=maybe")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1048576", 1048576),
        ("512MiB", 512 * 2**20),
        ("512MB", 512 * 2**20),
        ("10GiB", 10 * 2**30),
        ("1.5g", 3 * 2**29),
        ("2T", 2 * 2**40),
        ("64k", 65536),
        (" 7 ", 7),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert values.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "GiB", "-1", "0", "1PB", "ten", "1.5.2G"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        values.parse_size(text)
