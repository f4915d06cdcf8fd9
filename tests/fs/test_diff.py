"""Diffs of real trees: additions, every kind of modification, deletions and their
whiteouts, type changes, and what each snapshot mode sees."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kaniko.fs.diff import ChangeSet, diff, is_ignored, whiteouts
from kaniko.fs.inventory import Inventory, suspect_window_ns

ROOT = os.geteuid() == 0


def build(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def change(root: Path, step: Callable[[], object], mode: str = "full") -> ChangeSet:
    before = Inventory.take(root, digests=mode == "full")
    step()
    after = Inventory.take(root, digests=mode == "full")
    return diff(before.records, after.records, mode=mode, root=str(root))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    build(tmp_path, {"a/one": "1", "a/two": "2", "b/c/d/deep": "x", "b/c/e": "y", "top": "t"})
    return tmp_path


def test_no_change_is_an_empty_changeset(tree: Path) -> None:
    changes = change(tree, lambda: None)
    assert changes == ChangeSet() and not changes and len(changes) == 0


def test_added_file_and_its_new_parents(tree: Path) -> None:
    changes = change(tree, lambda: build(tree, {"n/m/new": "new"}))
    assert changes.added == ("n", "n/m", "n/m/new")
    assert changes.modified == () and changes.deleted == ()


def test_content_change_same_size(tree: Path) -> None:
    changes = change(tree, lambda: (tree / "a" / "one").write_text("9"))
    assert changes.modified == ("a/one",) and changes.added == ()


def test_chmod_chown_and_mtime_are_modifications(tree: Path) -> None:
    assert change(tree, lambda: os.chmod(tree / "top", 0o600)).modified == ("top",)
    touched = change(tree, lambda: os.utime(tree / "a" / "two", ns=(0, 123)))
    assert touched.modified == ("a/two",)
    if ROOT:
        owned = change(tree, lambda: os.chown(tree / "b" / "c" / "e", 4321, 4321))
        assert owned.modified == ("b/c/e",)


def test_deleted_file_is_one_whiteout_and_its_parent_unchanged(tree: Path) -> None:
    changes = change(tree, lambda: (tree / "a" / "two").unlink())
    assert changes.deleted == ("a/two",)
    assert changes.modified == ()  # a directory's times do not count (BuildKit's sameDirent)


def test_deleted_tree_gives_one_whiteout_at_its_top(tree: Path) -> None:
    changes = change(tree, lambda: shutil.rmtree(tree / "b" / "c"))
    assert changes.deleted == ("b/c",)
    assert changes.modified == () and changes.added == ()


def test_directory_replaced_by_file_and_back(tree: Path) -> None:
    def to_file() -> None:
        shutil.rmtree(tree / "b")
        (tree / "b").write_text("now a file")

    changes = change(tree, to_file)
    assert changes.modified == ("b",)
    assert changes.deleted == ()  # the file entry replaces the whole lower directory

    def to_dir() -> None:
        (tree / "b").unlink()
        build(tree, {"b/fresh": "f"})

    changes = change(tree, to_dir)
    assert changes.modified == ("b",) and changes.added == ("b/fresh",)


def test_directory_replaced_by_symlink(tree: Path) -> None:
    def swap() -> None:
        shutil.rmtree(tree / "a")
        os.symlink("b", tree / "a")

    changes = change(tree, swap)
    assert changes.modified == ("a",) and changes.deleted == ()


def test_recreated_directory_whites_out_missing_children(tree: Path) -> None:
    def recreate() -> None:
        shutil.rmtree(tree / "a")
        build(tree, {"a/one": "1"})

    changes = change(tree, recreate)
    assert changes.deleted == ("a/two",)
    assert changes.modified == ("a/one",)  # a recreated directory alike is not a change


def test_symlink_retarget(tree: Path) -> None:
    os.symlink("a/one", tree / "ln")

    def retarget() -> None:
        (tree / "ln").unlink()
        os.symlink("a/two", tree / "ln")

    assert change(tree, retarget).modified == ("ln",)


def test_hardlink_added(tree: Path) -> None:
    changes = change(tree, lambda: os.link(tree / "a" / "one", tree / "a" / "three"))
    assert changes.added == ("a/three",)
    assert changes.modified == ("a/one",)  # link count and ctime of the original changed


def test_outputs_are_sorted(tree: Path) -> None:
    def many() -> None:
        build(tree, {"z": "z", "a-b": "1", "a/zz": "2", "a/b-c": "3", "m/n": "4"})
        (tree / "top").unlink()
        (tree / "a" / "one").unlink()

    changes = change(tree, many)
    for group in (changes.added, changes.modified, changes.deleted, changes.changed):
        assert list(group) == sorted(group)
    assert changes.changed == tuple(sorted(changes.added + changes.modified))
    assert changes.deleted == ("a/one", "top")


def test_whiteouts_skip_ignored_paths(tree: Path) -> None:
    before = Inventory.take(tree)
    # The tree 'b' joins the ignore list (a VOLUME): the walk no longer sees it.
    after = Inventory.take(tree, ignore=lambda rel: rel == "b")
    changes = diff(before.records, after.records, root=str(tree), ignore=lambda r: r == "b")
    assert changes == ChangeSet()
    # A deleted child of an ignored directory gets no whiteout either.
    gone = whiteouts(["b/c", "a/one"], after.records | before.records, ignore=lambda r: r == "b")
    assert gone == ["a/one"]
    assert is_ignored("b/c/d", lambda r: r == "b") and not is_ignored("bb", lambda r: r == "b")


def test_unknown_mode_rejected(tree: Path) -> None:
    with pytest.raises(ValueError, match="snapshot mode"):
        diff({}, {}, mode="fast")


# -- snapshot modes -------------------------------------------------------------------------


def test_time_mode_misses_chmod_that_full_and_redo_catch(tree: Path) -> None:
    def chmod() -> None:
        mtime = os.lstat(tree / "top").st_mtime_ns
        os.chmod(tree / "top", 0o640)
        os.utime(tree / "top", ns=(mtime, mtime))

    assert change(tree, chmod, "time") == ChangeSet()
    os.chmod(tree / "top", 0o644)
    assert change(tree, chmod, "redo").modified == ("top",)
    os.chmod(tree / "top", 0o644)
    assert change(tree, chmod, "full").modified == ("top",)


def test_redo_misses_same_size_rewrite_with_restored_mtime(tree: Path) -> None:
    def sneaky() -> None:
        path = tree / "a" / "one"
        mtime = os.lstat(path).st_mtime_ns
        path.write_text("Z")
        os.utime(path, ns=(mtime, mtime))

    assert change(tree, sneaky, "redo").modified == ()
    assert change(tree, sneaky, "time").modified == ()
    assert change(tree, sneaky, "full").modified == ("a/one",)  # ctime moved


@pytest.mark.skipif(not ROOT, reason="chown needs root")
def test_time_mode_misses_chown_redo_catches(tree: Path) -> None:
    def chown(uid: int) -> Callable[[], None]:
        def step() -> None:
            mtime = os.lstat(tree / "top").st_mtime_ns
            os.chown(tree / "top", uid, uid)
            os.utime(tree / "top", ns=(mtime, mtime))

        return step

    assert change(tree, chown(1001), "time") == ChangeSet()
    assert change(tree, chown(1002), "redo").modified == ("top",)


def test_type_change_is_seen_in_every_mode(tree: Path) -> None:
    for mode in ("time", "redo", "full"):
        path = tree / "top"
        mtime = os.lstat(path).st_mtime_ns

        def swap(path: Path = path, mtime: int = mtime) -> None:
            if path.is_dir():
                path.rmdir()
                path.write_text("t")
            else:
                path.unlink()
                path.mkdir()
            os.utime(path, ns=(mtime, mtime))

        assert change(tree, swap, mode).modified == ("top",), mode


# -- directories: their own metadata only (BuildKit's sameDirent) ----------------------------


@pytest.mark.parametrize("mode", ["full", "redo", "time"])
def test_a_directory_whose_entries_came_and_went_is_unchanged(tree: Path, mode: str) -> None:
    """A temp file made and removed, or a sandbox's mount point in /etc: no layer entry."""

    def scratch() -> None:
        (tree / "a" / "tmp.1").write_text("t")
        (tree / "a" / "tmp.1").unlink()
        (tree / "b" / "sub").mkdir()
        (tree / "b" / "sub").rmdir()

    assert change(tree, scratch, mode) == ChangeSet()


@pytest.mark.parametrize(("mode", "seen"), [("full", True), ("redo", True), ("time", False)])
def test_a_directory_chmod_is_a_change(tree: Path, mode: str, seen: bool) -> None:
    changes = change(tree, lambda: os.chmod(tree / "b" / "c", 0o700), mode)
    assert changes.modified == (("b/c",) if seen else ())


@pytest.mark.skipif(not ROOT, reason="chown needs root")
def test_a_directory_chown_is_a_change(tree: Path) -> None:
    assert change(tree, lambda: os.chown(tree / "a", 7, 8)).modified == ("a",)


def test_a_directory_xattr_is_a_change_in_full_mode(tree: Path) -> None:
    try:
        os.setxattr(tree / "a", "user.probe", b"1")
        os.removexattr(tree / "a", "user.probe")
    except OSError:
        pytest.skip("no user xattrs on this file system")
    time.sleep(2 * suspect_window_ns() / 1e9)  # the directory is no suspect any more
    changes = change(tree, lambda: os.setxattr(tree / "a", "user.k", b"v"))
    assert changes.modified == ("a",)
    # Recorded just now, it carries an xattr digest: an entry added below is no change of it.
    assert change(tree, lambda: (tree / "a" / "x").write_text("x")).modified == ()
    # Older, only its ctime is known: with xattrs, a moved ctime counts (it may be theirs).
    time.sleep(2 * suspect_window_ns() / 1e9)
    assert change(tree, lambda: (tree / "a" / "y").write_text("y")).modified == ("a",)
