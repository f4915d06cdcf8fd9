"""Moving a root filesystem by renames: ignored paths stay, their parents are merged."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from kaniko.errors import FilesystemError
from kaniko.executor import rootmove
from kaniko.executor.rootmove import move_tree, same_filesystem
from kaniko.fs.ignore import IgnoreList


def _tree(root: Path) -> dict[str, str]:
    """rel path -> "dir" / file content / "-> target" for everything under ``root``."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = "-> " + os.readlink(path)
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = path.read_text()
    return found


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/tool").write_text("tool")
    (root / "etc/ssl").mkdir(parents=True)
    (root / "etc/passwd").write_text("root")
    (root / "etc/hosts").write_text("mounted")  # ignored, like the kubelet's bind mount
    (root / "etc/ssl/cert").write_text("cert")
    (root / "proc").mkdir()
    (root / "proc/1").write_text("kernel")
    (root / "lib").symlink_to("usr/lib")
    os.chmod(root / "etc", 0o750)
    os.chown(root / "etc", 12, 34)
    os.utime(root / "etc", ns=(1_000_000_000, 2_000_000_000))
    return root


IGNORE = IgnoreList(["/proc", "/etc/hosts"])


def test_moves_everything_but_ignored_paths(src: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dst"
    dst.mkdir()
    tool_inode = os.lstat(src / "usr/bin/tool").st_ino
    moved = move_tree(src, dst, IGNORE)
    assert _tree(dst) == {
        "usr": "dir", "usr/bin": "dir", "usr/bin/tool": "tool", "lib": "-> usr/lib",
        "etc": "dir", "etc/passwd": "root", "etc/ssl": "dir", "etc/ssl/cert": "cert",
    }  # fmt: skip
    assert _tree(src) == {"etc": "dir", "etc/hosts": "mounted", "proc": "dir", "proc/1": "kernel"}
    assert os.lstat(dst / "usr/bin/tool").st_ino == tool_inode  # renamed, not copied
    assert moved == 4  # usr, lib, etc/passwd, etc/ssl: /etc itself is merged
    st = os.lstat(dst / "etc")
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o750, 12, 34)
    assert st.st_mtime_ns == 2_000_000_000


def test_moving_back_merges_into_kept_directories(src: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    move_tree(src, saved, IGNORE)
    before = _tree(saved)
    move_tree(saved, src, IGNORE)
    assert _tree(saved) == {}
    after = _tree(src)
    assert after == {**before, "etc/hosts": "mounted", "proc": "dir", "proc/1": "kernel"}
    assert os.lstat(src / "etc").st_mode & 0o7777 == 0o750


def test_directories_overlayfs_will_not_rename_move_child_by_child(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_rename = os.rename

    def rename(a: str, b: str) -> None:
        if os.path.isdir(a) and not os.path.islink(a) and a.endswith("/usr"):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(a, b)

    monkeypatch.setattr(rootmove.os, "rename", rename)
    dst = tmp_path / "dst"
    dst.mkdir()
    move_tree(src, dst, IGNORE)
    assert _tree(dst)["usr/bin/tool"] == "tool"
    assert not (src / "usr").exists()  # emptied and removed


def test_a_file_cannot_replace_a_kept_directory(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "etc").write_text("a file where / keeps a directory")
    (dst / "etc").mkdir(parents=True)
    with pytest.raises(FilesystemError, match="moving /etc"):
        move_tree(src, dst, IgnoreList())


def test_same_filesystem(tmp_path: Path) -> None:
    assert same_filesystem(tmp_path, tmp_path.parent)
    assert not same_filesystem(tmp_path, "/proc")
