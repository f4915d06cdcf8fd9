"""The environment, the user and the working directory of a RUN."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.oci.runconfig import DEFAULT_PATH
from tests.sandbox.conftest import Runner


def test_environment_is_passed_with_home_and_default_path(
    sh_shared: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KANIKO_SECRET", "must not leak")
    code, lines = sh_shared(
        'echo "$GREETING|$HOME|$PATH"; env | sort', env=(("GREETING", "hi there"),)
    )
    assert code == 0
    assert lines[0] == f"hi there|/root|{DEFAULT_PATH}"
    names = {line.split("=", 1)[0] for line in lines[1:]}
    assert {"GREETING", "HOME", "PATH"} <= names
    assert "KANIKO_SECRET" not in names  # nothing of kaniko's own environment leaks in


def test_given_home_and_path_win(sh_shared: Runner) -> None:
    env = (("HOME", "/srv"), ("PATH", "/bin"), ("PATH", "/usr/bin:/bin"))
    assert sh_shared('echo "$HOME $PATH"', env=env) == (0, ["/srv /usr/bin:/bin"])


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("", ["0", "0", "0", "/root"]),
        ("app", ["1000", "1000", "1000 50 2000", "/home/app"]),
        ("1000", ["1000", "1000", "1000 50 2000", "/home/app"]),
        ("app:staff", ["1000", "50", "50", "/home/app"]),
        ("app:4242", ["1000", "4242", "4242", "/home/app"]),
        ("4321", ["4321", "0", "0", "/"]),
        ("4321:4321", ["4321", "4321", "4321", "/"]),
        ("nobody", ["65534", "65534", "65534", "/nonexistent"]),
    ],
)
def test_user(sh_shared: Runner, user: str, expected: list[str]) -> None:
    code, lines = sh_shared('id -u; id -g; id -G; echo "$HOME"', user=user)
    assert code == 0, lines
    assert lines == expected


def test_unknown_user_is_a_build_error(sh_shared: Runner) -> None:
    with pytest.raises(BuildError, match="unknown user 'ghost'"):
        sh_shared("true", user="ghost")


def test_non_root_user_cannot_write_where_root_owns(sh_shared: Runner) -> None:
    code, lines = sh_shared("touch /etc/x", user="app")
    assert code == 1
    assert "Permission denied" in lines[0]


def test_workdir_is_created_owned_by_the_user(sh: Runner, rootfs: Path) -> None:
    assert sh("pwd; touch here", user="app", workdir="/srv/app/deep") == (0, ["/srv/app/deep"])
    for relative in ("srv", "srv/app", "srv/app/deep"):
        st = os.lstat(rootfs / relative)
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1000, 1000, 0o755)
    assert (rootfs / "srv/app/deep/here").stat().st_uid == 1000


def test_existing_workdir_is_left_alone(sh: Runner, rootfs: Path) -> None:
    before = os.lstat(rootfs / "tmp")
    assert sh("pwd", user="app", workdir="/tmp/") == (0, ["/tmp"])
    after = os.lstat(rootfs / "tmp")
    assert (after.st_uid, after.st_mode, after.st_mtime_ns) == (
        before.st_uid,
        before.st_mode,
        before.st_mtime_ns,
    )


def test_workdir_through_a_symlink_stays_in_the_root(
    sh: Runner, rootfs: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    (rootfs / "link").symlink_to(outside)  # absolute: means <root>/<tmp_path>/outside
    assert sh("pwd -P", workdir="/link/w")[0] == 0
    assert not outside.exists()
    assert (rootfs / str(outside).lstrip("/") / "w").is_dir()


def test_workdir_that_is_a_file_is_a_build_error(sh: Runner, rootfs: Path) -> None:
    (rootfs / "afile").write_text("")
    with pytest.raises(BuildError, match="WORKDIR /afile/sub"):
        sh("true", workdir="/afile/sub")


def test_relative_workdir_is_refused(sh_shared: Runner) -> None:
    with pytest.raises(BuildError, match="not an absolute path"):
        sh_shared("true", workdir="relative")
