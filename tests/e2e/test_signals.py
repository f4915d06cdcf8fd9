"""SIGTERM and SIGINT to kaniko during a RUN: the step stops, nothing is left, exit non-zero."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _processes_named(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline:
                found.append(cmdline)
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
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        seen.append(line)
        if "started" in line:
            break
        assert time.monotonic() < deadline, "".join(seen)
    proc.send_signal(signum)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == code, output
    assert not any(line.endswith("] never") for line in output.splitlines())  # RUN output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    assert not _processes_named(marker)  # the RUN's process is gone
    assert list((kaniko_dir / "builds").iterdir()) == []  # the workspace is removed
