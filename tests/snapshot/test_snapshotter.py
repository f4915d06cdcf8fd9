"""The snapshotter's take(), its modes, the coarse clock through take(), single-snapshot and
lazy initialisation, and the ignore list changing mid-build."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kaniko.errors import UsageError
from kaniko.fs.diff import ChangeSet
from kaniko.fs.ignore import IgnoreList
from kaniko.snapshot.snapshotter import Snapshotter


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rootfs = tmp_path / "rootfs"
    write(rootfs, {"etc/os-release": "x", "usr/bin/sh": "#!", "app/a": "a", "app/b": "b"})
    return rootfs


def test_take_needs_init(root: Path) -> None:
    snap = Snapshotter(root)
    assert not snap.initialized and snap.inventory is None
    with pytest.raises(RuntimeError, match="init"):
        snap.take()


def test_unknown_mode_is_a_usage_error(root: Path) -> None:
    with pytest.raises(UsageError, match="--snapshot-mode"):
        Snapshotter(root, mode="fast")


def test_take_diffs_against_the_last_inventory(root: Path) -> None:
    snap = Snapshotter(root)
    snap.init()
    assert snap.initialized and "app/a" in snap.inventory
    (root / "app" / "a").write_text("A")
    write(root, {"srv/new": "n"})
    (root / "app" / "b").unlink()
    changes = snap.take()
    assert changes.added == ("srv", "srv/new")
    assert changes.modified == ("app/a",)  # not app: its times only
    assert changes.deleted == ("app/b",)
    assert snap.take() == ChangeSet()  # the new inventory became current
    assert "app/b" not in snap.inventory and "srv/new" in snap.inventory


@pytest.mark.parametrize(("mode", "seen"), [("full", True), ("redo", True), ("time", False)])
def test_modes_on_a_chmod_only_change(root: Path, mode: str, seen: bool) -> None:
    snap = Snapshotter(root, mode=mode)
    snap.init()
    path = root / "usr" / "bin" / "sh"
    mtime = os.lstat(path).st_mtime_ns
    os.chmod(path, 0o755)
    os.utime(path, ns=(mtime, mtime))
    assert snap.take().modified == (("usr/bin/sh",) if seen else ())


def test_only_full_mode_records_digests(root: Path) -> None:
    for mode, digests in (("full", True), ("redo", False), ("time", False)):
        snap = Snapshotter(root, mode=mode)
        snap.init()
        (root / "app" / "a").write_text("fresh")  # within the clock window now
        snap.take()
        assert (snap.inventory["app/a"].content is not None) is digests, mode


def test_consecutive_same_size_rewrites_through_take(root: Path) -> None:
    snap = Snapshotter(root)
    snap.init()
    path = root / "app" / "a"
    for i in range(50):
        path.write_bytes(b"%06d" % i)
        assert snap.take().modified == ("app/a",), f"round {i}"


def test_ignored_paths_are_never_snapshotted(root: Path) -> None:
    ignore = IgnoreList(["/var/run", "/proc"])
    snap = Snapshotter(root, ignore=ignore.ignored_rel)
    write(root, {"var/run/pid": "1", "proc/self": "x"})
    snap.init()
    assert "var" in snap.inventory and "var/run" not in snap.inventory
    write(root, {"var/run/other": "2", "var/lib/db": "d"})
    shutil.rmtree(root / "proc")
    changes = snap.take()
    assert changes.added == ("var/lib", "var/lib/db")
    assert changes.deleted == ()


def test_a_path_joining_the_ignore_list_gets_no_whiteouts(root: Path) -> None:
    ignore = IgnoreList(["/proc"])
    snap = Snapshotter(root, ignore=ignore.ignored_rel)
    write(root, {"data/db/file": "d"})
    snap.init()
    snap.ignore = ignore.with_paths("/data").ignored_rel  # VOLUME /data
    shutil.rmtree(root / "data" / "db")
    assert snap.take() == ChangeSet()


def test_single_snapshot_gives_one_change_set_per_stage(root: Path) -> None:
    snap = Snapshotter(root, single_snapshot=True)
    snap.init()  # stage start: the baseline is taken even for a COPY
    assert snap.initialized
    write(root, {"app/copied": "c"})
    assert snap.after_step(["/app/copied"]) == ChangeSet()
    (root / "app" / "a").unlink()
    assert snap.after_step() == ChangeSet()
    write(root, {"app/last": "l"})
    changes = snap.after_step(last=True)
    assert changes.added == ("app/copied", "app/last")
    assert changes.modified == () and changes.deleted == ("app/a",)


def test_take_paths_without_a_baseline_counts_parents_as_added(root: Path) -> None:
    snap = Snapshotter(root)
    assert not snap.initialized
    write(root, {"app/copied": "c"})
    changes = snap.after_step(["/app/copied"])
    assert changes.added == ("app", "app/copied")  # no baseline: parents count as added
    assert not snap.initialized
    snap.init()
    assert snap.initialized
    (root / "app" / "copied").write_text("changed by RUN")
    assert snap.after_step().modified == ("app/copied",)
