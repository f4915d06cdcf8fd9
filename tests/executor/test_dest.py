"""Dest.file: a new name is created in place, an existing entry replaced by a rename;
neither leaves a half-written file behind when filling it fails."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.executor.steps.dest import Dest
from kaniko.executor.steps.entry_meta import Meta, Policy
from kaniko.iotools import write_all

META = Meta(stat.S_IFREG | 0o640, 0, 0, 1_000_000_000, 2_000_000_000)


def _dest(root: Path, *, replace: bool = False) -> Dest:
    return Dest(str(root), Policy((os.getuid(), os.getgid()), None), replace=replace)


def _writer(data: bytes) -> Callable[[int], None]:
    def fill(fd: int) -> None:
        write_all(fd, data)

    return fill


def _failing(fd: int) -> None:
    os.write(fd, b"half")
    raise OSError(28, "No space left on device")


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob(".kaniko-*"))


def test_new_file_gets_content_and_metadata(tmp_path: Path) -> None:
    dest = _dest(tmp_path)
    dest.file("a", META, _writer(b"data"))
    st = os.lstat(tmp_path / "a")
    assert (tmp_path / "a").read_bytes() == b"data"
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert st.st_mtime_ns == 2_000_000_000
    assert dest.finish() == ["/a"]


def test_failure_at_a_new_name_leaves_nothing(tmp_path: Path) -> None:
    dest = _dest(tmp_path)
    with pytest.raises(OSError, match="No space"):
        dest.file("a", META, _failing)
    assert sorted(os.listdir(tmp_path)) == []
    assert dest.finish() == []


def test_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old")
    (tmp_path / "b").symlink_to("a")
    dest = _dest(tmp_path)
    dest.file("b", META, _writer(b"new"))  # the symlink is replaced, not followed
    assert (tmp_path / "a").read_bytes() == b"old"
    assert not (tmp_path / "b").is_symlink()
    assert (tmp_path / "b").read_bytes() == b"new"
    dest.file("a", META, _writer(b"newer"))
    assert (tmp_path / "a").read_bytes() == b"newer"
    assert _leftovers(tmp_path) == []
    assert dest.finish() == ["/a", "/b"]


def test_failure_over_an_existing_file_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old")
    inode = os.lstat(tmp_path / "a").st_ino
    dest = _dest(tmp_path)
    with pytest.raises(OSError, match="No space"):
        dest.file("a", META, _failing)
    assert (tmp_path / "a").read_bytes() == b"old"
    assert os.lstat(tmp_path / "a").st_ino == inode
    assert _leftovers(tmp_path) == []


def test_a_directory_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_bytes(b"x")
    with pytest.raises(BuildError, match="cannot replace directory /d"):
        _dest(tmp_path).file("d", META, _writer(b"file"))
    assert (tmp_path / "d" / "x").read_bytes() == b"x"
    _dest(tmp_path, replace=True).file("d", META, _writer(b"file"))
    assert (tmp_path / "d").read_bytes() == b"file"


def test_a_missing_parent_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _dest(tmp_path).file("no/a", META, _writer(b"x"))
    assert os.listdir(tmp_path) == []
