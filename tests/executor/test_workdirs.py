"""Work directories: locked while their build lives, reclaimed once it is dead."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kaniko.executor.workdirs import OWNER, claim, reclaim_stale
from kaniko.fs.overlaymount import mounts_below


def test_a_live_build_keeps_its_directory_a_dead_one_loses_it(tmp_path: Path) -> None:
    parent = tmp_path / "builds"
    mine = claim(parent)
    # A build in another process that dies without cleaning up (SIGKILL, OOM kill …).
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from kaniko.executor.workdirs import claim
        work = claim(Path({str(parent)!r}))
        (work.path / "tmp" / "kaniko-run-x").mkdir(parents=True)
        print(work.path, flush=True)
        os._exit(0)
        """
    )
    dead = Path(subprocess.run([sys.executable, "-c", script], check=True,
                               capture_output=True, text=True).stdout.strip())  # fmt: skip
    assert dead.is_dir() and (dead / "tmp" / "kaniko-run-x").is_dir()
    newer = claim(parent)  # a new build starts: it reclaims the dead one's directory
    assert not dead.exists()
    assert mine.path.is_dir() and newer.path.is_dir()  # live ones are never touched
    newer.release()
    mine.release()
    assert list(parent.iterdir()) == []


def test_a_directory_without_a_lock_file_is_left_alone(tmp_path: Path) -> None:
    parent = tmp_path / "builds"
    parent.mkdir()
    foreign = parent / "build-from-an-older-release"
    foreign.mkdir()
    assert reclaim_stale(parent) == []
    assert foreign.is_dir()


def test_the_lock_is_held_by_the_owner_only(tmp_path: Path) -> None:
    work = claim(tmp_path)
    assert (work.path / OWNER).read_text() == f"{os.getpid()}\n"
    assert reclaim_stale(tmp_path) == []  # our own lock: another open file cannot take it
    work.release()
    work.release()  # idempotent
    assert not work.path.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="overlay mounts need root")
def test_a_dead_builds_overlay_mounts_are_detached_before_removal(tmp_path: Path) -> None:
    """A killed build leaves its stage root mounted: the lower (a kept base) must survive."""
    parent = tmp_path / "builds"
    lower = tmp_path / "kept-base"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "os-release").write_text("kept")
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from kaniko.executor.workdirs import claim
        from kaniko.fs.overlaymount import mount_overlay
        work = claim(Path({str(parent)!r}))
        for name in ("upper", "work", "root"):
            (work.path / name).mkdir()
        mount_overlay(str(work.path / "root"), [{str(lower)!r}], str(work.path / "upper"),
                      str(work.path / "work"))
        print(work.path, flush=True)
        os._exit(0)
        """
    )
    dead = Path(subprocess.run([sys.executable, "-c", script], check=True,
                               capture_output=True, text=True).stdout.strip())  # fmt: skip
    assert mounts_below(str(dead)) == [str(dead / "root")]
    newer = claim(parent)
    assert not dead.exists() and mounts_below(str(dead)) == []
    assert (lower / "etc" / "os-release").read_text() == "kept"
    newer.release()


def _gone_soon(path: Path) -> bool:
    deadline = time.monotonic() + 30
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not path.exists()


def test_a_finished_build_is_removed_in_the_background(tmp_path: Path) -> None:
    parent = tmp_path / "builds"
    work = claim(parent)
    for i in range(200):
        (work.path / f"f{i}").write_text("x")
    work.release()
    assert list(parent.iterdir()) == []  # moved out at once
    trashed = tmp_path / "builds.trash" / work.path.name
    assert _gone_soon(trashed)


def test_a_trashed_directory_whose_remover_died_is_removed_by_the_next_build(
    tmp_path: Path,
) -> None:
    parent = tmp_path / "builds"
    stale = tmp_path / "builds.trash" / "build-dead"
    stale.mkdir(parents=True)
    (stale / OWNER).write_text("123\n")  # nobody holds its lock
    (stale / "left").write_text("x")
    work = claim(parent)
    assert _gone_soon(stale)
    work.release()
