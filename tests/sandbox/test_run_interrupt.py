"""Interrupting a RUN: the process group dies, the root is restored, the caller is told."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.sandbox.chroot import cancel_all, run
from kaniko.sandbox.spec import Isolation, RunSpec
from tests.sandbox.helpers import mounts_below, processes_in, tree

SCRIPT = "sleep 1000 & setsid sleep 1000 >/dev/null 2>&1 & echo started; sleep 1000"
"""A daemon in the group, one that left it and its output, and the main process."""


@pytest.mark.parametrize("isolation", ["full", "plain"])
def test_exception_in_the_caller_kills_the_run(rootfs: Path, isolation: Isolation) -> None:
    before = tree(rootfs)

    def on_output(line: str) -> None:
        if line == "started":
            raise KeyboardInterrupt

    spec = RunSpec(rootfs, ("/bin/sh", "-c", SCRIPT), ())
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run(spec, on_output=on_output, isolation=isolation)
    assert time.monotonic() - started < 5
    assert processes_in(rootfs) == []
    assert mounts_below(rootfs) == []
    assert tree(rootfs) == before


def test_cancel_all_from_another_thread(rootfs: Path) -> None:
    before = tree(rootfs)
    started = threading.Event()

    def on_output(line: str) -> None:
        if line == "started":
            started.set()

    def cancel_when_started() -> None:
        if started.wait(5):
            cancel_all()

    canceller = threading.Thread(target=cancel_when_started)
    canceller.start()
    spec = RunSpec(rootfs, ("/bin/sh", "-c", SCRIPT), ())
    with pytest.raises(BuildError, match="RUN was interrupted"):
        run(spec, on_output=on_output)
    canceller.join()
    assert processes_in(rootfs) == []
    assert tree(rootfs) == before


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="Python delivers signals to the main thread only",
)
def test_sigint_to_kaniko_stops_the_run(rootfs: Path) -> None:
    before = tree(rootfs)

    def on_output(line: str) -> None:
        if line == "started":
            threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()

    spec = RunSpec(rootfs, ("/bin/sh", "-c", SCRIPT), ())
    with pytest.raises(KeyboardInterrupt):
        run(spec, on_output=on_output)
    assert processes_in(rootfs) == []
    assert tree(rootfs) == before


def test_the_run_dies_when_kaniko_dies(rootfs: Path, tmp_path: Path) -> None:
    """A kaniko killed outright (no clean-up of its own) takes its RUN with it."""
    ready, done = os.pipe()
    pid = os.fork()
    if pid == 0:  # a stand-in kaniko
        try:
            os.close(ready)
            tempfile.tempdir = str(tmp_path)  # what it cannot clean up stays in tmp_path
            spec = RunSpec(rootfs, ("/bin/sh", "-c", SCRIPT), ())
            run(spec, on_output=lambda line: os.write(done, b"x"))
        finally:
            os._exit(0)
    os.close(done)
    assert os.read(ready, 1) == b"x"
    assert processes_in(rootfs) != []
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + 5
    while processes_in(rootfs) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_in(rootfs) == []
    os.close(ready)


def test_cancelling_the_build_scope_stops_its_runs_only(
    rootfs: Path, tmp_path: Path, busybox_template: Path
) -> None:
    """Two RUNs at once, each in its own thread and root: cancelling the scope of one
    build kills its RUN (``RUN was interrupted``), while a RUN of another scope goes on;
    a RUN never starts in a cancelled scope."""
    import contextvars
    import shutil

    from kaniko import cancel

    other_root = tmp_path / "other"
    shutil.copytree(busybox_template, other_root, symlinks=True, copy_function=os.link)
    mine, theirs = cancel.CancelScope(), cancel.CancelScope()
    started = {"mine": threading.Event(), "theirs": threading.Event()}
    results: dict[str, object] = {}

    def build(name: str, scope: cancel.CancelScope, root: Path, script: str) -> None:
        def on_output(line: str) -> None:
            if line == "started":
                started[name].set()

        with cancel.within(scope):
            try:
                spec = RunSpec(root, ("/bin/sh", "-c", script), ())
                results[name] = run(spec, on_output=on_output)
            except BuildError as e:
                results[name] = str(e)

    threads = [
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(build, "mine", mine, rootfs, SCRIPT),
        ),
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(build, "theirs", theirs, other_root, "echo started; sleep 1; exit 3"),
        ),
    ]
    for thread in threads:
        thread.start()
    assert started["mine"].wait(10) and started["theirs"].wait(10)
    mine.cancel()
    for thread in threads:
        thread.join(20)
    assert results == {"mine": "RUN was interrupted", "theirs": 3}
    assert processes_in(rootfs) == []
    with cancel.within(mine), pytest.raises(BuildError, match="cancelled"):
        run(RunSpec(rootfs, ("/bin/true",), ()), on_output=lambda line: None)
