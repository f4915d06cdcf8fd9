"""The sockets under the registry client: deadlines per request, and cancelling them all.

httpx bounds each connect and each read or write, but not a request as a whole: a
registry that trickles one byte a minute keeps a build forever. And a thread blocked in
``recv``/``send`` (a stalled upload) cannot be woken by closing its socket from another
thread, so an interrupted build used to wait for the upload thread's read timeout.

:class:`RegistryHTTPTransport` is httpx's own transport over a :class:`TrackingBackend`,
httpcore's socket backend with two additions:

- every read, write and connect is bounded by the deadline of the request it belongs to
  (``request_timeout`` from the start of the request until its body has been read), on
  top of httpx's per-operation timeouts;
- :meth:`TrackingBackend.cancel` shuts down every open socket (``shutdown(2)`` wakes a
  thread blocked on it), and refuses new connections: what :func:`cancel_all` does for
  every transport of the process when the CLI receives SIGTERM or SIGINT.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

_local = threading.local()  # .deadline: (monotonic end, timeout) of the request in progress
_BACKENDS: weakref.WeakSet[TrackingBackend] = weakref.WeakSet()
_BACKENDS_LOCK = threading.RLock()  # reentrant: cancel_all runs in signal handlers


class Cancelled(httpcore.NetworkError):
    """The transport was cancelled (the build is being interrupted)."""


def cancel_all() -> None:
    """Cancel every registry transfer of this process (safe in a signal handler)."""
    with _BACKENDS_LOCK:
        backends = list(_BACKENDS)
    for backend in backends:
        backend.cancel()


@contextlib.contextmanager
def request_deadline(seconds: float | None) -> Iterator[None]:
    """Socket operations of this thread inside the block end by ``seconds`` from now."""
    saved = getattr(_local, "deadline", None)
    _local.deadline = None if not seconds else (time.monotonic() + seconds, seconds)
    try:
        yield
    finally:
        _local.deadline = saved


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of the current request's deadline."""
    deadline: tuple[float, float] | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline[0] - time.monotonic()
    if left <= 0:
        raise error(f"request took longer than {deadline[1]:g}s (--registry-request-timeout)")
    return left if timeout is None else min(timeout, left)


@contextlib.contextmanager
def _timing(error: type[Exception]) -> Iterator[None]:
    """Report a timeout that the request's deadline caused as that deadline."""
    try:
        yield
    except error:
        _bounded(None, error)  # raises the deadline's message if it has passed
        raise


class _TrackedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, backend: TrackingBackend) -> None:
        self._inner = inner
        self._backend = backend
        backend.track(self)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._backend.check()
        with _timing(httpcore.ReadTimeout):
            return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._backend.check()
        with _timing(httpcore.WriteTimeout):
            self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._backend.forget(self)
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        self._backend.forget(self)
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _TrackedStream(
            self._inner.start_tls(ssl_context, server_hostname, bounded), self._backend
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    def abort(self) -> None:
        """Wake whatever thread is blocked on this socket; the connection is unusable after."""
        sock = self._inner.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class TrackingBackend(httpcore.NetworkBackend):
    """httpcore's sync socket backend, with request deadlines and cancellation."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._streams: weakref.WeakSet[_TrackedStream] = weakref.WeakSet()
        self._lock = threading.RLock()  # reentrant, as _BACKENDS_LOCK
        self.cancelled = threading.Event()
        with _BACKENDS_LOCK:
            _BACKENDS.add(self)

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled("cancelled: the build is being interrupted")

    def track(self, stream: _TrackedStream) -> None:
        with self._lock:
            self._streams.add(stream)
        if self.cancelled.is_set():  # cancelled while this one was connecting
            stream.abort()

    def forget(self, stream: _TrackedStream) -> None:
        with self._lock:
            self._streams.discard(stream)

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.abort()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        self.check()
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _TrackedStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        self.check()
        return _TrackedStream(self._inner.connect_unix_socket(path, timeout, socket_options), self)

    def sleep(self, seconds: float) -> None:
        self.cancelled.wait(seconds)


class _DeadlineBody(httpx.SyncByteStream):
    """A response body whose socket reads stay under its request's deadline."""

    def __init__(self, inner: httpx.SyncByteStream, seconds: float | None) -> None:
        self._inner = inner
        self._deadline = getattr(_local, "deadline", None) if seconds else None

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            saved, _local.deadline = getattr(_local, "deadline", None), self._deadline
            try:
                chunk = next(chunks, None)
            finally:
                _local.deadline = saved
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class RegistryHTTPTransport(httpx.HTTPTransport):
    """httpx's transport over a :class:`TrackingBackend`, with a deadline per request."""

    def __init__(
        self, *, verify: Any, request_timeout: float | None, backend: TrackingBackend
    ) -> None:
        super().__init__(verify=verify)
        self._request_timeout = request_timeout
        # httpx builds its httpcore pool without a way to pass a network backend: the
        # pool's one attribute for it is set here (tests/registry/test_network.py fails
        # loudly should httpx or httpcore rename it).
        if not hasattr(self._pool, "_network_backend"):
            raise RuntimeError("httpcore.ConnectionPool has no _network_backend")
        self._pool._network_backend = backend

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with request_deadline(self._request_timeout):
            response = super().handle_request(request)
            assert isinstance(response.stream, httpx.SyncByteStream)
            response.stream = _DeadlineBody(response.stream, self._request_timeout)
        return response
