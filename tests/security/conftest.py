"""One real build of hostile RUN steps, shared by the escape tests.

kaniko's executor (the CLI, in its own process, as root with the default chroot
isolation: a CI host) builds a Dockerfile on the lab's busybox base whose RUN steps each
try one way out of the sandbox and print ``RESULT <name> <outcome>``; every step ends
successfully whatever its attempt gave, so the build succeeds and each test reads the
outcome of its own attempt. The executor holds a secret in its environment (as a CI job
holds a registry token), which no RUN may read.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.security.helpers import ARGV1, PTRACE_SEIZE, require_x86_64, syscall_program

SECRET_PREFIX = "kaniko-test-secret-"
CLONE_NEWUSER_NEWNS = 0x10020000

DOCKERFILE = """\
FROM {base}
ARG BUILDER_PID
ARG DISK_MAJOR
ARG DISK_MINOR
COPY probes/ /probes/
RUN grep -E '^(CapBnd|CapEff|CapPrm|CapInh|CapAmb|Seccomp):' /proc/self/status \\
 | while read name value; do echo "RESULT ${{name%:}} $value"; done
RUN /probes/double-chroot; echo "RESULT double-chroot $?"; rmdir /.kaniko-escape || true
RUN n=$(tr '\\0' '\\n' < /proc/1/environ | grep -c "{secret_a}""{secret_b}"); \\
    echo "RESULT init-environ-bytes $(wc -c < /proc/1/environ 2>/dev/null || echo 0)"; \\
    echo "RESULT init-environ-secret $n"; \\
    m=0; for f in /proc/[0-9]*/environ; do \\
      tr '\\0' '\\n' < $f 2>/dev/null | grep -q "{secret_a}""{secret_b}" && m=$((m+1)); \\
    done; echo "RESULT any-environ-secret $m"; \\
    echo "RESULT own-env-secret $(env | grep -c "{secret_a}""{secret_b}")"
RUN if (exec 3</proc/1/mem); then echo "RESULT init-mem opened"; \\
    else echo "RESULT init-mem refused"; fi; \\
    found=0; \\
    while read range perms rest; do \\
      case $perms in rw*) ;; *) continue ;; esac; \\
      start=$((0x${{range%-*}})); end=$((0x${{range#*-}})); \\
      dd if=/proc/1/mem bs=4096 skip=$((start / 4096)) count=$(((end - start) / 4096)) \\
        2>/dev/null \\
        | grep -q "{secret_a}""{secret_b}" && found=$((found+1)); \\
    done < /proc/1/maps; \\
    echo "RESULT init-mem-secret $found"
RUN echo "RESULT init-fd $(ls /proc/1/fd 2>/dev/null | wc -l)"; \\
    echo "RESULT init-fd-sockets $(ls -l /proc/1/fd 2>/dev/null | grep -c socket:)"
RUN v=$(cat /proc/sys/vm/swappiness); \\
    if echo "$v" > /proc/sys/vm/swappiness; then echo "RESULT proc-sys written"; \\
    else echo "RESULT proc-sys refused"; fi
RUN if [ ! -e /proc/sysrq-trigger ]; then echo "RESULT sysrq absent"; \\
    elif echo h > /proc/sysrq-trigger; then echo "RESULT sysrq written"; \\
    else echo "RESULT sysrq refused"; fi
RUN if mount -t tmpfs kaniko-escape /tmp; then echo "RESULT mount mounted"; umount /tmp; \\
    else echo "RESULT mount refused"; fi; \\
    /probes/unshare-userns; echo "RESULT unshare-userns $?"
RUN /probes/finit-module; echo "RESULT finit-module $?"; \\
    /probes/init-module; echo "RESULT init-module $?"
RUN if mknod /tmp/disk b "$DISK_MAJOR" "$DISK_MINOR"; then \\
      if head -c 512 /tmp/disk > /tmp/read; then \\
        echo "RESULT raw-disk read $(wc -c < /tmp/read)"; \\
      else echo "RESULT raw-disk refused"; fi; \\
    else echo "RESULT raw-disk no-mknod"; fi; \\
    if mknod /tmp/mem c 1 1; then \\
      if head -c 1 /tmp/mem > /dev/null; then echo "RESULT dev-mem read"; \\
      else echo "RESULT dev-mem refused"; fi; \\
    else echo "RESULT dev-mem no-mknod"; fi; \\
    if mknod /tmp/null c 1 3; then \\
      if echo x > /tmp/null; then echo "RESULT made-node written"; \\
      else echo "RESULT made-node refused"; fi; \\
    else echo "RESULT made-node no-mknod"; fi; \\
    echo "RESULT dev-listing $(ls /dev | tr '\\n' ' ')"; \\
    rm -f /tmp/disk /tmp/read /tmp/mem /tmp/null
RUN /probes/ptrace 1; echo "RESULT ptrace-init $?"; \\
    /probes/ptrace "$BUILDER_PID"; echo "RESULT ptrace-builder $?"
RUN echo "RESULT done yes"
"""


@dataclass(frozen=True)
class Escapes:
    """The outcome of each attempt (``results[name]``) and the build's whole log."""

    results: dict[str, str]
    log: str
    returncode: int
    host_marker: Path


def write_probes(directory: Path, host_marker: str) -> None:
    """The system-call probes the Dockerfiles run, in ``directory``; the double-chroot one
    looks for ``host_marker``, a path that exists outside the RUN's root only."""
    directory.mkdir()
    escape = "/.kaniko-escape"
    programs = {
        # chroot into a subdirectory without entering it, climb, chroot there: the
        # classic way out of a chroot(2); then look for a file of the host's
        "double-chroot": [("mkdir", [escape, 0o755]), ("chroot", [escape])]
        + [("chdir", [".."])] * 64
        + [("chroot", ["."]), ("access", [host_marker, 0])],
        "unshare-userns": [("unshare", [CLONE_NEWUSER_NEWNS])],
        "finit-module": [("finit_module", [-1, "", 0])],
        "init-module": [("init_module", [0, 0, ""])],
        # SEIZE, not ATTACH: the same permission checks without stopping a process
        "ptrace": [("ptrace", [PTRACE_SEIZE, ARGV1, 0, 0])],
    }
    for name, calls in programs.items():
        path = directory / name
        path.write_bytes(syscall_program(calls))
        path.chmod(0o755)


def parse_results(log: str) -> dict[str, str]:
    """The ``RESULT name value`` lines a RUN printed (``[stage:line] RESULT …`` in the log)."""
    results = {}
    for line in log.splitlines():
        _, found, rest = line.partition("] RESULT ")
        if found:
            name, _, value = rest.partition(" ")
            results[name] = value.rstrip('"').strip()
    return results


@pytest.fixture(scope="session")
def escapes(base_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Escapes:
    """Build the hostile Dockerfile once with the executor; the outcomes of its RUNs."""
    require_x86_64()
    if os.geteuid() != 0:
        pytest.skip("the escape tests build as root, as a CI host does")
    directory = tmp_path_factory.mktemp("escapes")
    host_marker = directory / f"host-only-{secrets.token_hex(8)}"
    host_marker.write_text("the host's file\n")
    context = directory / "context"
    context.mkdir()
    write_probes(context / "probes", str(host_marker))
    secret = secrets.token_hex(12)
    half = len(secret) // 2
    (context / "Dockerfile").write_text(
        DOCKERFILE.format(
            base=base_images["busybox"],
            secret_a=SECRET_PREFIX + secret[:half],
            secret_b=secret[half:],
        )
    )
    kaniko_dir = directory / "kaniko"
    kaniko_dir.mkdir()
    disk = os.stat(kaniko_dir).st_dev
    argv = [
        sys.executable, "-m", "kaniko.cli", "-c", str(context), "--no-push",
        "--kaniko-dir", str(kaniko_dir), "--log-format", "text",
        f"--build-arg=DISK_MAJOR={os.major(disk)}", f"--build-arg=DISK_MINOR={os.minor(disk)}",
    ]  # fmt: skip
    # exec keeps the shell's pid: the executor learns its own pid as a build arg
    launcher = ["/bin/sh", "-c", 'exec "$@" "--build-arg=BUILDER_PID=$$"', "sh", *argv]
    env = {**os.environ, "KANIKO_TEST_SECRET": SECRET_PREFIX + secret}
    done = subprocess.run(
        launcher, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    log = done.stdout + done.stderr
    return Escapes(parse_results(log), log, done.returncode, host_marker)
