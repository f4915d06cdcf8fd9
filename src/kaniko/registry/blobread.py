"""Reading a blob's body, picking up where it broke off when the connection fails.

A layer of a few hundred megabytes crosses proxies and load balancers that drop
connections now and then. :class:`ResumingBody` reads a blob's body for
:class:`~kaniko.oci.digest.VerifyingReader`; when the connection is reset, or the body
ends before the size the manifest gives, it asks again for the rest with
``Range: bytes=N-`` (the distribution spec allows it; registries and the storage they
redirect to honour it) and carries on. A registry that answers the range with the whole
blob (200) works too: the first N bytes are skipped. The retries are bounded and backed
off like every other request's; the digest of the whole is still checked at the end.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Protocol

import httpx

from kaniko.errors import ImageError, RegistryError
from kaniko.registry.errors import describe, is_transient

log = logging.getLogger(__name__)

_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(?:\d+|\*)")
Progress = Callable[[int], None]


class Requester(Protocol):
    """What :class:`ResumingBody` needs of the client: a GET with retries, and a pause."""

    registry: str
    retries: int

    def get_stream(self, url: str, what: str, headers: dict[str, str]) -> httpx.Response: ...

    def backoff_pause(self, attempt: int, what: str, why: str) -> None: ...


class ResumingBody:
    """``read(n)`` over a blob's body that resumes after a dropped connection."""

    def __init__(
        self,
        client: Requester,
        url: str,
        what: str,
        size: int | None,
        progress: Progress | None,
    ) -> None:
        self._client = client
        self._url = url
        self._what = what
        self._size = size
        self._progress = progress
        self._received = 0
        self._failures = 0
        self._buffer = bytearray()  # received, not yet read: appended in place, never re-copied
        self._response: httpx.Response | None = None
        self._chunks: Iterator[bytes] | None = None
        self._open({})

    def _open(self, headers: dict[str, str]) -> None:
        self._response = self._client.get_stream(self._url, self._what, headers)
        self._chunks = self._response.iter_bytes()  # as it arrives: nothing held back

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def read(self, size: int = -1, /) -> bytes:
        while len(self._buffer) < max(size, 1):
            chunk = self._next_chunk()
            if not chunk:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _next_chunk(self) -> bytes:
        while True:
            assert self._chunks is not None
            try:
                chunk = next(self._chunks, b"")
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                if not is_transient(e):
                    raise RegistryError(
                        f"registry {self._client.registry}: {self._what}: {describe(e)}"
                    ) from e
                self._resume(describe(e))
                continue
            if chunk:
                self._received += len(chunk)
                if self._progress:
                    self._progress(len(chunk))
                return chunk
            if self._size is None or self._received >= self._size:
                return b""
            self._resume(f"body ended after {self._received} of {self._size} bytes")

    def _resume(self, why: str) -> None:
        """Ask again for what is missing, or raise once the retries are spent."""
        self.close()
        self._failures += 1
        if self._failures > self._client.retries:
            if self._size is not None and self._received < self._size:
                raise ImageError(
                    f"{self._client.registry}/{self._what}: truncated: got "
                    f"{self._received} of {self._size} bytes ({why})"
                )
            raise RegistryError(f"registry {self._client.registry}: {self._what}: {why}")
        self._client.backoff_pause(self._failures, self._what, why)
        log.info("%s: resuming the download at byte %d", self._what, self._received)
        self._open({"Range": f"bytes={self._received}-"})
        assert self._response is not None
        if self._response.status_code == 416:  # nothing past what we have: it is short
            self.close()
            raise ImageError(
                f"{self._client.registry}/{self._what}: truncated: got "
                f"{self._received} of {self._size} bytes (the registry has no more)"
            )
        if self._response.status_code == 206:
            found = _CONTENT_RANGE.match(self._response.headers.get("Content-Range", ""))
            if found is None or int(found.group(1)) != self._received:
                raise RegistryError(
                    f"registry {self._client.registry}: {self._what}: the resumed download "
                    "started at the wrong byte"
                )
            return
        self._skip(self._received)  # the whole blob again: drop what we already have

    def _skip(self, count: int) -> None:
        assert self._chunks is not None
        while count > 0:
            chunk = next(self._chunks, b"")
            if not chunk:
                raise RegistryError(
                    f"registry {self._client.registry}: {self._what}: the blob is shorter "
                    "on the second read"
                )
            if len(chunk) > count:
                self._buffer += chunk[count:]
                self._received += len(chunk) - count
                if self._progress:
                    self._progress(len(chunk) - count)
            count -= len(chunk)
