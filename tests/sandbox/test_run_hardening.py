"""A RUN's privileges: those of a default Docker container, and nothing of the builder's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kaniko.sandbox.boot import kernel
from kaniko.sandbox.process import INIT
from kaniko.sandbox.security import CAPABILITIES, DEFAULT_CAPABILITIES, MASKED_PATHS
from tests.sandbox.conftest import Runner
from tests.sandbox.helpers import records, without_capabilities

DEFAULT_MASK = sum(1 << CAPABILITIES.index(name) for name in DEFAULT_CAPABILITIES)
STATUS = "grep -E '^(Cap[A-Za-z]+|Seccomp|NoNewPrivs):' /proc/self/status | tr -d '\\t'"


def _status(lines: list[str]) -> dict[str, str]:
    return dict(line.split(":", 1) for line in lines if ":" in line)


def test_root_gets_the_default_capabilities_and_seccomp(sh_shared: Runner) -> None:
    code, lines = sh_shared(STATUS, isolation="full")
    status = _status(lines)
    assert code == 0
    for name in ("CapBnd", "CapEff", "CapPrm"):
        assert int(status[name], 16) == DEFAULT_MASK, name
    assert int(status["CapInh"], 16) == int(status["CapAmb"], 16) == 0
    assert status["Seccomp"] == "2"
    assert status["NoNewPrivs"] == "0"  # as Docker: set-uid programs keep working


def test_a_non_root_user_ends_with_no_capability(sh_shared: Runner) -> None:
    code, lines = sh_shared(STATUS, user="app", isolation="full")
    status = _status(lines)
    assert code == 0
    assert int(status["CapEff"], 16) == int(status["CapPrm"], 16) == 0
    assert int(status["CapBnd"], 16) == DEFAULT_MASK


def test_masked_and_read_only_paths(sh_shared: Runner) -> None:
    existing = [p for p in MASKED_PATHS if os.path.exists(p)]
    script = (
        "for p in " + " ".join(existing) + "; do"
        "  if [ -d $p ]; then echo $p $(ls -A $p | wc -l); else echo $p $(cat $p | wc -c); fi;"
        " done;"
        " grep -E ' /proc/(sys|irq|bus|fs|sysrq-trigger) ' /proc/mounts | cut -d' ' -f2,4"
    )
    code, lines = sh_shared(script, isolation="full")
    assert code == 0
    assert lines[: len(existing)] == [f"{p} 0" for p in existing]
    read_only = dict(line.split() for line in lines[len(existing) :])
    present = [p for p in ("sys", "irq", "bus", "fs") if os.path.exists(f"/proc/{p}")]
    assert sorted(read_only) == sorted(f"/proc/{p}" for p in present)
    assert all(options.startswith("ro,") for options in read_only.values())


def test_the_init_is_a_fresh_program_with_nothing_of_the_builder(
    sh_shared: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KANIKO_TEST_BUILDER_SECRET", "must-not-leak")
    (tmp_path / "leak-marker").write_text("x")
    leaked = os.open(tmp_path / "leak-marker", os.O_RDONLY)
    os.set_inheritable(leaked, True)  # a descriptor of the builder's that child processes get
    try:
        script = (
            "tr '\\0' ' ' < /proc/1/cmdline; echo;"
            "cat /proc/1/environ > /dev/null 2>&1 || echo environ-refused;"
            "echo fds $(ls /proc/1/fd 2>/dev/null | wc -l);"
            "ls -l /proc/self/fd 2>/dev/null | grep -c leak-marker;"
            "env | grep -c KANIKO_TEST_BUILDER_SECRET"
        )
        code, lines = sh_shared(script, isolation="full")
    finally:
        os.close(leaked)
    assert code == 1  # grep -c found nothing
    assert lines[0].split()[1:] == ["-I", "-S", str(INIT)]
    assert lines[1:] == ["environ-refused", "fds 0", "0", "0"]


def test_a_plain_chroot_withholds_chroot_itself(sh: Runner, rootfs: Path) -> None:
    """With CAP_SYS_CHROOT a RUN in a plain chroot(2) could climb out of it."""

    def attempt() -> object:
        return sh("mkdir -p /x; chroot /x /bin/true 2>&1 || echo refused; rmdir /x")

    code, lines = without_capabilities(("CAP_SYS_ADMIN",), attempt)  # type: ignore[misc]
    assert code == 0
    assert lines[-1] == "refused"


def test_kaniko_in_a_chroot_falls_back_to_a_plain_chroot(sh: Runner, tmp_path: Path) -> None:
    """kaniko itself in a chroot (its root no mount point): no private mount tree and no
    pivot_root are possible, so a RUN is a plain chroot without CAP_SYS_CHROOT, said once
    (with CAP_SYS_CHROOT, ``..`` from a chroot of the RUN's own could climb out)."""
    jail = tmp_path / "jail"
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        result: object = None
        try:
            os.close(report_r)
            records.clear()
            kernel.unshare(kernel.CLONE_NEWNS)
            kernel.mount(None, "/", None, kernel.MS_REC | kernel.MS_PRIVATE)
            for name in os.listdir("/"):  # a jail with the host's directories bound in
                source = Path("/") / name
                if source.is_dir() and not source.is_symlink():
                    (jail / name).mkdir(parents=True)
                    flags = kernel.MS_BIND | kernel.MS_REC
                    kernel.mount(str(source), str(jail / name), None, flags)
                elif source.is_symlink():
                    jail.mkdir(exist_ok=True)
                    (jail / name).symlink_to(os.readlink(source))
            os.chroot(jail)
            os.chdir("/")
            script = "chroot / /bin/true 2>/dev/null || echo refused; test -d /proc || echo plain"
            result = [sh(script), sh(script), records]
        except BaseException as error:
            result = repr(error)
        os.write(report_w, json.dumps(result).encode())
        os._exit(0)
    os.close(report_w)
    with os.fdopen(report_r) as report:
        result = json.loads(report.read())
    os.waitpid(pid, 0)
    assert isinstance(result, list), result
    first, second, logged = result
    assert first == second == [0, ["refused", "plain"]]
    warnings = [message for level, message in logged if level == "WARNING"]
    assert len(warnings) == 1, warnings
    assert "plain chroot" in warnings[0]
