"""End to end through main(): Dockerfile → plan → build → push/outputs, on the lab registry."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kaniko.cli.main import main
from tests.lab.tools import require_tool

DOCKERFILE = """\
ARG BASE
FROM ${BASE} AS base
ENV GREETING=hello
FROM base AS final
ARG VERSION=1
LABEL version=$VERSION
CMD ["sh", "-c", "echo $GREETING"]
FROM ${BASE} AS unused
LABEL never=built
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


def _inspect(ref: str, *extra: str) -> dict:
    out = subprocess.run(
        [require_tool("skopeo"), "inspect", "--tls-verify=false", *extra, f"docker://{ref}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def test_build_and_push(ctx, base_images, registry_plain, capsys, tmp_path) -> None:
    dest = f"{registry_plain.host}/cli/app:1"
    digest_file = tmp_path / "digest"
    argv = [
        "-c",
        str(ctx),
        "--build-arg",
        f"BASE={base_images['busybox']}",
        "--build-arg",
        "VERSION=7",
        "--target",
        "final",
        "-d",
        dest,
        "--digest-file",
        str(digest_file),
    ]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    config = _inspect(dest, "--config")["config"]
    assert config["Labels"] == {"version": "7"}
    assert config["Cmd"] == ["sh", "-c", "echo $GREETING"]
    assert "GREETING=hello" in config["Env"]
    assert _inspect(dest)["Digest"] == digest_file.read_text()


def test_no_push_with_tarball(ctx, base_images, capsys, tmp_path) -> None:
    tar = tmp_path / "image.tar"
    argv = [
        "-c",
        str(ctx),
        "--build-arg",
        f"BASE={base_images['busybox']}",
        "--no-push",
        "--tar-path",
        str(tar),
    ]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    info = json.loads(
        subprocess.run(
            [require_tool("skopeo"), "inspect", "--config", f"docker-archive:{tar}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert info["config"]["Labels"] == {"never": "built"}  # the last stage is the target


def test_plan_is_logged_at_debug(ctx, base_images, capsys) -> None:
    argv = [
        "-c",
        str(ctx),
        "--build-arg",
        f"BASE={base_images['busybox']}",
        "--no-push",
        "-v",
        "debug",
        "--log-format",
        "text",
    ]
    code, _, err = _run(argv, capsys)
    assert code == 0
    assert "plan: stage 1 (final) FROM 0" in err or "plan: stage 1 (final)" in err


def test_unknown_target_fails(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["-c", str(ctx), "--no-push", "--target", "nosuch"], capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "nosuch" in err and err.count("\n") == 1


def test_dockerfile_error_is_one_line(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ctx / "Bad").write_text("FROM busybox\nCOPY --nosuchflag=1 a b\n")
    code, out, err = _run(["-f", "Bad", "-c", str(ctx), "--no-push"], capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Bad:2" in err


def test_unreachable_base_is_one_line(ctx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-c", str(ctx), "--no-push", "--build-arg", "BASE=127.0.0.1:9/nothing:1"]
    code, _, err = _run(argv, capsys)
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 1 and len(errors) == 1
    assert errors[0].startswith(f"error: {ctx}/Dockerfile:2: FROM 127.0.0.1:9/nothing:1: ")
    assert "registry 127.0.0.1:9: unreachable" in errors[0]


def test_push_refused_before_building(
    ctx, base_images, registry_token, capsys, tmp_path, monkeypatch
) -> None:
    config_dir = registry_token.docker_config(tmp_path / "docker", "bob")
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    argv = [
        "-c",
        str(ctx),
        "--build-arg",
        f"BASE={base_images['busybox']}",
        "-d",
        f"{registry_token.host}/denied/app:1",
        "--registry-certificate",
        f"{registry_token.host}={registry_token.ca_cert}",
    ]
    code, _, err = _run(argv, capsys)
    assert code == 1 and "push check" in err and "bob-secret-pw" not in err


def test_missing_dockerfile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["-c", str(tmp_path), "-f", "nope", "--no-push"], capsys)
    assert code == 1 and "please provide a valid path to a Dockerfile" in err
