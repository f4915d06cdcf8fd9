"""RUN in in-place isolation: a process against the current ``/``, with nothing created.

These run ordinary commands of this machine (``/bin/sh``) with ``/`` as the root, which is
what a RUN of an in-place build does inside the executor image; the WORKDIR is a temporary
directory, so nothing outside it is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.sandbox.inplace import run_inplace
from kaniko.sandbox.spec import RunSpec


def _run(script: str, workdir: Path, **fields: object) -> tuple[int, list[str]]:
    lines: list[str] = []
    spec = RunSpec(
        root=Path("/"),
        argv=("/bin/sh", "-c", script),
        env=(("PATH", "/usr/bin:/bin"),),
        workdir=str(workdir),
        **fields,
    )
    return run_inplace(spec, on_output=lines.append), lines


def test_runs_with_the_stage_user_env_and_workdir(tmp_path: Path) -> None:
    code, lines = _run('echo "$HOME $(id -u) $(pwd) $KANIKO_DIR"', tmp_path)
    assert code == 0
    assert lines == [f"/root 0 {tmp_path} "]  # kaniko's own environment is not passed on
    os.chmod(tmp_path, 0o777)
    code, lines = _run("id -u; id -g; touch mine; echo $HOME", tmp_path, user="nobody")
    assert code == 0
    assert lines == ["65534", "65534", "/nonexistent"]
    assert (tmp_path / "mine").stat().st_uid == 65534


def test_missing_workdir_is_created_for_the_user(tmp_path: Path) -> None:
    workdir = tmp_path / "a" / "b"
    os.chmod(tmp_path, 0o777)
    code, _ = _run("touch here", workdir, user="65534:65534")
    assert code == 0
    assert (workdir / "here").exists() and workdir.stat().st_uid == 65534


def test_exit_status_and_missing_command(tmp_path: Path) -> None:
    assert _run("exit 7", tmp_path)[0] == 7
    lines: list[str] = []
    spec = RunSpec(root=Path("/"), argv=("no-such-tool",), env=(), workdir=str(tmp_path))
    assert run_inplace(spec, on_output=lines.append) == 127
    assert lines == ['exec: "no-such-tool": executable file not found in $PATH']


def test_nothing_is_created_in_dev_or_etc(tmp_path: Path) -> None:
    before = {name: sorted(os.listdir(f"/{name}")) for name in ("dev", "etc")}
    code, lines = _run("ls /dev/null > /dev/null && echo ok", tmp_path)
    assert (code, lines) == (0, ["ok"])
    assert {name: sorted(os.listdir(f"/{name}")) for name in ("dev", "etc")} == before


def test_refuses_any_root_but_slash(tmp_path: Path) -> None:
    spec = RunSpec(root=tmp_path, argv=("/bin/true",), env=())
    with pytest.raises(BuildError, match="runs against / only"):
        run_inplace(spec, on_output=lambda line: None)
