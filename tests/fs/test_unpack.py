"""apply_layer: every entry type and its metadata, compression, errors, the ignore list."""

from __future__ import annotations

import io
import logging
import os
import stat
from pathlib import Path

import pytest

from kaniko.errors import FilesystemError
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.unpack import apply_layer, extract_image
from kaniko.oci.digest import Digest
from tests.fs.helpers import MTIME, M, apply, layer, xattrs_of

CAP = bytes.fromhex("0100000200200000000000000000000000000000")  # cap_net_bind_service=ep
NS = 1_000_000_000


def test_every_entry_type(tmp_path: Path) -> None:
    stats = apply(
        tmp_path,
        M("etc", "dir", mode=0o755),
        M("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n", mode=0o644),
        M("bin/sh", data=b"#!", mode=0o755),  # parent "bin" comes implicitly
        M("bin/ash", "symlink", link="sh"),
        M("bin/busybox", "hardlink", link="bin/sh"),
        M("run/fifo", "fifo", mode=0o600),
        M("dev/null", "char", mode=0o666, dev=(1, 3)),
        M("dev/loop0", "block", mode=0o660, dev=(7, 0)),
    )
    assert (tmp_path / "etc/passwd").read_bytes() == b"root:x:0:0::/root:/bin/sh\n"
    assert os.readlink(tmp_path / "bin/ash") == "sh"
    assert os.stat(tmp_path / "bin/busybox").st_ino == os.stat(tmp_path / "bin/sh").st_ino
    assert stat.S_ISFIFO(os.lstat(tmp_path / "run/fifo").st_mode)
    null = os.lstat(tmp_path / "dev/null")
    assert stat.S_ISCHR(null.st_mode) and (os.major(null.st_rdev), os.minor(null.st_rdev)) == (1, 3)
    loop = os.lstat(tmp_path / "dev/loop0")
    assert stat.S_ISBLK(loop.st_mode) and stat.S_IMODE(loop.st_mode) == 0o660
    implicit = os.lstat(tmp_path / "bin")
    assert stat.S_IMODE(implicit.st_mode) == 0o755 and implicit.st_uid == 0
    assert (stats.files, stats.dirs, stats.symlinks, stats.hardlinks, stats.specials) == (
        2,
        1,
        1,
        1,
        3,
    )
    assert stats.entries == 8 and stats.bytes == 28


def test_modes_owners_and_special_bits(tmp_path: Path) -> None:
    apply(
        tmp_path,
        M("tmp", "dir", mode=0o1777),
        M("usr/bin/su", data=b"x", mode=0o4755, uid=0, gid=0),
        M("usr/bin/wall", data=b"x", mode=0o2755, uid=1000, gid=5),
        M("srv", "dir", mode=0o2770, uid=33, gid=33),
        M("home/u/link", "symlink", link="/etc", uid=1234, gid=4321),
        M("secret", data=b"x", mode=0o000),
    )

    def bits(p: str) -> int:
        return stat.S_IMODE(os.lstat(tmp_path / p).st_mode)

    assert bits("tmp") == 0o1777
    assert bits("usr/bin/su") == 0o4755
    assert bits("usr/bin/wall") == 0o2755  # chmod after chown: setgid survives
    assert bits("srv") == 0o2770
    assert bits("secret") == 0
    wall = os.lstat(tmp_path / "usr/bin/wall")
    assert (wall.st_uid, wall.st_gid) == (1000, 5)
    link = os.lstat(tmp_path / "home/u/link")
    assert (link.st_uid, link.st_gid) == (1234, 4321)


def test_mtimes_to_the_nanosecond(tmp_path: Path) -> None:
    apply(
        tmp_path,
        M("d", "dir", pax={"mtime": "1600000000.123456789"}),
        M("d/f", data=b"x", pax={"mtime": "1500000000.000000001", "atime": "1400000000.5"}),
        M("d/l", "symlink", link="nowhere", pax={"mtime": "1300000000.25"}),
        M("old", data=b"x", mtime=0, pax={"mtime": "-1.5"}),
        M("plain", data=b"x", mtime=1234567890),
    )
    f = os.lstat(tmp_path / "d/f")
    assert f.st_mtime_ns == 1_500_000_000 * NS + 1
    assert f.st_atime_ns == 1_400_000_000 * NS + NS // 2
    assert os.lstat(tmp_path / "d/l").st_mtime_ns == 1_300_000_000 * NS + NS // 4
    assert os.lstat(tmp_path / "old").st_mtime_ns == -1_500_000_000
    assert os.lstat(tmp_path / "plain").st_mtime_ns == 1234567890 * NS
    # the directory's time is restored after its children were written into it
    assert os.lstat(tmp_path / "d").st_mtime_ns == 1_600_000_000 * NS + 123456789


def test_directory_mode_is_applied_after_children(tmp_path: Path) -> None:
    apply(
        tmp_path,
        M("ro", "dir", mode=0o555, mtime=100),
        M("ro/sub", "dir", mode=0o500, mtime=200),
        M("ro/sub/f", data=b"x", mtime=300),
    )
    assert (tmp_path / "ro/sub/f").read_bytes() == b"x"
    assert stat.S_IMODE(os.lstat(tmp_path / "ro").st_mode) == 0o555
    assert os.lstat(tmp_path / "ro").st_mtime == 100
    assert os.lstat(tmp_path / "ro/sub").st_mtime == 200


def test_xattrs_including_file_capabilities(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "security.capability", CAP)
        os.setxattr(probe, "trusted.probe", b"1")
    except OSError as e:
        pytest.skip(f"file system refuses security/trusted xattrs: {e}")
    apply(
        tmp_path,
        M(
            "usr/bin/ping",
            data=b"\x7fELF",
            mode=0o755,
            uid=0,
            gid=0,
            pax={
                "SCHILY.xattr.security.capability": CAP.decode("utf-8", "surrogateescape"),
                "SCHILY.xattr.user.mime": "application/x-executable",
                "SCHILY.xattr.trusted.overlay": "y",
            },
        ),
        M("d", "dir", pax={"SCHILY.xattr.user.dir": "1"}),
    )
    found = xattrs_of(str(tmp_path / "usr/bin/ping"))
    assert found["security.capability"] == CAP  # set after lchown, which clears it
    assert found["user.mime"] == b"application/x-executable"
    assert found["trusted.overlay"] == b"y"
    assert xattrs_of(str(tmp_path / "d")) == {"user.dir": b"1"}


def test_directory_entry_over_directory_replaces_xattrs(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.setxattr(tmp_path / "d", "user.old", b"1")
    apply(tmp_path, M("d", "dir", pax={"SCHILY.xattr.user.new": "2"}))
    assert xattrs_of(str(tmp_path / "d")) == {"user.new": b"2"}


def test_refused_xattrs_are_skipped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pax = {"SCHILY.xattr.user.a": "1"}  # user.* xattrs are not allowed on symlinks
    with caplog.at_level(logging.WARNING, logger="kaniko.fs.unpack"):
        stats = apply(
            tmp_path, M("l1", "symlink", link="x", pax=pax), M("l2", "symlink", link="y", pax=pax)
        )
    assert stats.xattrs_skipped == 2
    assert len([r for r in caplog.records if "xattrs" in r.getMessage()]) == 1


def test_devices_skipped_with_one_warning_where_not_permitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "mknod", refuse)
    with caplog.at_level(logging.WARNING, logger="kaniko.fs.unpack"):
        stats = apply(
            tmp_path,
            M("dev/null", "char", dev=(1, 3)),
            M("dev/sda", "block", dev=(8, 0)),
            M("dev/fifo", "fifo"),
            M("etc/f", data=b"x"),
        )
    assert stats.devices_skipped == 2 and stats.specials == 1
    assert not (tmp_path / "dev/null").exists() and (tmp_path / "etc/f").exists()
    assert len([r for r in caplog.records if "device" in r.getMessage()]) == 1


def test_sparse_and_empty_files(tmp_path: Path) -> None:
    hole = b"\0" * (4 << 20)
    apply(
        tmp_path,
        M("empty", data=b""),
        M("sparse", data=b"head" + hole + b"tail"),
        M("zeros", data=hole),
    )
    assert (tmp_path / "empty").read_bytes() == b""
    assert (tmp_path / "sparse").read_bytes() == b"head" + hole + b"tail"
    assert (tmp_path / "zeros").read_bytes() == hole
    zeros = os.stat(tmp_path / "zeros")
    assert zeros.st_size == len(hole) and zeros.st_blocks * 512 < len(hole)


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_compression_is_detected(tmp_path: Path, compression: str) -> None:
    blob = layer(M("a/f", data=b"hello" * 1000), compression=compression)
    apply_layer(io.BytesIO(blob), tmp_path, media_type="application/whatever")
    assert (tmp_path / "a/f").read_bytes() == b"hello" * 1000


def test_empty_stream_and_empty_tar(tmp_path: Path) -> None:
    assert apply_layer(io.BytesIO(b""), tmp_path).entries == 0
    assert apply_layer(io.BytesIO(layer(compression="gzip")), tmp_path).entries == 0


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (layer(M("f", data=b"x" * 100000), compression="gzip")[:-30], "f"),
        (layer(M("f", data=b"x" * 100000))[:2048], "'f'"),
        (b"\x1f\x8b" + b"\0" * 100, "gzip"),
        (b"this is not a tar archive at all" * 40, "layer"),
    ],
    ids=["truncated-gzip", "truncated-tar", "bad-gzip", "not-tar"],
)
def test_corrupt_layers_raise(tmp_path: Path, blob: bytes, message: str) -> None:
    with pytest.raises(FilesystemError, match=message):
        apply_layer(io.BytesIO(blob), tmp_path)


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FilesystemError, match="not a directory"):
        apply_layer(io.BytesIO(layer()), tmp_path / "missing")


def test_ignored_paths_are_neither_written_nor_deleted(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/keep").write_bytes(b"host")
    (tmp_path / "var/run").mkdir(parents=True)
    (tmp_path / "var/run/sock").write_bytes(b"host")
    os.symlink("/proc", tmp_path / "p")
    ignore = IgnoreList(["/proc", "/var/run"])
    stats = apply(
        tmp_path,
        M("proc/keep", data=b"image"),
        M("proc/new", data=b"image"),
        M("p/via-link", data=b"image"),  # reaches /proc through a symlink
        M("var/run/.wh.sock"),
        M(".wh.proc"),
        M("var/.wh..wh..opq"),  # empties /var but keeps the ignored /var/run
        M("var/lib/x", data=b"image"),
        ignore=ignore,
    )
    assert (tmp_path / "proc/keep").read_bytes() == b"host"
    assert not (tmp_path / "proc/new").exists() and not (tmp_path / "proc/via-link").exists()
    assert (tmp_path / "var/run/sock").read_bytes() == b"host"
    assert (tmp_path / "var/lib/x").read_bytes() == b"image"
    assert stats.ignored == 3


def test_whiteout_of_directory_holding_ignored_path_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "var/run").mkdir(parents=True)
    (tmp_path / "var/run/keep").write_bytes(b"")
    (tmp_path / "var/log").mkdir()
    (tmp_path / "var/log/old").write_bytes(b"")
    apply(tmp_path, M(".wh.var"), ignore=IgnoreList(["/var/run"]))
    assert sorted(os.listdir(tmp_path / "var")) == ["run"]
    with pytest.raises(FilesystemError, match="ignored"):
        apply(tmp_path, M("var", data=b"file over dir"), ignore=IgnoreList(["/var/run"]))


def test_unknown_entry_types_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw = bytearray(layer(M("label", data=b""), M("f", data=b"x")))
    raw[156] = ord("V")  # first header's typeflag: a GNU volume label
    raw[148:156] = b"%06o\0 " % (sum(raw[:148]) + sum(raw[156:512]) + 8 * 32)
    with caplog.at_level(logging.WARNING, logger="kaniko.fs.unpack"):
        apply_layer(io.BytesIO(bytes(raw)), tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["f"]
    assert any("'V'" in r.getMessage() for r in caplog.records)


def test_default_mtime_when_no_pax(tmp_path: Path) -> None:
    apply(tmp_path, M("f", data=b"x"))
    assert os.lstat(tmp_path / "f").st_mtime == MTIME


def test_layer_without_padding_or_trailer_is_accepted(tmp_path: Path) -> None:
    # umoci's layer generator ends right after the last member's content (umoci#436)
    blob = layer(M("a", data=b"first"), M("b", data=b"last member"))
    header_b = 512 + 512  # after a's header and a's one padded block of content
    assert blob[header_b : header_b + 2] == b"b\0"
    cut = blob[: header_b + 512 + len(b"last member")]
    apply_layer(io.BytesIO(cut), tmp_path)
    assert (tmp_path / "b").read_bytes() == b"last member"
    with pytest.raises(FilesystemError, match="'b'"):
        apply_layer(io.BytesIO(cut[:-1]), tmp_path)  # one byte of content short


def test_extraction_checks_each_layer_against_its_diff_id(tmp_path: Path) -> None:
    tar = layer(M("a.txt", data=b"a\n"))
    gz = layer(M("a.txt", data=b"a\n"), compression="gzip")
    good = Digest.of(tar)  # the diff_id is the digest of the uncompressed tar
    (tmp_path / "ok").mkdir()
    extract_image([lambda: io.BytesIO(gz)], tmp_path / "ok", diff_ids=[good])
    assert (tmp_path / "ok" / "a.txt").read_bytes() == b"a\n"
    lie = Digest.of(b"another tar")
    (tmp_path / "bad").mkdir()
    with pytest.raises(FilesystemError) as info:
        extract_image(
            [lambda: io.BytesIO(gz)], tmp_path / "bad", diff_ids=[lie], names=["sha256:feed"]
        )
    assert str(info.value) == (
        f"layer 1/1 (sha256:feed): diff_id mismatch: the image config lists {lie}, the "
        f"layer's content is {good}"
    )


def test_an_empty_layer_blob_is_checked_too(tmp_path: Path) -> None:
    with pytest.raises(FilesystemError, match="diff_id mismatch"):
        extract_image([lambda: io.BytesIO(b"")], tmp_path, diff_ids=[Digest.of(b"x")])
    extract_image([lambda: io.BytesIO(b"")], tmp_path, diff_ids=[Digest.of(b"")])
