"""A TCP proxy in front of a real lab registry that misbehaves on cue.

The real registry never drops a connection mid-blob, answers 503 or stalls; this proxy
does, for the requests a test names, and passes everything else through untouched. It
speaks just enough HTTP/1.1 to find where each request and response begins and ends
(``Content-Length`` and chunked bodies; httpx never pipelines, so it works in lockstep:
one request, then its response). A :class:`Rule` picks requests by method and path and
says what happens to the first ``times`` of them:

- ``status``: answer with that HTTP status (no body) without asking the registry;
- ``reset``: pass the response's head and ``after`` bytes of its body, then send a TCP
  reset; ``truncate``: the same, then close cleanly (the body ends early);
- ``stall``: take the request and never answer (until the proxy stops).

Each rule's ``hit`` event is set when it fires, so a test can act at that moment.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
from dataclasses import dataclass, field

_CHUNK = 64 * 1024


@dataclass
class Rule:
    method: str
    path: str  # a regular expression searched in the request path
    action: str  # "status", "reset", "truncate" or "stall"
    status: int = 503
    after: int = 0  # body bytes passed before a reset or truncation
    times: int = 1
    hit: threading.Event = field(default_factory=threading.Event)
    fired: int = 0


class _Stream:
    """Buffered reads from a socket: lines and exact counts."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        data = self.sock.recv(_CHUNK)
        self.buffer += data
        return bool(data)

    def head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return b""
        end = self.buffer.index(b"\r\n\r\n") + 4
        head, self.buffer = self.buffer[:end], self.buffer[end:]
        return head

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError("closed inside a chunked body")
        end = self.buffer.index(b"\r\n") + 2
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def pieces(self, count: int):  # type: ignore[no-untyped-def]
        """Yield exactly ``count`` bytes, as they come."""
        while count > 0:
            if not self.buffer and not self._fill():
                raise ConnectionError("closed inside a body")
            piece, self.buffer = self.buffer[:count], self.buffer[count:]
            count -= len(piece)
            yield piece

    def rest(self):  # type: ignore[no-untyped-def]
        if self.buffer:
            yield self.buffer
            self.buffer = b""
        while self._fill():
            yield self.buffer
            self.buffer = b""


def _header(head: bytes, name: str) -> str | None:
    found = re.search(rb"(?im)^" + name.encode() + rb":\s*([^\r\n]*)", head)
    return found.group(1).decode().strip() if found else None


def _body(stream: _Stream, head: bytes, *, response: bool, no_body: bool):  # type: ignore[no-untyped-def]
    """The raw bytes of the body that follows ``head``."""
    if no_body:
        return
    if (_header(head, "Transfer-Encoding") or "").lower() == "chunked":
        while True:
            line = stream.line()
            yield line
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while (trailer := stream.line()) != b"\r\n":
                    yield trailer
                yield b"\r\n"
                return
            yield from stream.pieces(size + 2)
    length = _header(head, "Content-Length")
    if length is not None:
        yield from stream.pieces(int(length))
    elif response:
        yield from stream.rest()


class FaultProxy:
    """Listens on a loopback port and relays to ``upstream`` (host:port)."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.rules: list[Rule] = []
        self.log: list[str] = []  # "METHOD path" of every request seen
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def stop(self) -> None:
        self._stop.set()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _rule_for(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.method == method and re.search(rule.path, path) and rule.fired < rule.times:
                    rule.fired += 1
                    return rule
        return None

    def _relay(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            incoming = _Stream(client)
            if not incoming._fill():
                return
            if incoming.buffer.startswith(b"\x16"):  # a TLS hello: let the registry refuse it
                upstream = socket.create_connection(self.upstream)
                self._sockets.append(upstream)
                upstream.sendall(incoming.buffer)
                while data := upstream.recv(_CHUNK):
                    client.sendall(data)
                return
            while not self._stop.is_set():
                head = incoming.head()
                if not head:
                    return
                method, path = head.split(b" ", 2)[:2]
                request = f"{method.decode()} {path.decode()}"
                self.log.append(request)
                rule = self._rule_for(method.decode(), path.decode())
                body = _body(incoming, head, response=False, no_body=False)
                if rule is not None and rule.action == "stall":
                    rule.hit.set()
                    self._stop.wait()
                    return
                if rule is not None and rule.action == "status":
                    for _ in body:
                        pass
                    rule.hit.set()  # before the answer: whoever reads it may look at hit
                    client.sendall(
                        f"HTTP/1.1 {rule.status} Injected\r\nContent-Length: 0\r\n\r\n".encode()
                    )
                    continue
                if upstream is None:
                    upstream = socket.create_connection(self.upstream)
                    self._sockets.append(upstream)
                    answers = _Stream(upstream)
                upstream.sendall(head)
                for piece in body:
                    upstream.sendall(piece)
                if not self._answer(client, answers, head, method, rule):
                    return
        except (OSError, ConnectionError, ValueError):
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()

    def _answer(
        self,
        client: socket.socket,
        answers: _Stream,
        request: bytes,
        method: bytes,
        rule: Rule | None,
    ) -> bool:
        """Relay one response; False when the connection was cut on purpose."""
        head = answers.head()
        if not head:
            return False
        status = int(head.split(b" ", 2)[1])
        no_body = method == b"HEAD" or status in (204, 304) or status < 200
        client.sendall(head)
        sent = 0
        for piece in _body(answers, head, response=True, no_body=no_body):
            if rule is not None and sent + len(piece) > rule.after:
                client.sendall(piece[: rule.after - sent])
                rule.hit.set()
                if rule.action == "reset":  # RST instead of FIN: "connection reset by peer"
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    client.shutdown(socket.SHUT_WR)
                return False
            client.sendall(piece)
            sent += len(piece)
        return True
