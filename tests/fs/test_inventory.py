"""Inventory walks of real trees: every file type, symlinks never followed, ignore skipping,
suspect entries and their digests."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import time
from pathlib import Path

import pytest

from kaniko.fs.inventory import (
    META_FIELDS,
    FileRecord,
    Inventory,
    is_suspect,
    record_of,
    scan,
    suspect_window_ns,
    xattrs_digest,
)

ROOT = os.geteuid() == 0
FAR_FUTURE = time.time_ns() + 3600 * 10**9  # a walk start no test file is near


def make_tree(root: Path) -> None:
    (root / "dir" / "sub").mkdir(parents=True)
    (root / "dir" / "file").write_bytes(b"hello")
    os.chmod(root / "dir" / "file", 0o4751)
    os.utime(root / "dir" / "file", ns=(1_000_000_123, 2_000_000_456))
    (root / "empty").write_bytes(b"")
    os.symlink("dir/file", root / "link")
    os.symlink("/nowhere/at/all", root / "dangling")
    os.link(root / "dir" / "file", root / "hard")
    os.mkfifo(root / "fifo")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))


def test_every_file_type_recorded(tmp_path: Path) -> None:
    make_tree(tmp_path)
    inv = Inventory.take(tmp_path)
    assert set(inv) == {
        "dir", "dir/sub", "dir/file", "empty", "link", "dangling", "hard", "fifo", "sock",
    }  # fmt: skip
    types = {rel: inv[rel].type for rel in inv}
    assert types == {
        "dir": "dir", "dir/sub": "dir", "dir/file": "file", "empty": "file",
        "link": "symlink", "dangling": "symlink", "hard": "file", "fifo": "fifo",
        "sock": "socket",
    }  # fmt: skip
    rec = inv["dir/file"]
    st = os.lstat(tmp_path / "dir" / "file")
    assert stat.S_IMODE(rec.mode) == 0o4751
    assert (rec.size, rec.mtime_ns, rec.ctime_ns) == (5, 2_000_000_456, st.st_ctime_ns)
    assert (rec.inode, rec.dev, rec.uid, rec.gid) == (st.st_ino, st.st_dev, st.st_uid, st.st_gid)
    assert rec.nlink == 2 and inv["hard"].inode == rec.inode
    assert inv["link"].link == "dir/file" and inv["dangling"].link == "/nowhere/at/all"
    assert inv["dir/file"].link is None
    assert inv["dir"].is_dir and not inv["link"].is_dir
    assert inv.get("missing") is None and "dir/sub" in inv and len(inv) == 9


@pytest.mark.skipif(not ROOT, reason="mknod and chown need root")
def test_devices_and_owners(tmp_path: Path) -> None:
    try:
        os.mknod(tmp_path / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.mknod(tmp_path / "loop", 0o660 | stat.S_IFBLK, os.makedev(7, 0))
    except PermissionError:
        pytest.skip("device nodes not permitted here")
    (tmp_path / "owned").write_text("x")
    os.chown(tmp_path / "owned", 1234, 5678)
    inv = Inventory.take(tmp_path)
    assert inv["null"].type == "char" and inv["null"].rdev == os.makedev(1, 3)
    assert inv["loop"].type == "block" and inv["loop"].rdev == os.makedev(7, 0)
    assert (inv["owned"].uid, inv["owned"].gid) == (1234, 5678)


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "key").write_text("k")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "escape")
    os.symlink("loop", root / "loop")  # a symlink to itself: must not hang
    inv = Inventory.take(root)
    assert set(inv) == {"escape", "loop"}
    assert inv["escape"].type == "symlink"


def test_ignored_trees_are_skipped_at_their_top(tmp_path: Path) -> None:
    for rel in ("keep/a", "skip/deep/b", "keep/skip-not/c", "top"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    seen: list[str] = []

    def ignore(rel: str) -> bool:
        seen.append(rel)
        return rel in {"skip", "top"}

    inv = Inventory.take(tmp_path, ignore=ignore)
    assert sorted(inv) == ["keep", "keep/a", "keep/skip-not", "keep/skip-not/c"]
    assert not any(rel.startswith("skip/") for rel in seen)  # never looked below
    assert "" not in seen and all(not rel.startswith("/") for rel in seen)


def test_scan_of_a_subtree_uses_root_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("f")
    (tmp_path / "other").write_text("o")
    records = scan(str(tmp_path), "a", ignore=None, started_ns=FAR_FUTURE, digests=True)
    assert sorted(records) == ["a/b", "a/b/f"]
    assert scan(str(tmp_path), "missing", ignore=None, started_ns=0, digests=True) == {}


def test_fresh_files_are_suspects_with_digests(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"payload")
    os.symlink("f", tmp_path / "l")
    inv = Inventory.take(tmp_path)  # written an instant ago: within the clock window
    rec = inv["f"]
    assert rec.suspect and rec.content == hashlib.sha256(b"payload").digest()
    assert rec.xattrs == xattrs_digest(str(tmp_path / "f"))
    assert inv["l"].suspect and inv["l"].content == b""  # symlinks: target is metadata
    plain = Inventory.take(tmp_path, digests=False)
    assert plain["f"].xattrs is None and plain["f"].content is None
    # Walked long after: metadata is conclusive, nothing is read.
    later = scan(str(tmp_path), "", ignore=None, started_ns=FAR_FUTURE, digests=True)
    assert not later["f"].suspect and later["f"][:META_FIELDS] == rec[:META_FIELDS]


def test_suspect_window() -> None:
    window = suspect_window_ns()
    assert window >= 20_000_000
    start = 1_700_000_000_123_456_789
    assert is_suspect(start + 5, start)  # after the start
    assert is_suspect(start - window + 1, start)
    assert not is_suspect(start - window - 1_000, start)
    # A whole-second ctime (1 s granularity filesystem) stays suspect for a second more.
    whole = (start // 10**9) * 10**9
    assert whole < start - window and is_suspect(whole, start)
    assert not is_suspect(whole - 2 * 10**9, start)


def test_xattrs_digest_sees_names_and_values(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    bare = xattrs_digest(str(f))
    try:
        os.setxattr(f, "user.one", b"1")
    except OSError:
        pytest.skip("no user xattrs on this filesystem")
    one = xattrs_digest(str(f))
    os.setxattr(f, "user.one", b"2")
    two = xattrs_digest(str(f))
    assert len({bare, one, two}) == 3
    os.setxattr(f, "user.one", b"1")
    assert xattrs_digest(str(f)) == one


def test_record_of_single_paths(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.symlink("d", tmp_path / "s")
    rec = record_of(str(tmp_path), "d", started_ns=FAR_FUTURE, digests=True)
    assert isinstance(rec, FileRecord) and rec.is_dir and not rec.suspect
    assert record_of(str(tmp_path), "s", started_ns=0, digests=False).link == "d"
    assert record_of(str(tmp_path), "nope", started_ns=0, digests=True) is None
    assert record_of(str(tmp_path), "s/x", started_ns=0, digests=True) is None
