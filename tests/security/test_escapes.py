"""A hostile RUN stays in its box (issue 10): each way out, tried inside a real build.

The attempts run in one build (see conftest.py); each test reads the outcome of its own
attempt, made in a RUN step that otherwise succeeded. docs/security.md says what a RUN
can still reach and why.
"""

from __future__ import annotations

import errno

import pytest

from tests.security.conftest import Escapes

pytestmark = pytest.mark.e2e

DEFAULT_CAPABILITIES = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_FSETID": 4, "CAP_KILL": 5,
    "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10,
    "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29,
    "CAP_SETFCAP": 31,
}  # fmt: skip
"""containerd's 14 (what Docker and a default Kubernetes pod give), by number."""
DEFAULT_MASK = sum(1 << bit for bit in DEFAULT_CAPABILITIES.values())


def _result(escapes: Escapes, name: str) -> str:
    assert escapes.returncode == 0, escapes.log[-6000:]
    assert escapes.results.get("done") == "yes", escapes.log[-6000:]
    assert name in escapes.results, f"no RESULT {name} in the build log:\n{escapes.log[-6000:]}"
    return escapes.results[name]


def test_a_run_has_the_container_default_capabilities_and_seccomp(escapes: Escapes) -> None:
    for name in ("CapBnd", "CapEff", "CapPrm"):
        assert int(_result(escapes, name), 16) == DEFAULT_MASK, name
    assert int(_result(escapes, "CapInh"), 16) == 0
    assert int(_result(escapes, "CapAmb"), 16) == 0
    assert _result(escapes, "Seccomp") == "2"  # a filter: Docker's default profile


def test_double_chroot_does_not_reach_the_host(escapes: Escapes) -> None:
    """chroot(2) into a subdirectory, climb with "..", chroot("."): then look for a host
    file. After pivot_root the old root is detached: there is nothing above "/"."""
    assert escapes.host_marker.exists()
    assert _result(escapes, "double-chroot") == str(errno.ENOENT)


def test_init_environment_is_not_the_builders(escapes: Escapes) -> None:
    """pid 1 is a fresh init with an empty environment, and not readable anyway."""
    assert _result(escapes, "init-environ-secret") == "0"
    assert _result(escapes, "init-environ-bytes") == "0"


def test_init_memory_cannot_be_read(escapes: Escapes) -> None:
    """/proc/1/mem: the init is not dumpable, and holds none of the builder's memory."""
    assert _result(escapes, "init-mem") == "refused"
    assert _result(escapes, "init-mem-secret") == "0"


def test_init_holds_no_descriptor_of_the_builder(escapes: Escapes) -> None:
    assert _result(escapes, "init-fd") == "0"
    assert _result(escapes, "init-fd-sockets") == "0"


def test_builder_environment_secret_is_nowhere_in_reach(escapes: Escapes) -> None:
    """Neither the RUN's own environment, nor any /proc/<pid>/environ it can see, nor the
    init's memory holds the secret in the executor's environment."""
    assert _result(escapes, "own-env-secret") == "0"
    assert _result(escapes, "any-environ-secret") == "0"
    assert _result(escapes, "init-mem-secret") == "0"
    assert "kaniko-test-secret-" not in escapes.log.replace('"kaniko-test-secret-', "")


def test_proc_sys_is_read_only(escapes: Escapes) -> None:
    assert _result(escapes, "proc-sys") == "refused"


def test_sysrq_trigger_is_read_only(escapes: Escapes) -> None:
    outcome = _result(escapes, "sysrq")
    if outcome == "absent":
        pytest.skip("this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ=n)")
    assert outcome == "refused"


def test_mount_is_refused(escapes: Escapes) -> None:
    assert _result(escapes, "mount") == "refused"
    # nor through a new user namespace (seccomp: no namespaces without CAP_SYS_ADMIN)
    assert _result(escapes, "unshare-userns") == str(errno.EPERM)


def test_kernel_modules_cannot_be_loaded(escapes: Escapes) -> None:
    assert _result(escapes, "finit-module") == str(errno.EPERM)
    assert _result(escapes, "init-module") == str(errno.EPERM)


def test_raw_devices_cannot_be_opened(escapes: Escapes) -> None:
    """mknod works (the node can be part of the image) but the node never opens: the
    root is mounted nodev, /dev holds only the harmless nodes. Even a made /dev/null
    refuses (stricter than Docker, whose device cgroup lets c 1:3 open anywhere)."""
    assert _result(escapes, "raw-disk") == "refused"  # the block device of kaniko's disk
    assert _result(escapes, "dev-mem") == "refused"
    assert _result(escapes, "made-node") == "refused"
    listing = set(_result(escapes, "dev-listing").split())
    assert listing == {
        "full", "null", "random", "tty", "urandom", "zero", "pts", "shm", "ptmx", "fd",
        "stdin", "stdout", "stderr",
    }  # fmt: skip


def test_ptrace_reaches_neither_the_init_nor_the_builder(escapes: Escapes) -> None:
    assert _result(escapes, "ptrace-init") == str(errno.EPERM)  # not dumpable
    assert _result(escapes, "ptrace-builder") == str(errno.ESRCH)  # not in the pid namespace
