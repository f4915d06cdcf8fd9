"""ADD of local tar archives: detection by content, safe extraction, ownership."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import tarfile
from pathlib import Path

import pytest
import zstandard

from kaniko.errors import BuildError
from kaniko.executor.steps.archive import is_archive
from tests.executor.helpers import D, F, L, add, check, cp, make_root, run

MTIME = 1_400_000_000


def member(name: str, kind: str = "file", data: bytes = b"", **attrs: object) -> tuple:
    return (name, kind, data, attrs)


def tar_bytes(*members: tuple) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data, attrs in members:
            info = tarfile.TarInfo(name)
            info.mtime = MTIME
            info.mode = 0o644
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, attrs.pop("link")
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, attrs.pop("link")
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            else:
                info.size = len(data)
            for key, value in attrs.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if kind == "file" else None)
    return out.getvalue()


SAMPLE = tar_bytes(
    member("top.txt", data=b"TOP", uid=123, gid=456, mode=0o640),
    member("sub", "dir", mode=0o751),
    member("sub/inner.txt", data=b"INNER"),
    member("sub/link", "symlink", link="inner.txt"),
)

COMPRESSORS = {
    "tar": lambda b: b,
    "tar.gz": gzip.compress,
    "tar.bz2": bz2.compress,
    "tar.xz": lzma.compress,
    "tar.zst": lambda b: zstandard.ZstdCompressor().compress(b),
}


def context_with(tmp_path: Path, **files: bytes) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    for name, data in files.items():
        (ctx / name).write_bytes(data)
    return ctx


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_archives_are_extracted(ext: str, tmp_path: Path) -> None:
    name = f"sample.{ext}".replace(".", "_")  # detection is by content, not by name
    ctx = context_with(tmp_path, **{name: COMPRESSORS[ext](SAMPLE)})
    root = make_root(tmp_path)
    written = run(add(name, "/x/"), ctx, root)
    check(root, "/x/top.txt", F("TOP", 0o640, (123, 456), MTIME * 10**9))
    check(root, "/x/sub", D(0o751, mtime=MTIME * 10**9))
    check(root, "/x/sub/inner.txt", F("INNER"))
    check(root, "/x/sub/link", L("inner.txt"))
    assert written == ["/x", "/x/sub", "/x/sub/inner.txt", "/x/sub/link", "/x/top.txt"]
    assert is_archive(str(ctx / name))


def test_extracted_into_destination_without_slash(tmp_path: Path) -> None:
    ctx = context_with(tmp_path, **{"a.tgz": gzip.compress(SAMPLE)})
    root = make_root(tmp_path)
    run(add("a.tgz", "/opt/app"), ctx, root)
    check(root, "/opt/app/top.txt", F("TOP"))
    check(root, "/opt/app", D(0o755, (0, 0)))


@pytest.mark.parametrize(
    "data",
    [gzip.compress(b"just text\n"), b"not a tar at all", b"BZh91AY&SY garbage", b""],
    ids=["gzip-of-text", "text", "bzip2-magic-garbage", "empty"],
)
def test_non_archives_are_copied_as_is(data: bytes, tmp_path: Path) -> None:
    ctx = context_with(tmp_path, **{"thing.tar.gz": data})
    root = make_root(tmp_path)
    run(add("thing.tar.gz", "/d/"), ctx, root)
    assert (root / "d" / "thing.tar.gz").read_bytes() == data


def test_unpack_false_and_copy_keep_the_archive(tmp_path: Path) -> None:
    ctx = context_with(tmp_path, **{"a.tar": SAMPLE})
    root = make_root(tmp_path)
    run(add("a.tar", "/keep/", unpack=False), ctx, root)
    run(cp("a.tar", "/copied/"), ctx, root)
    assert (root / "keep" / "a.tar").read_bytes() == SAMPLE
    assert (root / "copied" / "a.tar").read_bytes() == SAMPLE


def test_chown_applies_to_every_entry_and_created_dirs(tmp_path: Path) -> None:
    ctx = context_with(tmp_path, **{"a.tar": SAMPLE})
    root = make_root(tmp_path)
    run(add("a.tar", "/new/x/", chown="app:staff", chmod="700"), ctx, root)
    for path in ("new", "new/x", "new/x/sub", "new/x/sub/inner.txt", "new/x/top.txt"):
        st = os.lstat(root / path)
        assert (st.st_uid, st.st_gid) == (1000, 50), path
    check(root, "/new/x/top.txt", F("TOP", 0o640))  # --chmod does not apply to archives


def test_member_escaping_destination_is_refused(tmp_path: Path) -> None:
    ctx = context_with(tmp_path, **{"evil.tar": tar_bytes(member("../../evil", data=b"E"))})
    root = make_root(tmp_path)
    with pytest.raises(BuildError, match="escapes the destination"):
        run(add("evil.tar", "/x/"), ctx, root)
    assert not (tmp_path / "evil").exists()


def test_absolute_names_and_symlinks_stay_inside_the_root(tmp_path: Path) -> None:
    data = tar_bytes(
        member("/abs.txt", data=b"ABS"),
        member("out", "symlink", link="/etc"),
        member("out/planted", data=b"P"),
    )
    ctx = context_with(tmp_path, **{"a.tar": data})
    root = make_root(tmp_path)
    run(add("a.tar", "/x/"), ctx, root)
    check(root, "/x/abs.txt", F("ABS"))
    check(root, "/etc/planted", F("P"))  # through the archive's own symlink, inside the root
    assert not Path("/etc/planted").exists()


def test_whiteout_names_are_plain_files(tmp_path: Path) -> None:
    data = tar_bytes(member(".wh.gone", data=b"W"), member(".wh..wh..opq", data=b""))
    ctx = context_with(tmp_path, **{"a.tar": data})
    root = make_root(tmp_path)
    (root / "x").mkdir()
    (root / "x" / "gone").write_text("stays")
    run(add("a.tar", "/x/"), ctx, root)
    check(root, "/x/.wh.gone", F("W"))
    check(root, "/x/gone", F("stays"))


def test_hardlinks_fifos_and_replacements(tmp_path: Path) -> None:
    data = tar_bytes(
        member("f", data=b"LINKED"),
        member("g", "hardlink", link="f"),
        member("pipe", "fifo"),
        member("existing_dir", data=b"now a file"),
    )
    ctx = context_with(tmp_path, **{"a.tar": data})
    root = make_root(tmp_path)
    run(add("a.tar", "/"), ctx, root)
    assert os.lstat(root / "f").st_ino == os.lstat(root / "g").st_ino
    assert stat.S_ISFIFO(os.lstat(root / "pipe").st_mode)
    check(root, "/existing_dir", F("now a file"))  # Docker's Untar replaces


def test_directories_through_merged_usr(tmp_path: Path) -> None:
    data = tar_bytes(member("lib", "dir"), member("lib/x.so", data=b"SO"))
    ctx = context_with(tmp_path, **{"rootfs.tar": data})
    root = make_root(tmp_path)
    run(add("rootfs.tar", "/"), ctx, root)
    check(root, "/lib", L("usr/lib"))
    check(root, "/usr/lib/x.so", F("SO"))


def test_truncated_archive_is_an_error(tmp_path: Path) -> None:
    big = tar_bytes(member("big", data=b"x" * 5000))
    ctx = context_with(tmp_path, **{"cut.tar": big[:2048]})
    root = make_root(tmp_path)
    with pytest.raises(BuildError, match=r"cut\.tar"):
        run(add("cut.tar", "/x/"), ctx, root)
    assert not list(root.rglob(".kaniko-*"))
    assert not (root / "x" / "big").exists()  # nothing half-written at its name either
