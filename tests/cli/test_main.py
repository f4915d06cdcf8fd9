"""main([...]) in-process: exit codes, version, help, validation and not-yet flags."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import kaniko
from kaniko.cli import run as run_module
from kaniko.cli.flags import FLAGS
from kaniko.cli.main import main
from kaniko.cli.notyet import NOT_YET
from kaniko.errors import BuildError, RunError
from kaniko.options import BuildOptions
from kaniko.redact import register_secret


def _stub_execute(monkeypatch: pytest.MonkeyPatch, result: object) -> list[BuildOptions]:
    seen: list[BuildOptions] = []

    def fake(opts: BuildOptions, progress: object = None) -> int:
        seen.append(opts)
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, int)
        return result

    monkeypatch.setattr(run_module, "execute", fake)
    return seen


@pytest.mark.parametrize("argv", [["version"], ["-v", "debug", "version"]])
def test_version(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"Kaniko version : {kaniko.__version__}"


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--no-push", "-h"], ["help"]])
def test_help_lists_grouped_flags(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    for group in (
        "Build flags",
        "Output and push flags",
        "Registry flags",
        "Cache flags",
        "Snapshot flags",
        "Logging flags",
        "Deprecated aliases",
    ):
        assert group in out
    assert out.index("Build flags") < out.index("--dockerfile") < out.index("Output and push")
    for flag in FLAGS:
        if flag.hidden:
            assert f"--{flag.name} " not in out
        else:
            assert f"--{flag.name}" in out
    assert "-f, --dockerfile string" in out
    assert "version" in out


def test_executor_program_name(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["/kaniko/executor"])
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: executor")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "you must provide --destination, or use --no-push"),
        (["--cache", "--no-push"], "specify cache repo with --cache-repo"),
        (
            ["--no-push", "--image-name-with-digest-file=f"],
            "you must provide --destination if setting --image-name-with-digest-file",
        ),
        (
            ["--no-push", "--image-name-tag-with-digest-file=f"],
            "you must provide --destination if setting --image-name-tag-with-digest-file",
        ),
        (["--no-push", "--custom-platform=linux//x"], "invalid platform"),
        (["--no-push", "--context="], "please specify a path to the build context"),
        (["--no-push", "--frobnicate"], "unknown flag: --frobnicate"),
        (["--cache", "false", "--no-push"], 'unknown command "false"'),
        (["build"], 'unknown command "build"'),
        (["--no-push", "-v", "shout"], "not a valid log level"),
        (["--no-push", "--log-format=xml"], "not a valid log format"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and message in lines[0]


def test_not_yet_flags_fail_loudly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table is empty now that every flag is built; a row still stops a run that uses
    the flag, naming every such flag."""
    calls = _stub_execute(monkeypatch, 0)
    monkeypatch.setitem(NOT_YET, "--cleanup", lambda o: o.cleanup)
    monkeypatch.setitem(NOT_YET, "--force", lambda o: o.force)
    assert main(["-d", "reg/img", "--force", "--cleanup"]) == 1
    assert capsys.readouterr().err == "error: not supported yet: --cleanup, --force\n"
    assert main(["-d", "reg/img"]) == 0 and len(calls) == 1


def test_the_cache_flags_reach_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _stub_execute(monkeypatch, 0)
    argv = ["-d", "r/i", "--cache", "--cache-ttl=1h", "--cache-copy-layers",
            "--cache-run-layers=false", "--cache-repo=oci:/c/layers", "--cache-dir=/c2",
            "--compressed-caching=false", "--no-push-cache"]  # fmt: skip
    assert main(argv) == 0
    cache = calls[0].cache
    assert (cache.enabled, cache.ttl.total_seconds(), cache.copy_layers) == (True, 3600, True)
    assert (cache.run_layers, cache.repo, cache.dir) == (False, "oci:/c/layers", "/c2")
    assert (cache.compressed, cache.no_push_cache) == (False, True)


def test_kaniko_dir_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _stub_execute(monkeypatch, 0)
    monkeypatch.setenv("KANIKO_DIR", "/elsewhere")
    assert main(["--no-push"]) == 0
    assert calls[0].kaniko_dir == "/elsewhere"


def test_accepted_flags_reach_execute(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _stub_execute(monkeypatch, 0)
    argv = [
        "-f",
        "D",
        "-c",
        "/ctx",
        "--no-push",
        "--build-arg",
        "A=1",
        "--target",
        "t",
        "--skip-unused-stages",
        "--custom-platform",
        "linux/arm64",
        "-v",
        "error",
        "--log-format",
        "text",
        "--log-timestamp",
        "--force",
        "--label",
        "k=v",
        "-d",
        "reg/img",
        "--cache=false",
        "--ignore-var-run=true",
    ]
    assert main(argv) == 0
    (opts,) = calls
    assert opts.dockerfile == "D" and opts.target == "t" and opts.labels == (("k", "v"),)
    assert opts.output.destinations == ("reg/img",) and opts.output.no_push


def test_deprecated_alias_warns(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    calls = _stub_execute(monkeypatch, 0)
    assert main(["--no-push", "--customPlatform=linux/arm64", "--log-format=text"]) == 0
    err = capsys.readouterr().err
    assert "level=warning" in err and "--customPlatform is deprecated" in err
    assert str(calls[0].platform) == "linux/arm64"


@pytest.mark.parametrize(
    ("error", "code"),
    [(BuildError("step 3 failed"), 1), (RunError("RUN exited 7", 7), 7)],
)
def test_kaniko_errors(error: Exception, code: int, monkeypatch, capsys) -> None:
    _stub_execute(monkeypatch, error)
    assert main(["--no-push"]) == code
    assert capsys.readouterr().err == f"error: {error}\n"


def test_error_message_is_one_line_and_redacted(monkeypatch, capsys) -> None:
    register_secret("hunter2")
    _stub_execute(monkeypatch, BuildError("auth failed\nwith password hunter2"))
    assert main(["--no-push"]) == 1
    assert capsys.readouterr().err == "error: auth failed with password ***\n"


def test_unexpected_exception_traceback_only_at_debug(monkeypatch, capsys) -> None:
    _stub_execute(monkeypatch, ZeroDivisionError("boom"))
    assert main(["--no-push"]) == 1
    err = capsys.readouterr().err
    assert err == "error: internal error: ZeroDivisionError: boom\n"

    assert main(["--no-push", "-v", "debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError: boom" in err
    assert err.rstrip().endswith("error: internal error: ZeroDivisionError: boom")


def test_execute_exit_status_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    _stub_execute(monkeypatch, 0)
    assert main(["--no-push"]) == 0


def test_bad_isolation_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-push", "--isolation", "vm"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "isolation" in err and "vm" in err


def test_an_unknown_platform_in_a_list_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    code = main(["-c", str(tmp_path), "--no-push", "--custom-platform", "linux/amd64,linux/arm65"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "error: --custom-platform: invalid platform 'linux/arm65': unknown architecture "
        "'arm65' (want a GOARCH name: amd64, arm64, arm, 386, ppc64le, s390x, riscv64 …)\n"
    )


def test_a_context_sub_path_out_of_the_context_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = tmp_path / "a" / "b"
    ctx.mkdir(parents=True)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")  # what ../.. would find
    code = main(
        ["-c", str(ctx), "--no-push", "--context-sub-path", "../..", "--kaniko-dir",
         str(tmp_path / "k")]
    )  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err == (
        "error: --context-sub-path ../..: leaves the build context\n"
    )
