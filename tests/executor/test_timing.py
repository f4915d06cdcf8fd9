"""Build timings: phases per step and in total, the JSON profile, the Go-style file."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kaniko.executor import timing
from kaniko.executor.timing import Profile, env_benchmark_file, phase, profiling, recording, step


def test_phases_count_for_their_step_and_the_total() -> None:
    with profiling(Profile()) as profile:
        with phase("plan"):
            time.sleep(0.01)
        with step("0", 2, "RUN make"):
            with phase("run"):
                time.sleep(0.02)
            with phase("compress"):
                pass
            timing.count("base_kept")
        with step("0", 3, "LABEL a=b"):
            pass
    assert [s.line for s in profile.steps] == [2, 3]
    first = profile.steps[0]
    assert first.phases["run"] >= 0.02 and "compress" in first.phases
    assert profile.steps[1].phases == {}
    assert profile.phases["plan"] >= 0.01 and "plan" not in first.phases
    assert profile.counters == {"base_kept": 1}
    assert profile.wall >= 0.03


def test_nothing_is_recorded_without_a_profile() -> None:
    with step("0", 1, "RUN x"), phase("run"):
        timing.count("x")
    assert timing.current() is None


def test_a_thread_of_its_own_starts_without_the_profile() -> None:
    seen: list[object] = []
    with profiling(Profile()):
        worker = threading.Thread(target=lambda: seen.append(timing.current()))
        worker.start()
        worker.join()
    assert seen == [None]


def test_files_are_written_even_when_the_build_fails(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    profile_file, benchmark_file = tmp_path / "p.json", tmp_path / "b.json"
    with (
        caplog.at_level(logging.DEBUG, logger="kaniko.executor.timing"),
        pytest.raises(RuntimeError),
        recording(str(profile_file), str(benchmark_file)),
        step("1 (app)", 7, "COPY . /app"),
        phase("copy"),
    ):
        raise RuntimeError("boom")
    document = json.loads(profile_file.read_text())
    assert document["steps"][0]["instruction"] == "COPY . /app"
    assert set(document) == {"wall", "cpu", "peak_rss_mb", "phases", "counters", "steps"}
    flat = json.loads(benchmark_file.read_text())
    assert set(flat) == {"copy", "Total Build Time"}
    assert all(isinstance(v, int) for v in flat.values())
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("timing: [1 (app):7] COPY . /app") for line in lines)
    assert any(line.startswith("timing: total") for line in lines)


def test_benchmark_file_from_the_environment() -> None:
    assert env_benchmark_file({"BENCHMARK_FILE": "/tmp/b.json"}) == "/tmp/b.json"
    assert env_benchmark_file({"BENCHMARK_FILE": "false"}) == ""
    assert env_benchmark_file({}) == ""


def test_the_peak_rss_is_kaniko_s_own_not_that_of_who_exec_d_it(tmp_path: Path) -> None:
    # A process that held 150 MB execs one that reads its peak: ru_maxrss keeps the 150.
    reader = (
        "import resource; from kaniko.executor.timing import peak_rss_mb; "
        "print(peak_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    holder = (
        "import os, sys; held = bytearray(150 << 20)\n"
        "for i in range(0, len(held), 4096): held[i] = 1\n"
        f"os.execv(sys.executable, [sys.executable, '-c', {reader!r}])"
    )
    done = subprocess.run([sys.executable, "-c", holder], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    own, inherited = map(float, done.stdout.split())
    assert inherited > 150 and own < 100


def test_the_peak_rss_without_procfs_is_ru_maxrss(tmp_path: Path) -> None:
    assert timing.peak_rss_mb(tmp_path / "no-status") > 0
