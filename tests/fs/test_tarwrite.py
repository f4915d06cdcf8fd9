"""write_layer_tar: order, parents, hard links, names, times, xattrs, determinism."""

from __future__ import annotations

import io
import os
import random
import tarfile
from pathlib import Path

import pytest

from kaniko.errors import FilesystemError
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.tarformat import pax_time
from kaniko.fs.tarwrite import TarEntry, write_layer_tar

NS = 1_000_000_000


def write(root: Path, entries: list[tuple[str, str]] | list[TarEntry], **kwargs: object) -> bytes:
    out = io.BytesIO()
    write_layer_tar(root, entries, out, **kwargs)
    return out.getvalue()


def members(blob: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        return tar.getmembers()


def names(blob: bytes) -> list[str]:
    return [m.name for m in members(blob)]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "a/b").mkdir(parents=True)
    (root / "a-b").mkdir()
    (root / "a/b/f").write_bytes(b"content")
    (root / "a-b/g").write_bytes(b"g")
    (root / "z").write_bytes(b"z")
    return root


def test_sorted_with_parents_once_and_no_root(small: Path) -> None:
    entries = [("z", "file"), ("a-b/g", "file"), ("/a/b/f", "file"), ("a/b", "file")]
    blob = write(small, entries)
    # sorted by components: "a" < "a-b" and every parent precedes its children
    assert names(blob) == ["a", "a/b", "a/b/f", "a-b", "a-b/g", "z"]
    assert [m.type for m in members(blob)][:3] == [
        tarfile.DIRTYPE,
        tarfile.DIRTYPE,
        tarfile.REGTYPE,
    ]


def test_pax_numeric_ids_and_empty_names(small: Path) -> None:
    os.chown(small / "z", 1234, 5678)
    (m,) = members(write(small, [("z", "file")]))
    assert (m.uid, m.gid, m.uname, m.gname) == (1234, 5678, "", "")
    blob = write(small, [("z", "file")])
    assert blob[257:265] == b"ustar\x0000"  # POSIX magic and version, not GNU's
    assert blob[265:297].strip(b"\0") == b"" and blob[297:329].strip(b"\0") == b""


def test_whiteouts_and_opaque(small: Path) -> None:
    blob = write(small, [("a/b/gone", "whiteout"), ("a-b", "opaque"), ("", "opaque")])
    assert names(blob) == [".wh..wh..opq", "a", "a/b", "a/b/.wh.gone", "a-b", "a-b/.wh..wh..opq"]
    wh = members(blob)[3]
    assert (wh.type, wh.size, wh.mode, wh.uid, wh.gid) == (tarfile.REGTYPE, 0, 0, 0, 0)


def test_whiteout_in_deleted_directory_needs_no_parent_on_disk(small: Path) -> None:
    assert names(write(small, [("gone/x", "whiteout")])) == ["gone/.wh.x"]


def test_ignored_entries_and_parents_are_left_out(small: Path) -> None:
    blob = write(small, [("a/b/f", "file"), ("z", "file")], ignore=IgnoreList(["/a/b"]))
    assert names(blob) == ["z"]


def test_hardlinks_point_at_the_first_emitted_path(small: Path) -> None:
    os.link(small / "a/b/f", small / "z2")
    os.link(small / "a/b/f", small / "a/0")
    blob = write(small, [("z2", "file"), ("a/b/f", "file"), ("a/0", "file")])
    by_name = {m.name: m for m in members(blob)}
    assert by_name["a/0"].isreg() and by_name["a/0"].size == 7
    assert by_name["a/b/f"].islnk() and by_name["a/b/f"].linkname == "a/0"
    assert by_name["z2"].islnk() and by_name["z2"].linkname == "a/0"
    # only one of the names changed: it carries the content
    (only,) = [m for m in members(write(small, [("z2", "file")])) if m.name == "z2"]
    assert only.isreg() and only.size == 7


def test_long_and_odd_names(tmp_path: Path) -> None:
    long_dir = "d" * 120
    odd = ["with space", "new\nline", "ünïcødé ✓", "tab\there", "x" * 255]
    (tmp_path / long_dir / ("e" * 200)).mkdir(parents=True)
    deep = f"{long_dir}/{'e' * 200}/{'f' * 100}"
    (tmp_path / deep).write_bytes(b"deep")
    for n in odd:
        (tmp_path / n).write_bytes(n.encode())
    raw = os.fsdecode(b"latin1-\xe9")
    (tmp_path / raw).write_bytes(b"raw")
    blob = write(tmp_path, [(deep, "file"), (raw, "file"), *((n, "file") for n in odd)])
    got = names(blob)
    assert deep in got and len(deep.encode()) > 255
    assert set(odd) <= set(got)
    assert any(os.fsencode(n) == b"latin1-\xe9" for n in got)


def test_mtime_nanoseconds_in_pax(small: Path) -> None:
    os.utime(small / "z", ns=(0, 1_700_000_000 * NS + 1))
    os.utime(small / "a-b/g", ns=(0, 1_700_000_000 * NS))
    by_name = {m.name: m for m in members(write(small, [("z", "file"), ("a-b/g", "file")]))}
    assert by_name["z"].pax_headers["mtime"] == "1700000000.000000001"
    assert "mtime" not in by_name["a-b/g"].pax_headers  # whole seconds need no record
    assert by_name["a-b/g"].mtime == 1_700_000_000
    assert not any(k in by_name["z"].pax_headers for k in ("atime", "ctime"))


def test_pax_time_format() -> None:
    assert pax_time(1_500_000_000 * NS + 250_000_000) == "1500000000.25"
    assert pax_time(-1_500_000_000) == "-1.5"
    assert pax_time(7 * NS) == "7"


def test_xattrs_are_written(small: Path) -> None:
    os.setxattr(small / "z", "user.b", b"2")
    os.setxattr(small / "z", "user.a", b"\xff\x00binary")
    (m,) = members(write(small, [("z", "file")]))
    keys = [k for k in m.pax_headers if k.startswith("SCHILY.xattr.")]
    assert keys == ["SCHILY.xattr.user.a", "SCHILY.xattr.user.b"]
    value = m.pax_headers["SCHILY.xattr.user.a"].encode("utf-8", "surrogateescape")
    assert value == b"\xff\x00binary"


def test_reproducible_output_is_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    trees = []
    for index in range(2):
        root = tmp_path / f"r{index}"
        order = ["a/1", "a/2", "b/3", "c"]
        random.Random(index).shuffle(order)
        for name in order:  # different creation order, inode numbers and times
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(name.encode() * 1000)
            os.utime(root / name, ns=(0, (index + 1) * 123_456_789_123))
        os.link(root / "a/1", root / "hard")
        os.symlink("a/1", root / "sym")
        entries = [(p, "file") for p in [*order, "hard", "sym"]] + [("old", "whiteout")]
        random.Random(index + 7).shuffle(entries)
        trees.append(write(root, entries, reproducible=True))
    assert trees[0] == trees[1]
    assert {m.mtime for m in members(trees[0])} == {0}
    assert all("mtime" not in m.pax_headers for m in members(trees[0]))


def test_reproducible_times_are_the_epoch_given(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SOURCE_DATE_EPOCH is the CLI's to read (tests/cli/test_env.py); the writer never does.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    assert {m.mtime for m in members(write(small, [("z", "file")], reproducible=True))} == {0}
    assert {
        m.mtime for m in members(write(small, [("z", "file")], reproducible=True, epoch=42))
    } == {42}
    assert {
        m.mtime for m in members(write(small, [("z", "file")], reproducible=True, epoch=-5))
    } == {-5}


def test_sparse_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    with open(tmp_path / "sparse", "wb") as f:
        f.truncate(8 << 20)
        f.seek(8 << 20)
        f.write(b"end")
    by_name = {m.name: m for m in members(write(tmp_path, [("empty", "file"), ("sparse", "file")]))}
    assert by_name["empty"].size == 0 and by_name["sparse"].size == (8 << 20) + 3


def test_missing_path_and_symlinked_parent_are_errors(small: Path) -> None:
    with pytest.raises(FilesystemError, match="no such file"):
        write(small, [("nope", "file")])
    os.symlink("a", small / "link")
    with pytest.raises(FilesystemError, match="not a directory"):
        write(small, [("link/b/f", "file")])


def test_sockets_are_skipped(tmp_path: Path) -> None:
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        (tmp_path / "f").write_bytes(b"")
        assert names(write(tmp_path, [("sock", "file"), ("f", "file")])) == ["f"]


def test_unknown_kind_is_rejected(small: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        write(small, [("z", "symlink")])
