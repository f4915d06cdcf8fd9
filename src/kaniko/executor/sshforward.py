"""``--ssh`` agents, forwarded to RUN steps on sockets of their own (BuildKit's sshforward).

Each ``--ssh`` id names an agent: the socket of a running agent (``default`` alone means
``$SSH_AUTH_SOCK``), or key files served by kaniko itself (:mod:`.sshkeys`). Both are
checked when the build starts (a missing socket or an unreadable key is a usage error
before any work). A ``RUN --mount=type=ssh`` gets a new listening socket, owned
``uid:gid`` with ``mode`` (default 0:0, 0600), that lives for the step only: each
connection to it is relayed to the agent's socket (a new connection there each time, so
an agent restarted meanwhile is fine) or answered by the key agent. The step never sees
the agent's own socket path, and nothing of the agent reaches a layer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import stat
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kaniko.errors import UsageError
from kaniko.executor.sshkeys import KeyAgent
from kaniko.options import SshSource

log = logging.getLogger(__name__)

_ACCEPT_POLL = 0.2  # seconds between checks of a listener's stop flag


class Agent(Protocol):
    def handle(self, conn: socket.socket) -> None:
        """Serve one client connection until it is closed."""
        ...


@dataclass(frozen=True)
class UpstreamAgent:
    """A running agent's socket: every connection is relayed to a new one there."""

    path: str

    def handle(self, conn: socket.socket) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            try:
                upstream.connect(self.path)
            except OSError as e:
                log.warning("ssh agent %s: cannot connect (%s)", self.path, e.strerror)
                return
            _relay(conn, upstream)


def _relay(a: socket.socket, b: socket.socket) -> None:
    peers = {a.fileno(): b, b.fileno(): a}
    open_ends = {a.fileno(), b.fileno()}
    while open_ends:
        ready, _, _ = select.select(list(open_ends), [], [])
        for fd in ready:
            source = a if fd == a.fileno() else b
            data = source.recv(65536)
            if not data:
                open_ends.discard(fd)
                with contextlib.suppress(OSError):
                    peers[fd].shutdown(socket.SHUT_WR)
                continue
            peers[fd].sendall(data)


class SshAgents:
    """The agents of one build, by ``--ssh`` id."""

    def __init__(self, agents: Mapping[str, Agent]) -> None:
        self.agents = dict(agents)

    def get(self, agent_id: str) -> Agent | None:
        return self.agents.get(agent_id)

    @classmethod
    def load(cls, sources: Iterable[SshSource], environ: Mapping[str, str]) -> SshAgents:
        """Check and open every ``--ssh`` source (:class:`UsageError` when one is unusable)."""
        agents: dict[str, Agent] = {}
        for source in sources:
            flag = f"--ssh {source.id}"
            paths = source.paths
            if not paths:
                sock = environ.get("SSH_AUTH_SOCK", "")
                if not sock:
                    raise UsageError(f"{flag}: SSH_AUTH_SOCK is not set; give a socket or key")
                paths = (sock,)
            if len(paths) == 1 and _is_socket(paths[0]):
                agents[source.id] = UpstreamAgent(paths[0])
            else:
                agents[source.id] = KeyAgent.load(paths, flag)
        return cls(agents)


NONE = SshAgents({})


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


class Listener:
    """A socket at ``path`` serving ``agent`` until :meth:`close` (see the module docs)."""

    def __init__(self, path: Path, agent: Agent, uid: int, gid: int, mode: int) -> None:
        self.path = path
        self.agent = agent
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        directory = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            # through the directory's descriptor: a socket path may hold 107 bytes at most
            self._sock.bind(f"/proc/self/fd/{directory}/{path.name}")
            os.chown(path, uid, gid)
            os.chmod(path, mode & 0o777)
            self._sock.listen(16)
            self._sock.settimeout(_ACCEPT_POLL)
        except BaseException:
            self._sock.close()
            raise
        finally:
            os.close(directory)
        self._thread = threading.Thread(target=self._accept, name=f"ssh-{path.name}", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.agent.handle(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def close(self) -> None:
        """Stop listening, drop every connection, remove the socket file."""
        self._stop.set()
        self._thread.join()
        self._sock.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
