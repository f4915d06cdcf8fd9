"""The scaffold removes exactly what it created, and nothing a RUN made its own."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kaniko.sandbox.scaffold import Scaffold


def times(path: Path) -> tuple[int, int]:
    st = os.lstat(path)
    return st.st_atime_ns, st.st_mtime_ns


def test_created_entries_are_removed_and_times_restored(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.utime(tmp_path / "etc", ns=(10, 20))
    os.utime(tmp_path, ns=(30, 40))
    scaffold = Scaffold()
    assert scaffold.ensure_dir(tmp_path / "proc")
    assert scaffold.ensure_file(tmp_path / "etc" / "hosts", b"127.0.0.1 localhost\n")
    assert scaffold.ensure_file(tmp_path / "run" / "deep" / "file")
    assert scaffold.make_device(tmp_path / "dev" / "null", 1, 3)
    assert stat.S_ISCHR(os.lstat(tmp_path / "dev" / "null").st_mode)
    assert (tmp_path / "etc" / "hosts").read_bytes() == b"127.0.0.1 localhost\n"
    scaffold.undo()
    assert times(tmp_path / "etc") == (10, 20)
    assert times(tmp_path) == (30, 40)
    assert sorted(os.listdir(tmp_path)) == ["etc"]
    assert os.listdir(tmp_path / "etc") == []


def test_existing_entries_are_used_not_recreated(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "hosts").write_text("mine")
    scaffold = Scaffold()
    assert scaffold.ensure_dir(tmp_path / "proc")
    assert scaffold.ensure_file(tmp_path / "hosts", b"other")
    assert scaffold.created == ()
    scaffold.undo()
    assert (tmp_path / "hosts").read_text() == "mine"
    assert (tmp_path / "proc").is_dir()


def test_wrong_types_are_reported(tmp_path: Path) -> None:
    (tmp_path / "proc").write_text("")
    (tmp_path / "hosts").mkdir()
    scaffold = Scaffold()
    assert not scaffold.ensure_dir(tmp_path / "proc")
    assert not scaffold.ensure_dir(tmp_path / "proc" / "sub")
    assert not scaffold.ensure_file(tmp_path / "hosts")
    assert not scaffold.make_device(tmp_path / "proc", 1, 3)


def test_what_the_run_filled_or_replaced_stays(tmp_path: Path) -> None:
    os.utime(tmp_path, ns=(1, 2))
    scaffold = Scaffold()
    scaffold.ensure_dir(tmp_path / "dev")
    scaffold.ensure_file(tmp_path / "resolv.conf")
    (tmp_path / "dev" / "made-by-run").write_text("x")  # the RUN fills the directory
    os.unlink(tmp_path / "resolv.conf")  # and replaces the file (maybe same inode number)
    (tmp_path / "resolv.conf").write_text("nameserver 192.0.2.1\n")
    scaffold.undo()
    assert (tmp_path / "dev" / "made-by-run").read_text() == "x"
    assert os.listxattr(tmp_path / "dev") == []  # the marker does not reach a snapshot
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 192.0.2.1\n"
    assert times(tmp_path)[1] != 2  # the directory really changed: its new mtime stays


def test_a_file_the_run_edited_is_still_removed(tmp_path: Path) -> None:
    scaffold = Scaffold()
    scaffold.ensure_file(tmp_path / "hosts", b"127.0.0.1 localhost\n")
    with open(tmp_path / "hosts", "a") as hosts:
        hosts.write("192.0.2.7 extra\n")
    scaffold.undo()
    assert os.listdir(tmp_path) == []


def test_a_directory_changed_by_the_run_keeps_its_mtime(tmp_path: Path) -> None:
    os.utime(tmp_path, ns=(1, 2))
    scaffold = Scaffold()
    scaffold.ensure_dir(tmp_path / "sys")
    (tmp_path / "new").write_text("")  # the RUN adds an entry next to the mount point
    scaffold.undo()
    assert sorted(os.listdir(tmp_path)) == ["new"]
    assert times(tmp_path)[1] != 2
