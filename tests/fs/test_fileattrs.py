"""kaniko.fs.fileattrs: the one policy for setting and reading owner, mode, times, xattrs."""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

import pytest

from kaniko.fs import fileattrs
from kaniko.fs.fileattrs import Notices


def refuse(code: int):
    def call(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    return call


def test_notices_are_given_once_per_key(caplog: pytest.LogCaptureFixture) -> None:
    notices = Notices(logging.getLogger("kaniko.test"))
    with caplog.at_level(logging.WARNING, logger="kaniko.test"):
        for _ in range(3):
            notices.once("a", "first %s", 1)
            notices.once("b", "second")
    assert [r.getMessage() for r in caplog.records] == ["first 1", "second"]
    assert notices.seen == {"a", "b"}


@pytest.mark.parametrize("code", sorted(fileattrs.REFUSED))
def test_a_refused_chown_keeps_the_entry_with_one_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    (tmp_path / "f").write_bytes(b"")
    monkeypatch.setattr(os, "chown", refuse(code))
    notices = Notices()
    assert not fileattrs.set_owner(str(tmp_path / "f"), 1, 1, notices)
    assert not fileattrs.set_owner(str(tmp_path / "f"), 2, 2, notices)
    assert notices.seen == {"chown"}


def test_other_chown_errors_are_raised(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fileattrs.set_owner(str(tmp_path / "missing"), 0, 0, Notices())


def test_refused_xattrs_are_counted_with_one_notice_per_namespace(tmp_path: Path) -> None:
    os.symlink("target", tmp_path / "link")  # user.* xattrs are refused on symlinks
    notices = Notices()
    pairs = [("user.a", b"1"), ("user.b", b"2")]
    assert fileattrs.set_xattrs(str(tmp_path / "link"), pairs, notices) == 2
    assert notices.seen == {"xattr:user"}


def test_other_xattr_errors_are_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").write_bytes(b"")
    monkeypatch.setattr(os, "setxattr", refuse(errno.EIO))
    with pytest.raises(OSError, match="Input/output"):
        fileattrs.set_xattrs(str(tmp_path / "f"), [("user.a", b"1")], Notices())


def test_apply_sets_owner_mode_xattrs_and_times_without_following(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x")
    os.symlink("f", tmp_path / "link")
    notices = Notices()
    refused = fileattrs.apply(
        str(f),
        uid=os.getuid(),
        gid=os.getgid(),
        mode=0o2750,
        xattrs=[("user.k", b"v")],
        times=(5 * 10**9, 7 * 10**9 + 3),
        notices=notices,
    )
    st = os.lstat(f)
    assert refused == 0
    assert stat.S_IMODE(st.st_mode) == 0o2750
    assert (st.st_atime_ns, st.st_mtime_ns) == (5 * 10**9, 7 * 10**9 + 3)
    assert os.getxattr(f, "user.k") == b"v"
    before = os.lstat(f)
    fileattrs.apply(
        str(tmp_path / "link"),
        uid=os.getuid(),
        gid=os.getgid(),
        mode=None,
        xattrs=(),
        times=(1, 2),
        notices=notices,
    )
    assert os.lstat(tmp_path / "link").st_mtime_ns == 2
    assert os.lstat(f).st_mtime_ns == before.st_mtime_ns  # the target is untouched


def test_read_xattrs_sorted_without_excluded_and_vanished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"")
    os.setxattr(f, "user.b", b"2")
    os.setxattr(f, "user.a", b"1")
    assert fileattrs.read_xattrs(str(f)) == (("user.a", b"1"), ("user.b", b"2"))
    listed = ["user.b", "security.selinux", "user.gone", "user.a"]
    real_get = os.getxattr

    def get(path: str, name: str, **kw: bool) -> bytes:
        if name == "security.selinux":
            raise AssertionError("an excluded xattr is never read")
        if name == "user.gone":
            raise OSError(errno.ENODATA, "No data available")
        return real_get(path, name, **kw)

    monkeypatch.setattr(os, "listxattr", lambda path, **kw: listed)
    monkeypatch.setattr(os, "getxattr", get)
    assert fileattrs.read_xattrs(str(f)) == (("user.a", b"1"), ("user.b", b"2"))


def test_read_xattrs_without_support_and_on_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "listxattr", refuse(errno.EOPNOTSUPP))
    assert fileattrs.read_xattrs(str(tmp_path)) == ()
    monkeypatch.setattr(os, "listxattr", refuse(errno.EACCES))
    with pytest.raises(PermissionError):
        fileattrs.read_xattrs(str(tmp_path))


def test_drop_xattrs_keeps_the_wanted_ones(tmp_path: Path) -> None:
    os.setxattr(tmp_path, "user.old", b"1")
    os.setxattr(tmp_path, "user.keep", b"2")
    assert fileattrs.drop_xattrs(str(tmp_path), ["user.keep"]) == 0
    assert "user.old" not in os.listxattr(tmp_path)
    assert os.getxattr(tmp_path, "user.keep") == b"2"


def test_directory_metadata_goes_through_no_symlink(tmp_path: Path) -> None:
    (tmp_path / "real/sub").mkdir(parents=True)
    os.symlink("real", tmp_path / "link")
    assert not fileattrs.set_dir_mode_times(str(tmp_path), "link/sub", 0o700, 1, 2)
    assert stat.S_IMODE(os.lstat(tmp_path / "real/sub").st_mode) != 0o700
    assert not fileattrs.set_dir_mode_times(str(tmp_path), "missing", 0o700, 1, 2)
    assert fileattrs.set_dir_mode_times(str(tmp_path), "real/sub", 0o500, 1, 2)
    st = os.lstat(tmp_path / "real/sub")
    assert (stat.S_IMODE(st.st_mode), st.st_mtime_ns) == (0o500, 2)
    mode = stat.S_IMODE(os.lstat(tmp_path / "real").st_mode)
    assert fileattrs.set_dir_mode_times(str(tmp_path), "real", None, 3, 4)
    st = os.lstat(tmp_path / "real")
    assert (stat.S_IMODE(st.st_mode), st.st_mtime_ns) == (mode, 4)
