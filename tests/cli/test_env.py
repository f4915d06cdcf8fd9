"""The KANIKO_* variables and how they merge with the flags (kaniko's validateFlags)."""

from __future__ import annotations

import pytest

from kaniko.cli.config import build_options
from kaniko.cli.parser import parse_argv
from kaniko.errors import UsageError

from .helpers import options


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1234567890", 1234567890), ("", 0), ("0", 0), ("-5", -5), ("+7", 7), ("007", 7)],
)
def test_source_date_epoch_is_read_with_reproducible(value: str, seconds: int) -> None:
    o = options(["--reproducible"], {"SOURCE_DATE_EPOCH": value})
    assert o.output.source_date_epoch == seconds
    assert options(["--reproducible"], {}).output.source_date_epoch == 0


@pytest.mark.parametrize(
    "value", ["yesterday", " 1", "1 ", "1_000", "0x10", "1.5", "-", "253402300800"]
)
def test_bad_source_date_epoch_is_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError, match=r"SOURCE_DATE_EPOCH="):
        options(["--reproducible"], {"SOURCE_DATE_EPOCH": value})


def test_source_date_epoch_is_ignored_without_reproducible() -> None:
    o = options([], {"SOURCE_DATE_EPOCH": "yesterday"})
    assert o.output.source_date_epoch == 0


def test_registry_mirror_env_appends_after_flags() -> None:
    o = options(["--registry-mirror", "m1"], {"KANIKO_REGISTRY_MIRROR": "m2"})
    assert o.registry.registry_mirrors == ("m1", "m2")
    assert dict(o.registry.registry_maps) == {"index.docker.io": ("m1", "m2")}


def test_registry_map_env_appends_and_mirrors_come_last() -> None:
    env = {"KANIKO_REGISTRY_MAP": "index.docker.io=envmap;gcr.io=g2"}
    o = options(["--registry-map", "index.docker.io=flagmap", "--registry-mirror", "mir"], env)
    assert dict(o.registry.registry_maps) == {
        "index.docker.io": ("flagmap", "envmap", "mir"),
        "gcr.io": ("g2",),
    }


def test_empty_env_values_add_nothing() -> None:
    o = options([], {"KANIKO_REGISTRY_MIRROR": "", "KANIKO_REGISTRY_MAP": ""})
    assert o.registry.registry_mirrors == ()
    assert dict(o.registry.registry_maps) == {}


def test_bad_registry_map_env_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="KANIKO_REGISTRY_MAP"):
        options([], {"KANIKO_REGISTRY_MAP": "nokey"})


@pytest.mark.parametrize("value", ["true", "1", "TRUE", "t"])
def test_no_push_env_satisfies_destination_check(value: str) -> None:
    o = build_options(parse_argv([]), {"KANIKO_NO_PUSH": value})
    assert o.output.no_push is True


def test_no_push_env_overrides_the_flag() -> None:
    # kaniko assigns the variable's value over --no-push, so false wins here
    with pytest.raises(UsageError, match="--destination"):
        build_options(parse_argv(["--no-push"]), {"KANIKO_NO_PUSH": "false"})
    o = build_options(parse_argv(["-d", "r/x", "--no-push"]), {"KANIKO_NO_PUSH": "0"})
    assert o.output.no_push is False


def test_invalid_no_push_env_counts_as_false(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="kaniko"):
        o = build_options(parse_argv(["-d", "r/x", "--no-push"]), {"KANIKO_NO_PUSH": "yes"})
    assert o.output.no_push is False
    assert "KANIKO_NO_PUSH" in caplog.text


def test_kaniko_dir_env_and_flag_precedence() -> None:
    assert options([], {"KANIKO_DIR": "/k-env"}).kaniko_dir == "/k-env"
    assert options(["--kaniko-dir=/k-flag"], {"KANIKO_DIR": "/k-env"}).kaniko_dir == "/k-flag"
    # the flag at its default does not beat the variable (kaniko compares with /kaniko)
    assert options(["--kaniko-dir=/kaniko"], {"KANIKO_DIR": "/k-env"}).kaniko_dir == "/k-env"
    assert options([], {}).kaniko_dir == "/kaniko"


def test_options_never_read_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANIKO_NO_PUSH", "true")
    monkeypatch.setenv("KANIKO_DIR", "/elsewhere")
    o = options(["-d", "r/x"], {})
    assert o.output.no_push is False and o.kaniko_dir == "/kaniko"
