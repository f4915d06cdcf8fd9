"""``--ssh`` agents: key files served by kaniko, and a running agent relayed, as OpenSSH's
own tools (``ssh-add``, ``ssh-keygen -Y``) see them through a step's socket."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from kaniko.errors import UsageError
from kaniko.executor.sshforward import Listener, SshAgents, UpstreamAgent
from kaniko.executor.sshkeys import KeyAgent
from kaniko.options import SshSource

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="openssh-client is not installed"
)


def _key(directory: Path, kind: str, passphrase: str = "") -> Path:
    path = directory / f"id_{kind}"
    bits = ["-b", "2048"] if kind == "rsa" else ["-b", "384"] if kind == "ecdsa" else []
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, *bits, "-N", passphrase, "-C", f"{kind}@test", "-f",
         str(path)], check=True,
    )  # fmt: skip
    return path


def _tool(argv: list[str], sock: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "SSH_AUTH_SOCK": str(sock)}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, **kw)  # type: ignore[call-overload,no-any-return]


@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_key_files_are_listed_and_sign(tmp_path: Path, kind: str) -> None:
    """Served on a socket whose path is longer than a socket address holds; the tools
    reach it through a short symlink (a step sees it at a short path)."""
    key = _key(tmp_path, kind)
    agent = KeyAgent.load((str(key),), "--ssh default")
    sock = tmp_path / "s" / ("x" * 90) / "agent.sock"  # longer than a socket address holds
    sock.parent.mkdir(parents=True)
    listener = Listener(sock, agent, os.getuid(), os.getgid(), 0o600)
    short = Path(f"/tmp/kaniko-test-{os.getpid()}-{kind}.sock")  # what the clients connect to
    short.symlink_to(sock)
    try:
        assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
        listed = _tool(["ssh-add", "-L"], short)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.split()[:2] == key.with_suffix(".pub").read_text().split()[:2]
        message = tmp_path / "message"
        message.write_text("signed through the agent\n")
        signed = _tool(["ssh-keygen", "-Y", "sign", "-n", "file", "-f",
                        str(key.with_suffix(".pub")), str(message)], short)  # fmt: skip
        assert signed.returncode == 0, signed.stderr
        allowed = tmp_path / "allowed"
        allowed.write_text("me " + key.with_suffix(".pub").read_text())
        with message.open() as data:
            verified = _tool(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "me",
                              "-n", "file", "-s", f"{message}.sig"], short, stdin=data)  # fmt: skip
        assert verified.returncode == 0, verified.stderr
        removed = _tool(["ssh-add", "-D"], short)
        assert removed.returncode != 0  # the step may not change the agent
        assert _tool(["ssh-add", "-L"], short).returncode == 0
    finally:
        listener.close()
        short.unlink()
    assert not sock.exists()


def test_a_running_agent_is_relayed(tmp_path: Path) -> None:
    key = _key(tmp_path, "ed25519")
    upstream = tmp_path / "upstream.sock"
    started = subprocess.run(["ssh-agent", "-a", str(upstream)], capture_output=True, text=True,
                             check=True)  # fmt: skip
    pid = int(started.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        assert _tool(["ssh-add", str(key)], upstream).returncode == 0
        agents = SshAgents.load([SshSource("default")], {"SSH_AUTH_SOCK": str(upstream)})
        agent = agents.get("default")
        assert isinstance(agent, UpstreamAgent)
        sock = tmp_path / "step.sock"
        listener = Listener(sock, agent, os.getuid(), os.getgid(), 0o600)
        try:
            listed = _tool(["ssh-add", "-l"], sock)
            assert listed.returncode == 0 and "ed25519@test" in listed.stdout
        finally:
            listener.close()
    finally:
        os.kill(pid, signal.SIGTERM)


def test_unusable_sources_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--ssh default: SSH_AUTH_SOCK is not set"):
        SshAgents.load([SshSource("default")], {})
    with pytest.raises(UsageError, match="--ssh git: cannot read /nonexistent"):
        SshAgents.load([SshSource("git", ("/nonexistent",))], {})
    locked = _key(tmp_path, "ed25519", passphrase="pass phrase")
    with pytest.raises(UsageError, match="protected by a passphrase"):
        SshAgents.load([SshSource("k", (str(locked),))], {})
    (tmp_path / "junk").write_text("not a key")
    with pytest.raises(UsageError, match="is not a private key"):
        SshAgents.load([SshSource("k", (str(tmp_path / "junk"),))], {})


def test_unknown_requests_fail(tmp_path: Path) -> None:
    agent = KeyAgent.load((str(_key(tmp_path, "ed25519")),), "--ssh x")
    assert agent.answer(bytes([17])) == bytes([5])  # ADD_IDENTITY: refused
    assert agent.answer(bytes([13]) + b"\x00\x00\x00\x05junk") == bytes([5])  # truncated
