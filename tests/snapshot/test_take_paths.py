"""take_paths: snapshots of steps that report what they wrote (COPY/ADD), with no walk."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from kaniko.fs.diff import ChangeSet
from kaniko.fs.ignore import IgnoreList
from kaniko.snapshot.paths import normalize
from kaniko.snapshot.snapshotter import Snapshotter


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture
def snap(tmp_path: Path) -> Snapshotter:
    write(tmp_path, {"app/a": "a", "app/b": "b", "app/sub/c": "c", "etc/passwd": "root"})
    snapshotter = Snapshotter(tmp_path, ignore=IgnoreList(["/proc"]).ignored_rel)
    snapshotter.init()
    return snapshotter


def test_normalize() -> None:
    assert normalize("/app//x/./y/") == "app/x/y"
    assert normalize("app/x") == "app/x"
    assert normalize("/") == "" and normalize(".") == "" and normalize("") == ""
    assert normalize("/a/../b") == "b" and normalize("/../../etc") == "etc"
    assert normalize("../escape") == "escape"  # clamped at the root, as in a chroot


def test_reported_files_and_changed_parents(snap: Snapshotter) -> None:
    root = Path(snap.root)
    write(root, {"app/new/deep/x": "x", "etc/unreported": "u"})
    changes = snap.take_paths(["/app/new/deep/x"])
    assert changes.added == ("app/new", "app/new/deep", "app/new/deep/x")
    assert changes.modified == ()  # app gained an entry: its times alone are no change
    assert changes.deleted == ()
    # No walk: the unreported file is left for the next take(), which finds only it.
    assert snap.take() == ChangeSet(added=("etc/unreported",))


def test_a_reported_path_is_in_the_layer_even_if_unchanged(snap: Snapshotter) -> None:
    changes = snap.take_paths(["app/a", "/app/a/"])
    assert changes == ChangeSet(modified=("app/a",))


def test_reported_directory_tree_is_scanned(snap: Snapshotter) -> None:
    root = Path(snap.root)
    (root / "app" / "b").unlink()
    write(root, {"app/sub/c2": "new", "app/sub/c": "changed"})
    changes = snap.take_paths(["/app", "/app/sub/c2"])
    assert changes.added == ("app/sub/c2",)
    assert changes.modified == ("app", "app/sub/c")  # app/a unchanged, app/sub only times
    assert changes.deleted == ("app/b",)
    assert snap.take() == ChangeSet()


def test_reported_root_is_a_full_diff(snap: Snapshotter) -> None:
    root = Path(snap.root)
    shutil.rmtree(root / "app" / "sub")
    write(root, {"top": "t"})
    changes = snap.take_paths(["/"])
    assert changes == ChangeSet(added=("top",), deleted=("app/sub",))
    assert snap.take() == ChangeSet()


def test_reported_path_that_is_gone_gets_a_whiteout(snap: Snapshotter) -> None:
    shutil.rmtree(Path(snap.root) / "app" / "sub")
    changes = snap.take_paths(["/app/sub", "/app/sub/c"])
    assert changes.deleted == ("app/sub",)  # one whiteout for the tree
    assert changes.modified == ()
    assert "app/sub/c" not in snap.inventory
    assert snap.take() == ChangeSet()
    assert snap.take_paths(["/never/existed"]) == ChangeSet()


def test_directory_replaced_by_file(snap: Snapshotter) -> None:
    root = Path(snap.root)
    shutil.rmtree(root / "app" / "sub")
    (root / "app" / "sub").write_text("a file now")
    changes = snap.take_paths(["/app/sub"])
    assert changes.modified == ("app/sub",) and changes.deleted == ()
    assert "app/sub/c" not in snap.inventory
    assert snap.take() == ChangeSet()


def test_ignored_and_symlinked_reports(snap: Snapshotter, caplog: pytest.LogCaptureFixture) -> None:
    root = Path(snap.root)
    write(root, {"proc/x": "p", "real/f": "f"})
    os.symlink("real", root / "alias")
    with caplog.at_level(logging.WARNING, logger="kaniko.snapshot.paths"):
        changes = snap.take_paths(["/proc/x", "/alias/f"])
    assert changes.added == ("alias",)  # the symlinked parent itself, not what it points to
    assert "alias/f" not in snap.inventory and "proc" not in snap.inventory
    assert "/alias is not a directory" in caplog.text


def test_before_init_everything_reported_is_added(tmp_path: Path) -> None:
    write(tmp_path, {"app/x": "x", "app/d/y": "y"})
    snap = Snapshotter(tmp_path)
    changes = snap.take_paths(["/app/x", "/app/d"])
    assert changes.added == ("app", "app/d", "app/d/y", "app/x")
    assert changes.deleted == () and not snap.initialized


def test_parent_directory_replaced_by_symlink(snap: Snapshotter) -> None:
    root = Path(snap.root)
    shutil.rmtree(root / "app" / "sub")
    os.symlink("/etc", root / "app" / "sub")
    changes = snap.take_paths(["/app/sub/c"])
    assert changes == ChangeSet(modified=("app/sub",))  # no whiteout below a symlink
    assert "app/sub/c" not in snap.inventory
    assert snap.take() == ChangeSet()


def test_many_reported_directories(snap: Snapshotter) -> None:
    root = Path(snap.root)
    write(root, {f"app/d{i:03d}/f": str(i) for i in range(200)})
    snap.take()
    for i in range(0, 200, 2):
        (root / "app" / f"d{i:03d}" / "f").unlink()
    changes = snap.take_paths(f"/app/d{i:03d}" for i in range(200))
    assert changes.deleted == tuple(f"app/d{i:03d}/f" for i in range(0, 200, 2))
    assert changes.modified == tuple(f"app/d{i:03d}" for i in range(200))
    assert snap.take() == ChangeSet()
