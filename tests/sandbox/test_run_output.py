"""RUN output, exit statuses, stdin, and commands that cannot be executed."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.sandbox.chroot import run
from kaniko.sandbox.spec import RunSpec
from tests.lab.images import busybox_rootfs
from tests.sandbox.conftest import Runner
from tests.sandbox.helpers import exec_form


def test_output_lines_in_order(sh_shared: Runner) -> None:
    code, lines = sh_shared("echo one; echo two >&2; echo three")
    assert code == 0
    assert lines == ["one", "two", "three"]


def test_output_is_streamed_while_the_command_runs(shared_root: Path) -> None:
    seen: list[tuple[float, str]] = []
    spec = RunSpec(shared_root, ("/bin/sh", "-c", "echo first; sleep 0.4; echo second"), ())
    assert run(spec, on_output=lambda line: seen.append((time.monotonic(), line))) == 0
    assert [line for _, line in seen] == ["first", "second"]
    assert seen[1][0] - seen[0][0] > 0.3


def test_partial_last_line_and_invalid_utf8(sh_shared: Runner) -> None:
    code, lines = sh_shared(r"printf 'caf\303\251\n\377bad\n\nno newline'")
    assert code == 0
    assert lines == ["café", "\ufffdbad", "", "no newline"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [("true", 0), ("exit 3", 3), ("kill -9 $$", 128 + 9), ("kill -TERM $$", 128 + 15)],
)
def test_exit_status(sh_shared: Runner, script: str, expected: int) -> None:
    assert sh_shared(script)[0] == expected


def test_missing_executable_in_exec_form(shared_root: Path) -> None:
    code, lines = exec_form(shared_root, ("no-such-tool", "arg"))
    assert code == 127
    assert lines == ['exec: "no-such-tool": executable file not found in $PATH']


def test_missing_absolute_executable(shared_root: Path) -> None:
    code, lines = exec_form(shared_root, ("/opt/tool",))
    assert code == 127
    assert lines == ['exec: "/opt/tool": stat /opt/tool: no such file or directory']


def test_not_executable(rootfs: Path) -> None:
    (rootfs / "script").write_text("echo hi\n")
    code, lines = exec_form(rootfs, ("/script",))
    assert code == 126
    assert lines == ['exec: "/script": permission denied']


def test_missing_command_in_shell_form(sh_shared: Runner) -> None:
    code, lines = sh_shared("no-such-tool")
    assert code == 127
    assert lines == ["/bin/sh: no-such-tool: not found"]


def test_exec_form_searches_the_environment_path(rootfs: Path) -> None:
    tool = rootfs / "opt" / "bin" / "hello"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\necho hello from $0\n")
    tool.chmod(0o755)
    code, lines = exec_form(rootfs, ("hello",), env=(("PATH", "/nowhere:/opt/bin"),))
    assert (code, lines) == (0, ["hello from /opt/bin/hello"])


def test_stdin_is_fed(shared_root: Path) -> None:
    data = b"".join(b"line %d\n" % i for i in range(20000))  # more than a pipe holds
    code, lines = exec_form(shared_root, ("sha256sum",), stdin=data)
    assert code == 0
    assert lines == [f"{hashlib.sha256(data).hexdigest()}  -"]


def test_stdin_not_read_does_not_block(shared_root: Path) -> None:
    code, lines = exec_form(shared_root, ("/bin/true",), stdin=b"x" * 1_000_000)
    assert (code, lines) == (0, [])


def test_stdin_defaults_to_dev_null(sh_shared: Runner) -> None:
    assert sh_shared("cat; echo done") == (0, ["done"])


def test_empty_command_is_refused(shared_root: Path) -> None:
    with pytest.raises(BuildError, match="empty command"):
        exec_form(shared_root, ())


def test_runs_from_worker_threads_in_parallel(tmp_path: Path) -> None:
    roots = [busybox_rootfs(tmp_path / f"root{n}") for n in range(3)]

    def one(n: int) -> tuple[int, list[str]]:
        return exec_form(roots[n], ("/bin/sh", "-c", f"sleep 0.2; echo {n}; ls /proc/self/fd"))

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(one, range(3)))
    # each RUN sees only its stdio (0, 1, 2) and the fd ls opens: nothing leaked from kaniko
    assert results == [(0, [str(n), "0", "1", "2", "3"]) for n in range(3)]
