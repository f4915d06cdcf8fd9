"""RUN --network: ``none`` is a network namespace with loopback only, or an error."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.sandbox.chroot import run
from kaniko.sandbox.spec import Isolation, RunSpec
from tests.sandbox.helpers import records, without_capabilities


def _run(
    root: Path, script: str, network: str, isolation: Isolation = "auto"
) -> tuple[int, list[str]]:
    lines: list[str] = []
    spec = RunSpec(root=root, argv=("/bin/sh", "-c", script), env=(), network=network)
    return run(spec, on_output=lines.append, isolation=isolation), lines


@pytest.fixture
def host_port() -> object:
    """A TCP server on the host's loopback that answers ``hello``."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"hello\n")

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


@pytest.mark.parametrize("isolation", ["full", "plain"])
def test_none_has_only_loopback_and_no_route_out(
    shared_root: Path, host_port: int, isolation: Isolation
) -> None:
    script = (
        f"nc -w 2 127.0.0.1 {host_port} </dev/null 2>/dev/null || echo unreachable;"
        "ls /sys/class/net 2>/dev/null || awk -F: 'NR>2 {print $1}' /proc/net/dev;"
        "ping -c 1 -W 1 127.0.0.1 >/dev/null && echo loopback-up;"
        "ip route 2>/dev/null | grep -c default || true"
    )
    code, lines = _run(shared_root, script, "none", isolation)
    assert code == 0, lines
    assert lines[0] == "unreachable"  # the host's loopback is another namespace's
    assert "loopback-up" in lines
    assert lines[-1] == "0"  # no default route
    interfaces = [line.strip() for line in lines[1:] if line.strip() not in ("loopback-up", "0")]
    if isolation == "full":
        assert interfaces == ["lo"]


@pytest.mark.parametrize("network", ["", "default", "host"])
def test_default_and_host_share_the_builders_network(
    shared_root: Path, host_port: int, network: str
) -> None:
    code, lines = _run(shared_root, f"nc -w 2 127.0.0.1 {host_port} </dev/null", network)
    assert (code, lines) == (0, ["hello"])


def test_none_where_namespaces_are_refused_is_an_error(shared_root: Path) -> None:
    def body() -> str:
        try:
            _run(shared_root, "echo ran", "none")
        except BuildError as e:
            return str(e)
        return "no error"

    message = without_capabilities(("CAP_SYS_ADMIN",), body)
    assert isinstance(message, str)
    assert message.startswith("RUN --network=none: this environment does not permit"), message
    assert "does not run the step with the network" in message
    assert not any("ran" in str(r) for r in records)
