from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.fs.users import ROOT_USER, User, resolve_chown, resolve_user


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
        ("1001", (1001, 1001)),
        ("svc:2000", (999, 2000)),
    ],
)
def test_resolve_chown(root: Path, spec: str, expected: tuple[int, int]) -> None:
    assert resolve_chown(root, spec) == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: resolve_user(r, "ghost"), "unknown user 'ghost'"),
        (lambda r: resolve_user(r, "app:ghosts"), "unknown group 'ghosts'"),
        (lambda r: resolve_chown(r, "ghost:0"), "unknown user 'ghost'"),
        (lambda r: resolve_chown(r, "1:ghosts"), "unknown group 'ghosts'"),
    ],
)
def test_unknown_names(root: Path, call, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        call(root)


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


def test_no_passwd_allows_numeric_only(tmp_path: Path) -> None:
    assert resolve_user(tmp_path, "10:20") == User(10, 20, (20,), "/", "")
    with pytest.raises(BuildError):
        resolve_user(tmp_path, "someone")
