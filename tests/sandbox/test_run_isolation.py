"""What a RUN sees of the system, and that none of it outlives the RUN."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from kaniko.sandbox.boot import kernel as libc
from kaniko.sandbox.chroot import run
from kaniko.sandbox.spec import Isolation, RunSpec
from tests.sandbox.conftest import Runner
from tests.sandbox.helpers import (
    mounts_below,
    processes_in,
    records,
    tree,
    without_capabilities,
)

BOTH: list[Isolation] = ["full", "plain"]


def test_full_isolation_provides_proc_sys_dev(sh_shared: Runner) -> None:
    script = (
        "grep -q '^Pid:' /proc/self/status && echo proc;"
        "echo x > /dev/null && echo null;"
        "test $(head -c 16 /dev/urandom | wc -c) = 16 && echo urandom;"
        "test $(head -c 8 /dev/zero | wc -c) = 8 && echo zero;"
        "test -c /dev/tty && echo tty;"
        "test -d /dev/pts && test -c /dev/pts/ptmx && test -L /dev/ptmx && echo pts;"
        "touch /dev/shm/x && echo shm;"
        "ls /sys/kernel >/dev/null && ! touch /sys/x 2>/dev/null && echo sys-ro;"
        "test -e /dev/fd/0 && echo fd > /dev/stdout"
    )
    assert sh_shared(script, isolation="full") == (
        0,
        ["proc", "null", "urandom", "zero", "tty", "pts", "shm", "sys-ro", "fd"],
    )


def test_own_pid_namespace_and_hostname(sh_shared: Runner) -> None:
    code, lines = sh_shared("hostname; echo $$; ls -d /proc/[0-9]* | wc -l", hostname="builder")
    assert code == 0
    assert lines[:2] == ["builder", "2"]  # pid 1 is the sandbox's init
    assert int(lines[2]) <= 5  # no host process is visible


@pytest.mark.parametrize("isolation", BOTH)
def test_the_hostname_cannot_be_changed(sh_shared: Runner, isolation: Isolation) -> None:
    """As in a Docker build: sethostname needs CAP_SYS_ADMIN, which a RUN never has."""
    host = socket.gethostname()
    code, lines = sh_shared("hostname changed-by-run || echo refused", isolation=isolation)
    assert (code, lines[-1]) == (0, "refused")
    assert socket.gethostname() == host


def test_host_resolv_conf_and_hosts_are_seen(sh: Runner, rootfs: Path) -> None:
    (rootfs / "etc" / "resolv.conf").write_text("nameserver 192.0.2.1\n")
    os.utime(rootfs / "etc" / "resolv.conf", ns=(1, 1))
    code, lines = sh("cat /etc/resolv.conf; echo edited >> /etc/hosts; cat /etc/hosts")
    assert code == 0
    expected = Path("/etc/resolv.conf").read_text().splitlines()
    assert lines[: len(expected)] == expected
    assert lines[-1] == "edited"
    assert "edited" not in Path("/etc/hosts").read_text()  # the host's file is untouched
    assert (rootfs / "etc" / "resolv.conf").read_text() == "nameserver 192.0.2.1\n"
    assert (rootfs / "etc" / "resolv.conf").stat().st_mtime_ns == 1
    assert not (rootfs / "etc" / "hosts").exists()


def test_plain_isolation_has_devices_and_dns(sh_shared: Runner) -> None:
    script = (
        "echo x > /dev/null && echo null; head -c 4 /dev/urandom | wc -c;"
        "test -d /proc/self || echo no-proc; cat /etc/resolv.conf"
    )
    code, lines = sh_shared(script, isolation="plain")
    assert code == 0
    assert lines[:3] == ["null", "4", "no-proc"]
    assert lines[3:] == Path("/etc/resolv.conf").read_text().splitlines()


@pytest.mark.parametrize("isolation", BOTH)
def test_a_run_that_writes_nothing_leaves_the_root_as_it_was(
    sh: Runner, rootfs: Path, isolation: Isolation
) -> None:
    before = tree(rootfs)
    assert sh("ls / /dev /etc > /dev/null; echo hi > /dev/null", isolation=isolation)[0] == 0
    assert mounts_below(rootfs) == []
    assert tree(rootfs) == before


@pytest.mark.parametrize("isolation", BOTH)
def test_a_run_leaves_exactly_what_it_wrote(sh: Runner, rootfs: Path, isolation: Isolation) -> None:
    before = tree(rootfs)
    assert sh("echo data > /etc/app.conf; mkdir -p /var/lib/app", isolation=isolation)[0] == 0
    after = tree(rootfs)
    assert mounts_below(rootfs) == []
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == {"etc", "etc/app.conf", "var", "var/lib", "var/lib/app"}


def test_mount_points_survive_when_the_image_has_them(sh: Runner, rootfs: Path) -> None:
    for name in ("proc", "sys", "dev"):
        (rootfs / name).mkdir()
    (rootfs / "dev" / "keep").write_text("image content")
    before = tree(rootfs)
    assert sh("test ! -e /dev/keep && echo hidden") == (0, ["hidden"])
    assert tree(rootfs) == before


@pytest.mark.parametrize("isolation", BOTH)
def test_symlinked_targets_are_resolved_inside_the_root(
    sh: Runner, rootfs: Path, tmp_path: Path, isolation: Isolation
) -> None:
    host_dir = tmp_path / "host-side"
    host_dir.mkdir()
    (rootfs / "etc" / "resolv.conf").symlink_to(host_dir / "resolv.conf")
    (rootfs / "dev").symlink_to(host_dir / "dev")
    before = tree(rootfs)
    code, lines = sh("cat /etc/resolv.conf; test -c /dev/null && echo null", isolation=isolation)
    assert code == 0
    assert lines[-1] == "null"
    assert list(host_dir.iterdir()) == []  # nothing created or mounted on the host's side
    assert tree(rootfs) == before


@pytest.mark.parametrize("isolation", BOTH)
@pytest.mark.parametrize(
    "start",
    ["sleep 1000 &", "(sleep 1000 &) &", "setsid sleep 1000 >/dev/null 2>&1 </dev/null &"],
)
def test_background_processes_do_not_survive(
    sh: Runner, rootfs: Path, isolation: Isolation, start: str
) -> None:
    code, lines = sh(f"{start} echo started", isolation=isolation)
    assert (code, lines) == (0, ["started"])
    assert processes_in(rootfs) == []


def test_plain_isolation_without_mknod_leaves_no_trace(
    sh: Runner, rootfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "mknod", refuse)
    before = tree(rootfs)
    code, lines = sh("echo lost > /dev/null; cat /dev/null", isolation="plain")
    assert (code, lines) == (0, ["lost"])  # /dev/null was a plain file during the RUN
    assert tree(rootfs) == before


def test_mounts_refused_falls_back_to_plain_once(sh: Runner, rootfs: Path) -> None:
    """Without CAP_SYS_ADMIN (an unprivileged pod) a RUN is a plain chroot, said once."""
    before = tree(rootfs)
    host = socket.gethostname()
    script = (
        "test -d /proc/self || echo plain; echo > /dev/null && echo null; hostname;"
        "grep CapBnd /proc/1/status 2>/dev/null || echo no-proc"
    )

    def two_runs() -> object:
        return [sh(script, hostname="wanted") for _ in range(2)]

    runs = without_capabilities(("CAP_SYS_ADMIN",), two_runs)
    # without a UTS namespace the name is not set: the host's must not change
    assert runs == [[0, ["plain", "null", host, "no-proc"]]] * 2
    assert socket.gethostname() == host
    warnings = [message for level, message in records if level == "WARNING"]
    fallback = [message for message in warnings if "plain chroot" in message]
    assert len(fallback) == 1, warnings
    assert "without CAP_SYS_CHROOT" in fallback[0]
    # and once that this process, without CAP_SYS_ADMIN and unfiltered, adds no seccomp
    assert [m for m in warnings if m not in fallback] == [
        "RUN steps run without the seccomp profile (needs CAP_SYS_ADMIN): this process may "
        "not impose it"
    ]
    assert tree(rootfs) == before


def test_mounts_refused_with_full_isolation_is_an_error(sh: Runner) -> None:
    def full() -> object:
        return sh("true", isolation="full")

    with pytest.raises(RuntimeError, match="BuildError: RUN: full isolation needs mounts"):
        without_capabilities(("CAP_SYS_ADMIN",), full)


def test_full_isolation_needs_no_chroot(sh_shared: Runner) -> None:
    """pivot_root, not chroot(2): CAP_SYS_CHROOT is not needed for the RUN's own root."""

    def full() -> object:
        return sh_shared("echo in", isolation="full")

    assert without_capabilities(("CAP_SYS_CHROOT",), full) == [0, ["in"]]


def test_chroot_refused_points_at_inplace(sh: Runner, rootfs: Path) -> None:
    before = tree(rootfs)

    def plain() -> object:
        return sh("true")

    with pytest.raises(RuntimeError, match=r"BuildError: .*--isolation=inplace"):
        without_capabilities(("CAP_SYS_ADMIN", "CAP_SYS_CHROOT"), plain)
    assert tree(rootfs) == before


def test_mounts_do_not_propagate_back_through_a_shared_mount(
    busybox_template: Path, tmp_path: Path
) -> None:
    """The RUN's mounts stay private even when the root lives on a shared mount.

    A helper process takes a mount namespace of its own (the host's stays untouched),
    mounts a tmpfs marked shared, runs a RUN in a root on it and reports what it sees.
    """
    base = tmp_path / "shared"
    base.mkdir()
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(report_r)
            libc.unshare(libc.CLONE_NEWNS)
            libc.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE)
            libc.mount("tmpfs", str(base), "tmpfs", 0, "mode=755")
            libc.mount(None, str(base), None, libc.MS_SHARED)
            root = base / "root"
            shutil.copytree(busybox_template, root, symlinks=True)
            lines: list[str] = []
            spec = RunSpec(
                root, ("/bin/sh", "-c", "grep -c ' /dev/null ' /proc/self/mountinfo"), ()
            )
            code = run(spec, on_output=lines.append, isolation="full")
            os.write(report_w, json.dumps([code, lines, mounts_below(root)]).encode())
        finally:
            os._exit(0)
    os.close(report_w)
    with os.fdopen(report_r) as report:
        text = report.read()
    os.waitpid(pid, 0)
    assert json.loads(text) == [0, ["1"], []]
