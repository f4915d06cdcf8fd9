"""The distribution-spec verbs against one repository of one registry.

:class:`RegistryClient` reads and writes manifests and blobs with the right scopes,
streaming blobs both ways (never a whole layer in memory), verifying what it reads by
digest, and retrying only what may succeed when tried again (connection failures, 408,
429, 5xx) with exponential backoff. A 401 renews the token once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO

import httpx

from kaniko.errors import ImageError, RegistryError
from kaniko.iotools import CHUNK
from kaniko.oci.digest import Digest, VerifyingReader
from kaniko.oci.mediatypes import MANIFEST_ACCEPT, SCHEMA1_TYPES
from kaniko.registry.auth import reason, scope
from kaniko.registry.blobread import ResumingBody
from kaniko.registry.errors import RegistryStatusError, is_transient, registry_error
from kaniko.registry.transport import Endpoint, Transport

log = logging.getLogger(__name__)

MAX_MANIFEST_SIZE = 4 * 1024 * 1024  # containerd's limit; the distribution spec's minimum
Progress = Callable[[int], None]
Opener = Callable[[], AbstractContextManager[BinaryIO]]
"""Opens a fresh stream of a blob to upload (a layer's ``open_compressed``)."""


@dataclass(frozen=True)
class RawManifest:
    """A manifest or index as the registry sent it."""

    data: bytes
    media_type: str
    digest: Digest


class RegistryClient:
    """Verbs on ``registry/repository``; ``push`` selects the push-side TLS policy."""

    def __init__(
        self,
        transport: Transport,
        registry: str,
        repository: str,
        *,
        push: bool = False,
        retries: int | None = None,
        backoff: float | None = None,
    ) -> None:
        """``retries`` and ``backoff`` default to the transport's."""
        self.transport = transport
        self.registry = registry
        self.repository = repository
        self.push = push
        self.retries = transport.retries if retries is None else retries
        self.backoff = transport.backoff if backoff is None else backoff
        actions = ("pull", "push") if push else ("pull",)
        self.scopes: tuple[str, ...] = (scope(repository, *actions),)

    # -- plumbing -------------------------------------------------------------------------
    @property
    def endpoint(self) -> Endpoint:
        return self.transport.endpoint(self.registry, push=self.push)

    def url(self, path: str) -> str:
        return f"{self.endpoint.base_url}/v2/{self.repository}/{path}"

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        headers: dict[str, str] | None = None,
        content: Callable[[], bytes | Iterator[bytes]] | None = None,
        scopes: tuple[str, ...] | None = None,
        stream: bool = False,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send with auth, one token renewal on 401 and retries on temporary failures.

        ``content`` is a factory so that a retried request gets a fresh body. With
        ``stream=True`` the caller must close the response.
        """
        ep = self.endpoint
        scopes = scopes or self.scopes
        renewed = False
        attempt = 0
        while True:
            request_headers = dict(headers or {})
            authorization = ep.auth.authorization(scopes)
            if authorization:
                request_headers["Authorization"] = authorization
            body = content() if content is not None else None
            try:
                request = ep.http.build_request(method, url, headers=request_headers, content=body)
                response = ep.http.send(request, stream=stream)
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                if self.transport.cancelled:
                    raise RegistryError(f"registry {self.registry}: {what}: cancelled") from e
                if is_transient(e) and attempt < self.retries:
                    attempt += 1
                    self.backoff_pause(attempt, what, reason(e))
                    continue
                raise RegistryError(f"registry {self.registry}: {what}: {reason(e)}") from e
            if response.status_code in ok:
                return response
            if stream:
                response = _drained(response)
            if (
                response.status_code == 401
                and not renewed
                and ep.auth.retry_after(response, scopes)
            ):
                renewed = True
                continue
            refused = response.status_code in (401, 403)
            hint = ep.auth.explain() if refused else ""
            error = registry_error(response, self.registry, what, hint)
            if error.temporary and attempt < self.retries:
                attempt += 1
                self.backoff_pause(attempt, what, str(error), response.headers.get("Retry-After"))
                continue
            raise error

    def backoff_pause(
        self, attempt: int, what: str, why: str, retry_after: str | None = None
    ) -> None:
        """Wait before try ``attempt`` + 1; a cancelled transport ends the wait and the try."""
        delay = self.backoff * 2 ** (attempt - 1)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 60.0))
        log.warning("%s: %s; retrying in %.1fs (%d/%d)", what, why, delay, attempt, self.retries)
        if self.transport.pause(delay):
            raise RegistryError(f"registry {self.registry}: {what}: cancelled")

    def get_stream(self, url: str, what: str, headers: dict[str, str]) -> httpx.Response:
        """A streamed GET (for :class:`~kaniko.registry.blobread.ResumingBody`)."""
        ok = (200, 206, 416) if "Range" in headers else (200,)
        return self._send("GET", url, what, headers=headers, stream=True, ok=ok)

    def _what(self, reference: str = "") -> str:
        sep = "@" if reference.startswith("sha") and ":" in reference else ":"
        return f"{self.repository}{sep}{reference}" if reference else self.repository

    # -- manifests ----------------------------------------------------------------------
    def get_manifest(self, reference: str) -> RawManifest:
        """GET a manifest or index by tag or digest, verified when asked by digest."""
        what = self._what(reference)
        accept = ", ".join(MANIFEST_ACCEPT)
        response = self._send(
            "GET",
            self.url(f"manifests/{reference}"),
            what,
            headers={"Accept": accept},
            stream=True,
        )
        try:
            data = _read_limited(response, MAX_MANIFEST_SIZE)
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise RegistryError(f"registry {self.registry}: {what}: {reason(e)}") from e
        finally:
            response.close()
        if data is None:
            raise ImageError(
                f"{self.registry}/{what}: manifest larger than {MAX_MANIFEST_SIZE >> 20} MiB "
                "(the limit containerd applies too)"
            )
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if media_type in SCHEMA1_TYPES:
            raise ImageError(
                f"{self.registry}/{what}: schema 1 manifests are not supported "
                "(push the image again with a current client)"
            )
        digest = Digest.of(data)
        if ":" in reference and reference.startswith("sha"):
            expected = Digest.parse(reference)
            if Digest.of(data, expected.algorithm) != expected:
                raise ImageError(f"{self.registry}/{what}: manifest digest mismatch")
            digest = expected
        return RawManifest(data, media_type, digest)

    def manifest_digest(self, reference: str) -> Digest | None:
        """HEAD a manifest: its digest, or None when the registry does not have it."""
        headers = {"Accept": ", ".join(MANIFEST_ACCEPT)}
        url = self.url(f"manifests/{reference}")
        response = self._send("HEAD", url, self._what(reference), headers=headers, ok=(200, 404))
        if response.status_code == 404:
            return None
        header = response.headers.get("Docker-Content-Digest")
        return Digest.parse(header) if header else self.get_manifest(reference).digest

    def put_manifest(self, reference: str, data: bytes, media_type: str) -> Digest:
        """PUT a manifest under a tag or its digest; returns its digest."""
        self._send(
            "PUT",
            self.url(f"manifests/{reference}"),
            self._what(reference),
            headers={"Content-Type": media_type},
            content=lambda: data,
            ok=(200, 201, 202),
        )
        return Digest.of(data)

    # -- blobs --------------------------------------------------------------------------
    def blob_exists(self, digest: Digest) -> bool:
        url = self.url(f"blobs/{digest}")
        response = self._send("HEAD", url, self._what(str(digest)), ok=(200, 404))
        return response.status_code == 200

    @contextlib.contextmanager
    def open_blob(
        self, digest: Digest, size: int | None = None, progress: Progress | None = None
    ) -> Iterator[BinaryIO]:
        """Stream a blob; reading it to the end verifies its size and digest."""
        what = self._what(str(digest))
        body = ResumingBody(self, self.url(f"blobs/{digest}"), what, size, progress)
        try:
            reader = VerifyingReader(body, digest, size, what=f"{self.registry}/{what}")
            yield reader  # type: ignore[misc]  # a raw stream; layer consumers only read() it
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise RegistryError(f"registry {self.registry}: {what}: {reason(e)}") from e
        finally:
            body.close()

    def check_push_permission(self) -> None:
        """Start an upload and cancel it: fails early when pushing is not allowed."""
        response = self._send(
            "POST", self.url("blobs/uploads/"), f"{self.repository} (push check)", ok=(202,)
        )
        location = response.headers.get("Location")
        if location:
            with contextlib.suppress(RegistryError):
                self._send("DELETE", self._absolute(location), self.repository, ok=(204, 404))

    def _absolute(self, location: str) -> str:
        try:
            return str(httpx.URL(self.endpoint.base_url).join(location))
        except httpx.InvalidURL as e:
            raise RegistryError(
                f"registry {self.registry}: {self.repository}: unusable upload location: {e}"
            ) from None

    def _location(self, response: httpx.Response, what: str) -> str:
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(
                f"registry {self.registry}: {what}: upload answer without a Location header"
            )
        return self._absolute(location)

    def upload_blob(
        self,
        opener: Opener,
        digest: Digest,
        size: int,
        *,
        mount_from: tuple[str, ...] = (),
        chunk_size: int | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Upload a blob unless the registry has it; returns how: exists/mounted/uploaded.

        Tries a cross-repository mount from each of ``mount_from`` (repositories of the
        same registry) first. Uploads monolithically, or in chunks of ``chunk_size``.
        """
        if self.blob_exists(digest):
            return "exists"
        what = self._what(str(digest))
        for source in mount_from:
            scopes = (*self.scopes, scope(source, "pull"))
            url = self.url(f"blobs/uploads/?mount={digest}&from={source}")
            response = self._send("POST", url, what, scopes=scopes, ok=(201, 202))
            if response.status_code == 201:
                return "mounted"
            location = response.headers.get("Location")
            if location:  # the registry could not mount: cancel the upload it opened
                with contextlib.suppress(RegistryError):
                    self._send("DELETE", self._absolute(location), what, ok=(204, 404))
        response = self._send("POST", self.url("blobs/uploads/"), what, ok=(202,))
        location = self._location(response, what)
        if chunk_size:
            location = self._patch_chunks(location, opener, size, chunk_size, what, progress)
            body: Callable[[], bytes | Iterator[bytes]] = lambda: b""  # noqa: E731
            length = 0
        else:
            body = lambda: _file_chunks(opener, progress)  # noqa: E731
            length = size
        final = str(httpx.URL(location).copy_add_param("digest", str(digest)))
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
        self._send("PUT", final, what, headers=headers, content=body, ok=(201, 204))
        return "uploaded"

    def upload_stream(self, body: Iterator[bytes], digest: Callable[[], Digest]) -> None:
        """Upload a blob while it is being produced: ``body`` in one ``PATCH`` of chunked
        transfer encoding (the stream upload of ``docker push``), then the closing ``PUT``
        with ``digest()``, asked once the body is exhausted. Every request is sent once:
        the blob is still being made."""
        what = self._what("streamed blob")
        response = self._send("POST", self.url("blobs/uploads/"), what, ok=(202,))
        location = self._location(response, what)
        headers = {"Content-Type": "application/octet-stream"}
        response = self._send(
            "PATCH", location, what, headers=headers, content=lambda: body, ok=(202,)
        )
        location = self._absolute(response.headers.get("Location", location))
        final = str(httpx.URL(location).copy_add_param("digest", str(digest())))
        headers = {"Content-Type": "application/octet-stream", "Content-Length": "0"}
        self._send("PUT", final, what, headers=headers, content=lambda: b"", ok=(201, 204))

    def _patch_chunks(
        self,
        location: str,
        opener: Opener,
        size: int,
        chunk_size: int,
        what: str,
        progress: Progress | None,
    ) -> str:
        offset = 0
        with opener() as f:
            while offset < size:
                data = f.read(chunk_size)
                if not data:
                    raise RegistryError(f"{what}: blob source ended at {offset} of {size} bytes")
                headers = {
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(data) - 1}",
                    "Content-Length": str(len(data)),
                }
                response = self._send(
                    "PATCH", location, what, headers=headers, content=_returning(data), ok=(202,)
                )
                location = self._absolute(response.headers.get("Location", location))
                offset += len(data)
                if progress:
                    progress(len(data))
        return location


def _returning(data: bytes) -> Callable[[], bytes]:
    """A request body opener that gives ``data`` (bound now, not when called)."""
    return lambda: data


def _drained(response: httpx.Response) -> httpx.Response:
    """A streamed error answer read (its first 64 KiB at most) and closed."""
    try:
        body = _read_limited(response, 64 * 1024) or b""
    except (httpx.HTTPError, httpx.InvalidURL):
        body = b""
    finally:
        response.close()
    return httpx.Response(response.status_code, headers=response.headers, content=body)


def _read_limited(response: httpx.Response, limit: int) -> bytes | None:
    """A streamed response's body, or None when it is larger than ``limit`` bytes."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        return None
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes(CHUNK):
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _file_chunks(opener: Opener, progress: Progress | None) -> Iterator[bytes]:
    with opener() as f:
        while chunk := f.read(CHUNK):
            if progress:
                progress(len(chunk))
            yield chunk


__all__ = ["RawManifest", "RegistryClient", "RegistryStatusError"]
