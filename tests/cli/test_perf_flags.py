"""The flags of issue 14: snapshotter, kept extracted bases, build profile."""

from __future__ import annotations

import pytest

from kaniko.errors import UsageError
from kaniko.options import DEFAULT_BASE_STORE_SIZE
from tests.cli.helpers import options


def test_defaults() -> None:
    perf = options([]).perf
    assert perf.snapshotter == "auto"
    assert perf.base_store_dir == "" and perf.base_store_size == DEFAULT_BASE_STORE_SIZE
    assert perf.profile_file == "" and perf.benchmark_file == ""


def test_the_environment_picks_the_snapshotter_unless_the_flag_does() -> None:
    assert options([], {"KANIKO_SNAPSHOTTER": "metadata"}).perf.snapshotter == "metadata"
    env = {"KANIKO_SNAPSHOTTER": "metadata"}
    assert options(["--snapshotter=overlay"], env).perf.snapshotter == "overlay"


def test_benchmark_file_as_the_go_kaniko_reads_it() -> None:
    assert options([], {"BENCHMARK_FILE": "/tmp/t.json"}).perf.benchmark_file == "/tmp/t.json"
    assert options([], {"BENCHMARK_FILE": "false"}).perf.benchmark_file == ""


def test_zero_keeps_no_extracted_base() -> None:
    assert options(["--extracted-base-size=0"]).perf.base_store_size == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--snapshotter=fast"], "--snapshotter 'fast'"),
        (["--extracted-base-size=lots"], "--extracted-base-size 'lots'"),
    ],
)
def test_bad_values_are_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        options(argv)
