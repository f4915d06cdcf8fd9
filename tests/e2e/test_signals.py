"""SIGTERM and SIGINT to kaniko during a RUN: the step stops, nothing is left, exit non-zero."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _processes_named(marker: str) -> list[int]:
    """The pids of the processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_the_run_and_cleans_up(
    tmp_path, base_images, registry_plain, signum, code
) -> None:
    marker = f"sleep 4{os.getpid() % 1000}{signum}"
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {base_images['busybox']}\nRUN echo started && {marker} && echo never\n"
    )
    kaniko_dir = tmp_path / "kaniko"
    dest = f"{registry_plain.host}/signals/app:{signum}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kaniko.cli", "-c", str(ctx), "-d", dest,
         "--kaniko-dir", str(kaniko_dir), "--log-format", "text"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    seen = _wait_for_started(proc)
    proc.send_signal(signum)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == code, output
    assert not any(line.endswith("] never") for line in output.splitlines())  # RUN output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    assert not _processes_named(marker)  # the RUN's process is gone
    assert list((kaniko_dir / "builds").iterdir()) == []  # the workspace is removed


def test_the_next_build_reclaims_what_a_killed_build_left(
    tmp_path, base_images, registry_plain
) -> None:
    """SIGKILL leaves the extracted root and the RUN's kaniko-run-* dir; the next build
    (same --kaniko-dir) removes them, while a live build's directory is never touched."""
    marker = f"sleep 5{os.getpid() % 1000}7"
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {base_images['busybox']}\nRUN echo started && {marker}\n"
    )
    kaniko_dir = tmp_path / "kaniko"
    builds = kaniko_dir / "builds"
    argv = [sys.executable, "-m", "kaniko.cli", "-c", str(ctx), "--no-push",
            "--kaniko-dir", str(kaniko_dir), "--log-format", "text"]  # fmt: skip
    killed = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    live = None
    try:
        _wait_for_started(killed)
        killed.kill()  # SIGKILL: no cleanup at all
        killed.wait(30)
        _gone_with_the_builder(marker)
        left = [p for p in builds.iterdir() if p.name.startswith("build-")]
        assert len(left) == 1
        assert (left[0] / "stage-0" / "bin").exists()  # the extracted root
        assert list((left[0] / "tmp").glob("kaniko-run-*"))  # the RUN's private dir
        live = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _wait_for_started(live)  # a build that is running now: its directory must stay
        (ctx / "Dockerfile").write_text(f"FROM {base_images['busybox']}\nENV A=1\n")
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert not left[0].exists()
        remaining = [p for p in builds.iterdir() if p.name.startswith("build-")]
        assert len(remaining) == 1  # the live build's, untouched
        assert (remaining[0] / "stage-0" / "bin").exists()
    finally:
        for proc in (killed, live):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.communicate(timeout=60)
            elif proc is not None and proc.stdout is not None:
                proc.stdout.close()
    assert list(builds.iterdir()) == []


def _wait_for_started(proc: subprocess.Popen) -> list[str]:
    """Read the build's output until its RUN prints ``started`` (not the RUN's echo line)."""
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        seen.append(line)
        if line.rstrip().rstrip('"').endswith("] started"):
            return seen
        assert time.monotonic() < deadline, "".join(seen)
    raise AssertionError("the build ended before its RUN started:\n" + "".join(seen))


def _gone_with_the_builder(marker: str) -> None:
    """The RUN of a SIGKILLed build dies with it (the sandbox's init and keeper have the
    builder's death signal); anything still running after 10 s is killed and fails the test."""
    deadline = time.monotonic() + 10
    while _processes_named(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _processes_named(marker)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"{marker} outlived its SIGKILLed builder"
