from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.fs.users import MAX_TABLE_BYTES, ROOT_USER, User, resolve_chown, resolve_user

ROOT_NO_PASSWD = User(0, 0, (0,), "/", "")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "# a comment\n"
        "app:x:1000:1001:App:/home/app:/bin/sh\n"
        "svc:x:999:999::/var/svc:/bin/false\n"
        "nohome:x:998:998::\n"
    )
    (etc / "group").write_text(
        "root:x:0:\nstaff:x:50:app,svc\napp:x:1001:\nsvc:x:999:\ndocker:x:2000:app\n"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", ROOT_USER),
        ("root", User(0, 0, (0,), "/root", "root")),
        ("app", User(1000, 1001, (50, 1001, 2000), "/home/app", "app")),
        ("1000", User(1000, 1001, (50, 1001, 2000), "/home/app", "app")),
        ("app:staff", User(1000, 50, (50,), "/home/app", "app")),
        ("app:4242", User(1000, 4242, (4242,), "/home/app", "app")),
        ("4321", User(4321, 0, (0,), "/", "")),
        ("4321:4321", User(4321, 4321, (4321,), "/", "")),
        ("nohome", User(998, 998, (998,), "/", "nohome")),
        ("root:root", User(0, 0, (0,), "/root", "root")),  # ids: no group lookup
        ("1000:50", User(1000, 50, (50,), "/home/app", "app")),
        (":staff", User(0, 50, (50,), "/root", "root")),
    ],
)
def test_resolve_user(root: Path, spec: str, expected: User) -> None:
    assert resolve_user(root, spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("app", (1000, 1001)),  # a name without a group: its primary gid
        ("app:app", (1000, 1001)),
        ("app:staff", (1000, 50)),
        ("1001:1001", (1001, 1001)),
        ("1001", (1001, 1001)),  # a number is the gid too, whatever passwd says
        ("1000", (1000, 1000)),
        ("svc:2000", (999, 2000)),
        ("root", (0, 0)),
        ("root:staff", (0, 50)),
        ("app:root", (1000, 0)),
        ("ghost", (0, 0)),  # not in passwd: uid 0, no error (BuildKit's readUser)
        ("ghost:staff", (0, 50)),
        ("app:ghosts", (1000, 1001)),  # an unknown group leaves the user's gid
        ("1:ghosts", (1, 1)),
        (":50", (0, 50)),  # an empty name is uid 0
        ("app:", (1000, 0)),  # an empty group is gid 0
        ("2147483648", (0, 0)),  # past int32: a name, and not found
    ],
)
def test_resolve_chown(root: Path, spec: str, expected: tuple[int, int]) -> None:
    assert resolve_chown(root, spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("root", (0, 0)),
        ("root:root", (0, 0)),
        ("4:5", (4, 5)),
        ("ghost", (0, 0)),
        ("ghost:7", (0, 7)),
        ("app:staff", (0, 0)),
        ("8", (8, 8)),
    ],
)
def test_resolve_chown_without_passwd_or_group(
    tmp_path: Path, spec: str, expected: tuple[int, int]
) -> None:
    assert resolve_chown(tmp_path, spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", ROOT_NO_PASSWD),
        ("0", ROOT_NO_PASSWD),
        ("root:root", ROOT_NO_PASSWD),  # both parts ids: no lookup (ParseUIDGID)
        ("0:0", ROOT_NO_PASSWD),
        ("10:20", User(10, 20, (20,), "/", "")),
        ("10", User(10, 0, (0,), "/", "")),
        (":20", User(0, 20, (20,), "/", "")),
    ],
)
def test_resolve_user_without_passwd(tmp_path: Path, spec: str, expected: User) -> None:
    assert resolve_user(tmp_path, spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("root", "unknown user 'root' (the image has no /etc/passwd)"),
        ("someone", "unknown user 'someone' (the image has no /etc/passwd)"),
        ("root:0", None),
        ("0:wheel", "unknown group 'wheel'"),
    ],
)
def test_run_user_names_need_passwd(tmp_path: Path, spec: str, message: str | None) -> None:
    """BuildKit's RUN: a name needs an entry (``USER root`` on scratch fails)."""
    if message is None:
        assert resolve_user(tmp_path, spec).uid == 0
        return
    with pytest.raises(BuildError, match=re.escape(message)):
        resolve_user(tmp_path, spec)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: resolve_user(r, "ghost"), "unknown user 'ghost' (not in the image's"),
        (lambda r: resolve_user(r, "app:ghosts"), "unknown group 'ghosts'"),
    ],
)
def test_unknown_names(root: Path, call, message: str) -> None:
    with pytest.raises(BuildError, match=re.escape(message)):
        call(root)


def test_passwd_that_is_not_a_regular_file(tmp_path: Path) -> None:
    """A directory or FIFO: an error for file operations, an empty table for RUN."""
    (tmp_path / "etc" / "passwd").mkdir(parents=True)
    os.mkfifo(tmp_path / "etc" / "group")
    with pytest.raises(BuildError, match="/etc/passwd is not a regular file"):
        resolve_chown(tmp_path, "app")
    with pytest.raises(BuildError, match="/etc/group is not a regular file"):
        resolve_chown(tmp_path, "1:staff")
    assert resolve_chown(tmp_path, "1:2") == (1, 2)  # no lookup, no error
    assert resolve_user(tmp_path, "") == ROOT_NO_PASSWD
    with pytest.raises(BuildError, match="unknown group 'staff'"):
        resolve_user(tmp_path, "1:staff")  # the FIFO was not opened: no hang


def test_oversized_tables_are_refused(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    line = b"x:x:1:1::/:/bin/sh\n"
    (tmp_path / "etc" / "passwd").write_bytes(line * (MAX_TABLE_BYTES // len(line) + 1))
    for call in (lambda: resolve_chown(tmp_path, "x"), lambda: resolve_user(tmp_path, "x")):
        with pytest.raises(BuildError, match="/etc/passwd exceeds 10485760 bytes"):
            call()
    assert resolve_user(tmp_path, "") == ROOT_NO_PASSWD  # no USER never fails


def test_symlinked_etc_stays_inside_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "etc" / "passwd").write_text("evil:x:0:0::/:/bin/sh\n")
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "real" / "passwd").write_text("good:x:5:5::/g:/bin/sh\n")
    (root / "etc").symlink_to("/real")  # absolute: resolved inside the root
    assert resolve_user(root, "good").uid == 5
    (root / "etc").unlink()
    (root / "etc").symlink_to("../../outside/etc")  # climbs out: clamped at the root
    with pytest.raises(BuildError, match="unknown user 'evil'"):
        resolve_user(root, "evil")
