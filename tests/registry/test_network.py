"""Deadlines and cancellation on real sockets (a tiny in-process server misbehaving).

httpx.MockTransport never blocks, so these use loopback sockets: a registry that accepts
and never answers, one that trickles a byte at a time, and a transfer cancelled from
another thread while it waits.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from kaniko.errors import RegistryError
from kaniko.options import RegistryOptions
from kaniko.registry.client import RegistryClient
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport

PING = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or chunk.startswith(b"\x16"):  # gone, or a TLS hello: plain HTTP only
            return b""
        data += chunk
    return data


@pytest.fixture
def server() -> Iterator[Callable[[Callable[[socket.socket, bytes], None]], str]]:
    """Start a loopback server whose non-ping requests ``behave`` decides; its host:port."""
    stop = threading.Event()
    sockets: list[socket.socket] = []

    def start(behave: Callable[[socket.socket, bytes], None]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def serve(conn: socket.socket) -> None:
            with conn:
                while not stop.is_set():
                    request = _read_request(conn)
                    if not request:
                        return
                    if request.startswith(b"GET /v2/ "):
                        conn.sendall(PING)
                        continue
                    behave(conn, request)
                    return

        def accept() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                sockets.append(conn)
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return f"127.0.0.1:{listener.getsockname()[1]}"

    yield start
    stop.set()
    for sock in sockets:
        sock.close()


def _client(host: str, **timeouts: float) -> RegistryClient:
    options = RegistryOptions(**timeouts)  # type: ignore[arg-type]
    return RegistryClient(Transport(options, Keychain([]), backoff=0), host, "app")


def _silent(conn: socket.socket, request: bytes) -> None:
    time.sleep(30)  # accepts, reads the request, never answers


def test_a_registry_that_never_answers_hits_the_read_timeout(server) -> None:  # type: ignore[no-untyped-def]
    host = server(_silent)
    start = time.monotonic()
    with pytest.raises(RegistryError) as info:
        _client(host, read_timeout=0.3).get_manifest("v1")
    assert str(info.value) == (
        f"registry {host}: app:v1: no answer in time (--registry-read-timeout)"
    )
    assert time.monotonic() - start < 10  # three tries of 0.3 s, not 3 x 300 s


def _trickle(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    for _ in range(300):
        time.sleep(0.05)
        try:
            conn.sendall(b"x")
        except OSError:
            return


def test_a_trickling_registry_hits_the_request_deadline(server) -> None:  # type: ignore[no-untyped-def]
    host = server(_trickle)
    start = time.monotonic()
    with pytest.raises(RegistryError) as info:
        _client(host, read_timeout=5, request_timeout=0.5).get_manifest("v1")
    assert str(info.value) == (
        f"registry {host}: app:v1: request took longer than 0.5s (--registry-request-timeout)"
    )
    assert time.monotonic() - start < 10


def test_cancel_wakes_a_transfer_blocked_on_its_socket(server) -> None:  # type: ignore[no-untyped-def]
    host = server(_silent)
    client = _client(host, read_timeout=60)
    failure: list[BaseException] = []

    def fetch() -> None:
        try:
            client.get_manifest("v1")
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    time.sleep(0.5)  # the request is sent; the thread waits in recv()
    cancelled_at = time.monotonic()
    client.transport.cancel()
    worker.join(10)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 2
    assert [str(e) for e in failure] == [f"registry {host}: app:v1: cancelled"]


def test_no_timeout_means_none(server) -> None:  # type: ignore[no-untyped-def]
    def answer(conn: socket.socket, request: bytes) -> None:
        time.sleep(0.2)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 2\r\n\r\n{}")  # fmt: skip

    host = server(answer)
    raw = _client(host, connect_timeout=0, read_timeout=0, request_timeout=0).get_manifest("v1")
    assert raw.data == b"{}"
