"""End to end through main(): Dockerfile → parser → planner → printed plan.

These use the real :mod:`kaniko.dockerfile.parser` and :mod:`kaniko.plan`; the expected
output is what ``format_plan`` gives for the same inputs, plus facts any plan shows (the
base images chosen, the stages left out).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaniko.cli.main import main
from kaniko.dockerfile.parser import parse
from kaniko.oci.platform import Platform
from kaniko.plan import format_plan, make_plan

DOCKERFILE = """\
ARG TAG=1.36
FROM busybox:${TAG} AS base
RUN echo hi > /hi
FROM base AS final
LABEL a=b
FROM alpine:3.20 AS unused
RUN true
"""


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE)
    monkeypatch.chdir(tmp_path)
    return context


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prints_the_plan(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["-c", str(ctx), "--no-push"], capsys)
    assert code == 0, err
    expected = format_plan(
        make_plan(
            parse(DOCKERFILE, path=str(ctx / "Dockerfile")),
            build_args={},
            target=None,
            skip_unused_stages=False,
            platform=Platform.host(),
            environ=os.environ,
        )
    )
    assert out == expected.rstrip("\n") + "\n"
    assert "busybox:1.36" in out and "alpine:3.20" in out


def test_build_arg_value(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["-c", str(ctx), "--no-push", "--build-arg", "TAG=1.37"], capsys)
    assert code == 0 and "busybox:1.37" in out and "busybox:1.36" not in out


def test_bare_build_arg_from_environment(
    ctx: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAG", "9.9")
    code, out, _ = _run(["-c", str(ctx), "--no-push", "--build-arg", "TAG"], capsys)
    assert code == 0 and "busybox:9.9" in out


def test_target_stops_at_the_stage(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["-c", str(ctx), "--no-push", "--target", "final"], capsys)
    assert code == 0 and "busybox:1.36" in out and "alpine" not in out


def test_unknown_target_fails(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["-c", str(ctx), "--no-push", "--target", "nosuch"], capsys)
    assert code in (1, 2) and out == ""
    assert err.startswith("error: ") and "nosuch" in err and err.count("\n") == 1


def test_dockerfile_relative_to_cwd(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ctx.parent / "Other.Dockerfile").write_text("FROM debian:12\n")
    code, out, _ = _run(["-f", "Other.Dockerfile", "-c", str(ctx), "--no-push"], capsys)
    assert code == 0 and "debian:12" in out


def test_dockerfile_error_is_one_line(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ctx / "Bad").write_text("FROM busybox\nCOPY --nosuchflag=1 a b\n")
    code, out, err = _run(["-f", "Bad", "-c", str(ctx), "--no-push"], capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Bad:2" in err


def test_plan_warnings_are_logged(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-c", str(ctx), "--no-push", "--build-arg", "NOT_USED_ANYWHERE=1"]
    code, _, err = _run([*argv, "--log-format=text"], capsys)
    assert code == 0
    assert "level=warning" in err and "NOT_USED_ANYWHERE" in err


def test_push_not_built_yet(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["-c", str(ctx), "-d", "registry.local/app:1"], capsys)
    assert code == 1
    assert "busybox:1.36" in out  # the plan is still shown
    assert err.startswith("error: not built yet: pushing images (--destination)")


def test_missing_dockerfile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["-c", str(tmp_path), "-f", "nope", "--no-push"], capsys)
    assert code == 1 and "please provide a valid path to a Dockerfile" in err
