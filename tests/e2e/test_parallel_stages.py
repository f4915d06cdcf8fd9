"""Stages built at once, end to end through the CLI: a failing stage stops its sibling,
a signal stops them all, and every line says which stage wrote it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_signals import _processes_named

pytestmark = pytest.mark.e2e


def _argv(ctx: Path, kaniko_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "kaniko.cli", "-c", str(ctx), "--no-push",
            "--kaniko-dir", str(kaniko_dir), "--log-format", "text", *extra]  # fmt: skip


def _context(tmp_path: Path, busybox: str, slow: str, other: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {busybox} AS slow\nRUN echo started && {slow} && echo never\n"
        f"FROM {busybox} AS other\nRUN {other}\n"
        f"FROM {busybox}\nCOPY --from=slow /bin/sh /a\nCOPY --from=other /bin/sh /b\n"
    )
    return ctx


def test_a_failing_stage_cancels_its_sibling_and_is_the_error(
    tmp_path: Path, base_images: dict[str, str]
) -> None:
    marker = f"sleep 6{os.getpid() % 1000}1"
    ctx = _context(tmp_path, base_images["busybox"], marker, "sleep 1 && echo failing && exit 7")
    kaniko_dir = tmp_path / "kaniko"
    started = time.monotonic()
    done = subprocess.run(
        _argv(ctx, kaniko_dir, "--jobs", "2"), capture_output=True, text=True, timeout=120
    )
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 7, output  # the failing RUN's own code
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    command = "/bin/sh -c sleep 1 && echo failing && exit 7"
    assert errors[0].endswith(f"Dockerfile:4) exited 7: {command}"), output
    assert elapsed < 30, output  # the sibling's sleep of 6xxx s was cut short
    assert not _processes_named(marker)
    assert list((kaniko_dir / "builds").iterdir()) == []  # both roots went with it
    assert 'msg="[0 (slow):2] started"' in output  # RUN output names its stage and line
    assert 'msg="[1 (other)] Building stage 1 (other)"' in output  # other lines, the stage
    assert "] never" not in output  # the RUN output line, not its command


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_every_stage_in_flight(
    tmp_path: Path, base_images: dict[str, str], signum: int, code: int
) -> None:
    markers = [f"sleep 7{os.getpid() % 1000}{n}{signum}" for n in range(2)]
    ctx = _context(tmp_path, base_images["busybox"], markers[0], f"echo other && {markers[1]}")
    kaniko_dir = tmp_path / "kaniko"
    proc = subprocess.Popen(
        _argv(ctx, kaniko_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        seen.append(line)
        if all(any(f'{m}"' in s for s in seen) for m in ("] started", "] other")):
            break
        assert time.monotonic() < deadline, "".join(seen)
    while not all(_processes_named(m) for m in markers):
        assert time.monotonic() < deadline, "".join(seen)
        time.sleep(0.05)
    proc.send_signal(signum)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == code, output
    assert len([line for line in output.splitlines() if line.startswith("error: ")]) == 1
    for marker in markers:
        assert not _processes_named(marker), output
    assert list((kaniko_dir / "builds").iterdir()) == []
