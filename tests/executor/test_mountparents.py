"""Directories kept in ``/`` above ignored paths: reset, hidden until used, dropped."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kaniko.executor.mountparents import MountParents, kept_directories
from kaniko.fs.ignore import IgnoreList

ROOT = os.geteuid() == 0


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A container's / after a wipe: the kept parents of a token mount and of /etc/hosts."""
    token = tmp_path / "var/run/secrets/token"
    token.mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hosts").write_text("127.0.0.1 localhost\n")
    (tmp_path / "lnk").symlink_to("etc")
    for directory in (tmp_path / "var", tmp_path / "etc"):
        directory.chmod(0o1755)
    return tmp_path


IGNORE = IgnoreList(["/var/run", "/etc/hosts", "/lnk/x", "/proc", "/missing/deep/path"])


def test_kept_directories_are_real_unignored_parents(root: Path) -> None:
    assert kept_directories(root, IGNORE) == ["etc", "var"]  # not the symlink, not missing


def test_reset_gives_a_new_directory_s_metadata(root: Path) -> None:
    if ROOT:
        os.chown(root / "var", 5, 6)
    parents = MountParents.reset(root, IGNORE)
    for rel in ("etc", "var"):
        st = os.lstat(root / rel)
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o755, 0, 0)
        assert st.st_mtime_ns == parents.stamp
    assert parents.still_new().paths == ("etc", "var")


def test_what_the_base_provides_is_not_new(root: Path) -> None:
    parents = MountParents.reset(root, IGNORE)
    os.chmod(root / "etc", 0o755)
    os.utime(root / "etc", ns=(10**18, 10**18))  # as extracting the base's /etc does
    assert parents.still_new().paths == ("var",)


def test_hidden_until_a_step_uses_it(root: Path) -> None:
    parents = MountParents.reset(root, IGNORE).still_new()
    assert parents.hides("var") and parents.hides("etc") and not parents.hides("var/run")
    (root / "var/cache").mkdir()  # a step writes below /var
    assert not parents.hides("var")
    (root / "var/cache").rmdir()
    assert not parents.hides("var")  # once used, always seen
    os.chmod(root / "etc", 0o700)  # a step changes /etc itself
    assert not parents.hides("etc")


def test_drop_unused_removes_only_empty_unused_ones(root: Path) -> None:
    parents = MountParents.reset(root, IGNORE).still_new()
    os.rmdir(root / "var/run/secrets/token")
    os.rmdir(root / "var/run/secrets")
    os.rmdir(root / "var/run")
    os.utime(root / "var", ns=(parents.stamp, parents.stamp))  # as moving it out leaves it
    (root / "etc/hosts").unlink()
    (root / "etc/new").write_text("a step wrote this\n")
    parents.drop_unused(root)
    assert not (root / "var").exists()
    assert (root / "etc/new").exists()
