"""Whiteouts, opaque directories, type changes, hard links across layers, extract_image."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from kaniko.errors import FilesystemError, RegistryError
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.unpack import extract_image, wipe_root
from tests.fs.helpers import M, apply, layer


def lower(root: Path) -> None:
    """A lower layer: a file, a tree, and a directory with content."""
    apply(
        root,
        M("etc/keep", data=b"k"),
        M("etc/gone", data=b"g"),
        M("opt/tree/a/b", data=b"b"),
        M("opt/tree/c", data=b"c"),
        M("data/old1", data=b"1"),
        M("data/sub/old2", data=b"2"),
    )


def listing(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


def test_whiteout_file_and_tree(tmp_path: Path) -> None:
    lower(tmp_path)
    stats = apply(tmp_path, M("etc/.wh.gone"), M("opt/.wh.tree"), M(".wh.never-existed"))
    assert stats.whiteouts == 3
    assert listing(tmp_path) == [
        "data",
        "data/old1",
        "data/sub",
        "data/sub/old2",
        "etc",
        "etc/keep",
        "opt",
    ]


def test_opaque_directory(tmp_path: Path) -> None:
    lower(tmp_path)
    apply(tmp_path, M("data", "dir"), M("data/.wh..wh..opq"), M("data/new", data=b"n"))
    assert sorted(os.listdir(tmp_path / "data")) == ["new"]


@pytest.mark.parametrize("whiteout_first", [True, False], ids=["whiteout-first", "add-first"])
def test_whiteout_never_removes_what_the_same_layer_adds(
    tmp_path: Path, whiteout_first: bool
) -> None:
    lower(tmp_path)
    whiteouts = [M("etc/.wh.gone"), M("opt/.wh.tree")]
    adds = [
        M("etc/gone", data=b"re-added"),
        M("opt/tree", "dir"),
        M("opt/tree/new", data=b"n"),
    ]
    apply(tmp_path, *(whiteouts + adds if whiteout_first else adds + whiteouts))
    assert (tmp_path / "etc/gone").read_bytes() == b"re-added"
    # the lower tree is gone, only what this layer put in opt/tree remains
    assert sorted(os.listdir(tmp_path / "opt/tree")) == ["new"]


@pytest.mark.parametrize("opaque_first", [True, False], ids=["opaque-first", "add-first"])
def test_opaque_never_removes_what_the_same_layer_adds(tmp_path: Path, opaque_first: bool) -> None:
    lower(tmp_path)
    opaque = [M("data/.wh..wh..opq")]
    adds = [
        M("data/new", data=b"n"),
        M("data/sub/new2", data=b"n2"),
        M("data/link", "symlink", link="new"),
    ]
    apply(tmp_path, *(opaque + adds if opaque_first else adds + opaque))
    assert sorted(os.listdir(tmp_path / "data")) == ["link", "new", "sub"]
    assert sorted(os.listdir(tmp_path / "data/sub")) == ["new2"]  # lower old2 is hidden too


def test_whiteout_then_same_name_in_next_layer(tmp_path: Path) -> None:
    lower(tmp_path)
    apply(tmp_path, M("opt/.wh.tree"))
    apply(tmp_path, M("opt/tree", data=b"now a file"))
    assert (tmp_path / "opt/tree").read_bytes() == b"now a file"


def test_aufs_metadata_is_not_extracted(tmp_path: Path) -> None:
    stats = apply(tmp_path, M(".wh..wh.plnk", "dir"), M(".wh..wh.aufs", data=b""), M("f", data=b""))
    assert listing(tmp_path) == ["f"] and stats.whiteouts == 0


@pytest.mark.parametrize(
    ("before", "after", "check"),
    [
        (M("p", "dir"), M("p", data=b"file"), lambda p: p.read_bytes() == b"file"),
        (
            M("p", data=b"file"),
            M("p", "dir", mode=0o700),
            lambda p: p.is_dir() and not p.is_symlink(),
        ),
        (M("p", "dir"), M("p", "symlink", link="etc"), lambda p: os.readlink(p) == "etc"),
        (M("p", "symlink", link="etc"), M("p", "dir"), lambda p: p.is_dir() and not p.is_symlink()),
        (M("p", data=b"f"), M("p", "symlink", link="x"), lambda p: os.readlink(p) == "x"),
        (M("p", "symlink", link="x"), M("p", data=b"f"), lambda p: p.read_bytes() == b"f"),
        (M("p", "dir"), M("p", "fifo"), lambda p: stat.S_ISFIFO(os.lstat(p).st_mode)),
        (M("p", "fifo"), M("p", "hardlink", link="etc/keep"), lambda p: p.read_bytes() == b"k"),
    ],
    ids=[
        "dir-to-file",
        "file-to-dir",
        "dir-to-symlink",
        "symlink-to-dir",
        "file-to-symlink",
        "symlink-to-file",
        "dir-to-fifo",
        "fifo-to-hardlink",
    ],
)
def test_type_changes(tmp_path: Path, before: M, after: M, check: Callable[[Path], bool]) -> None:
    apply(tmp_path, M("etc/keep", data=b"k"), M("p", "dir"), M("p/child", data=b"c"))
    apply(tmp_path, before)
    apply(tmp_path, after)
    assert check(tmp_path / "p")


def test_type_changes_within_one_layer(tmp_path: Path) -> None:
    apply(
        tmp_path,
        M("a", "dir", mode=0o700, mtime=1),
        M("a/f", data=b"x"),
        M("a", data=b"now a file"),
        M("b", data=b"first"),
        M("b", "dir", mode=0o750, mtime=2),
        M("b/f", data=b"y"),
    )
    assert (tmp_path / "a").read_bytes() == b"now a file"
    assert (tmp_path / "b/f").read_bytes() == b"y"
    assert stat.S_IMODE(os.lstat(tmp_path / "b").st_mode) == 0o750


def test_symlinked_directory_of_a_lower_layer_is_followed_inside_root(tmp_path: Path) -> None:
    apply(tmp_path, M("usr/lib", "dir"), M("lib", "symlink", link="/usr/lib"))
    apply(tmp_path, M("lib/libc.so", data=b"elf"))
    assert (tmp_path / "usr/lib/libc.so").read_bytes() == b"elf"
    assert os.readlink(tmp_path / "lib") == "/usr/lib"


def test_hardlinks_across_layers(tmp_path: Path) -> None:
    apply(tmp_path, M("usr/bin/python3.11", data=b"py", mode=0o755))
    apply(tmp_path, M("usr/bin/python3", "hardlink", link="usr/bin/python3.11"))
    apply(tmp_path, M("usr/local/py", "hardlink", link="/usr/bin/python3"))
    ino = os.stat(tmp_path / "usr/bin/python3.11").st_ino
    assert os.stat(tmp_path / "usr/bin/python3").st_ino == ino
    assert os.stat(tmp_path / "usr/local/py").st_ino == ino
    assert os.stat(tmp_path / "usr/local/py").st_nlink == 3


def test_hardlink_replacing_its_own_target_name_is_a_no_op(tmp_path: Path) -> None:
    apply(tmp_path, M("f", data=b"x"), M("f", "hardlink", link="f"))
    assert (tmp_path / "f").read_bytes() == b"x"


def test_hardlink_to_missing_target_names_the_entry(tmp_path: Path) -> None:
    with pytest.raises(FilesystemError, match=r"layer entry 'hl'.*does not exist"):
        apply(tmp_path, M("hl", "hardlink", link="missing"))


def test_hardlink_to_ignored_target_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/x").write_bytes(b"host")
    stats = apply(tmp_path, M("hl", "hardlink", link="proc/x"), ignore=IgnoreList(["/proc"]))
    assert not (tmp_path / "hl").exists() and stats.ignored == 1


def test_wipe_root_keeps_ignored(tmp_path: Path) -> None:
    lower(tmp_path)
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/x").write_bytes(b"")
    os.symlink(str(tmp_path / "data"), tmp_path / "out")  # never followed
    wipe_root(tmp_path / "opt", ignore=None)
    assert os.listdir(tmp_path / "opt") == []
    wipe_root(tmp_path, ignore=IgnoreList(["/proc", "/data/sub"]))
    assert listing(tmp_path) == ["data", "data/sub", "data/sub/old2", "proc", "proc/x"]


def _opener(blob: bytes) -> Callable[[], BinaryIO]:
    return lambda: io.BytesIO(blob)


def test_extract_image_applies_layers_in_order(tmp_path: Path) -> None:
    blobs = [
        layer(M("a", data=b"1"), M("b", data=b"1"), compression="gzip"),
        layer(M(".wh.a"), M("b", data=b"2"), compression="zstd"),
        layer(M("c", data=b"3")),
    ]
    stats = extract_image([_opener(b) for b in blobs], tmp_path)
    assert listing(tmp_path) == ["b", "c"] and (tmp_path / "b").read_bytes() == b"2"
    assert [s.entries for s in stats] == [2, 2, 1]


def test_extract_image_retries_from_a_wiped_root(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    calls = {"n": 0}

    def flaky() -> BinaryIO:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RegistryError("connection reset while reading the blob")
        return io.BytesIO(layer(M("second", data=b"2")))

    (tmp_path / "proc/kept").write_bytes(b"")
    (tmp_path / "stale").write_bytes(b"left by the failed attempt")
    good = _opener(layer(M("first", data=b"1")))
    extract_image([good, flaky], tmp_path, ignore=IgnoreList(["/proc"]), retries=1)
    assert listing(tmp_path) == ["first", "proc", "proc/kept", "second"]
    assert calls["n"] == 2


def test_extract_image_gives_up_after_retries(tmp_path: Path) -> None:
    bad = _opener(layer(M("../escape", data=b"")))
    with pytest.raises(FilesystemError, match=r"layer 1/1: layer entry '../escape'"):
        extract_image([bad], tmp_path, retries=2)
    assert os.listdir(tmp_path) == []
