"""Fault injection with an in-process fake registry (httpx.MockTransport).

The lab's real registries prove the happy and refusal paths; these cover what a real
registry will not do on demand: 5xx storms, 429 with Retry-After, dropped connections,
truncated and corrupted blobs, a token that expires mid-build.
"""

from __future__ import annotations

import hashlib
import io

import httpx
import pytest

from kaniko.errors import ImageError, RegistryError
from kaniko.oci.digest import Digest
from kaniko.options import RegistryOptions
from kaniko.registry.client import RegistryClient
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport

HOST = "registry.test"
BLOB = b"x" * 5000
BLOB_DIGEST = Digest.of(BLOB)


class Fake:
    """A scripted registry: a queue of answers per (method, path suffix)."""

    def __init__(self) -> None:
        self.script: dict[tuple[str, str], list[httpx.Response | Exception]] = {}
        self.calls: list[tuple[str, str]] = []
        self.ping = httpx.Response(200)

    def on(self, method: str, suffix: str, *answers: httpx.Response | Exception) -> None:
        self.script.setdefault((method, suffix), []).extend(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append((request.method, path))
        if path == "/v2/":
            return self.ping
        for (method, suffix), answers in self.script.items():
            if method == request.method and path.endswith(suffix) and answers:
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return httpx.Response(404, json={"errors": [{"code": "NOT_FOUND", "message": path}]})


def _client(fake: Fake, retries: int = 2) -> RegistryClient:
    transport = Transport(RegistryOptions(), Keychain([]), http_transport=httpx.MockTransport(fake))
    return RegistryClient(transport, HOST, "app", retries=retries, backoff=0)


def test_server_errors_are_retried_then_succeed() -> None:
    fake = Fake()
    fake.on(
        "GET",
        f"/blobs/{BLOB_DIGEST}",
        httpx.Response(503),
        httpx.Response(500),
        httpx.Response(200, content=BLOB),
    )
    client = _client(fake)
    with client.open_blob(BLOB_DIGEST, len(BLOB)) as f:
        assert f.read() == BLOB
    assert fake.calls.count(("GET", f"/v2/app/blobs/{BLOB_DIGEST}")) == 3


def test_retries_are_bounded_and_the_error_is_one_line() -> None:
    fake = Fake()
    fake.on("GET", "/manifests/v1", httpx.Response(502))
    client = _client(fake, retries=3)
    with pytest.raises(RegistryError) as info:
        client.get_manifest("v1")
    assert str(info.value) == f"registry {HOST}: app:v1: HTTP 502: bad gateway"
    assert fake.calls.count(("GET", "/v2/app/manifests/v1")) == 4


def test_client_errors_are_not_retried() -> None:
    fake = Fake()
    body = {"errors": [{"code": "MANIFEST_INVALID", "message": "manifest invalid"}]}
    fake.on("PUT", "/manifests/v1", httpx.Response(400, json=body))
    client = _client(fake)
    with pytest.raises(RegistryError, match="MANIFEST_INVALID: manifest invalid"):
        client.put_manifest("v1", b"{}", "application/vnd.oci.image.manifest.v1+json")
    assert fake.calls.count(("PUT", "/v2/app/manifests/v1")) == 1


def test_too_many_requests_is_retried() -> None:
    fake = Fake()
    body = {"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}
    fake.on(
        "HEAD",
        f"/blobs/{BLOB_DIGEST}",
        httpx.Response(429, json=body, headers={"Retry-After": "0"}),
        httpx.Response(200),
    )
    assert _client(fake).blob_exists(BLOB_DIGEST)


def test_dropped_connections_are_retried_then_reported() -> None:
    fake = Fake()
    fake.on("GET", "/manifests/v1", httpx.ConnectError("connection reset by peer"))
    with pytest.raises(RegistryError, match=r"registry registry\.test: app:v1: connection reset"):
        _client(fake, retries=1).get_manifest("v1")


def test_truncated_and_corrupt_blobs_are_refused() -> None:
    fake = Fake()
    fake.on("GET", f"/blobs/{BLOB_DIGEST}", httpx.Response(200, content=BLOB[:100]))
    with (
        pytest.raises(ImageError, match="truncated"),
        _client(fake).open_blob(BLOB_DIGEST, len(BLOB)) as f,
    ):
        f.read()
    fake = Fake()
    fake.on("GET", f"/blobs/{BLOB_DIGEST}", httpx.Response(200, content=b"y" * 5000))
    with (
        pytest.raises(ImageError, match="digest mismatch"),
        _client(fake).open_blob(BLOB_DIGEST, len(BLOB)) as f,
    ):
        f.read()


def test_manifest_by_digest_is_verified() -> None:
    fake = Fake()
    wanted = "sha256:" + hashlib.sha256(b'{"a":1}').hexdigest()
    fake.on("GET", f"/manifests/{wanted}", httpx.Response(200, content=b'{"a":2}'))
    with pytest.raises(ImageError, match="manifest digest mismatch"):
        _client(fake).get_manifest(wanted)


def test_schema1_is_refused_clearly() -> None:
    fake = Fake()
    fake.on(
        "GET",
        "/manifests/old",
        httpx.Response(
            200,
            content=b"{}",
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"},
        ),
    )
    with pytest.raises(ImageError, match="schema 1 manifests are not supported"):
        _client(fake).get_manifest("old")


def test_expired_token_is_renewed_once() -> None:
    fake = Fake()
    challenge = 'Bearer realm="https://registry.test/token",service="fake"'
    fake.ping = httpx.Response(401, headers={"WWW-Authenticate": challenge})
    fake.on("GET", "/token", *(httpx.Response(200, json={"token": t}) for t in ["t1", "t2"]))
    seen: list[str] = []

    def manifests(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization", ""))
        if len(seen) == 1:
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return httpx.Response(200, content=b"{}", headers={"Content-Type": "application/json"})

    def router(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/manifests/v1"):
            return manifests(request)
        return fake(request)

    transport = Transport(
        RegistryOptions(), Keychain([]), http_transport=httpx.MockTransport(router)
    )
    client = RegistryClient(transport, HOST, "app", backoff=0)
    client.get_manifest("v1")
    assert seen == ["Bearer t1", "Bearer t2"]


def test_v1_only_registry() -> None:
    fake = Fake()
    fake.ping = httpx.Response(404)
    with pytest.raises(RegistryError, match="v1-only registries are not supported"):
        _client(fake).get_manifest("v1")


# -- issue 10: every HTTP failure is one registry line; transient faults are retried ------


class _Broken(httpx.SyncByteStream):
    """A body that sends ``data`` and then fails like a reset connection."""

    def __init__(self, data: bytes, error: Exception | None = None) -> None:
        self._data = data
        self._error = error

    def __iter__(self):  # type: ignore[override]
        yield self._data
        if self._error is not None:
            raise self._error


def _routed(handler) -> RegistryClient:  # type: ignore[no-untyped-def]
    transport = Transport(
        RegistryOptions(), Keychain([]), http_transport=httpx.MockTransport(handler), backoff=0
    )
    return RegistryClient(transport, HOST, "app")


def test_a_redirect_loop_is_one_registry_line() -> None:
    def loop(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(307, headers={"Location": request.url.path})

    with pytest.raises(RegistryError) as info:
        _routed(loop).get_manifest("v1")
    assert str(info.value) == (f"registry {HOST}: app:v1: too many redirects (a redirect loop?)")


def test_one_503_on_the_ping_is_retried() -> None:
    pings = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            pings.append(1)
            return httpx.Response(503 if len(pings) == 1 else 200)
        return httpx.Response(200, content=BLOB)

    with _routed(handler).open_blob(BLOB_DIGEST, len(BLOB)) as f:
        assert f.read() == BLOB
    assert len(pings) == 2


def test_a_ping_failing_for_good_fails_after_the_retries() -> None:
    pings = []

    def handler(request: httpx.Request) -> httpx.Response:
        pings.append(request.url.path)
        return httpx.Response(503)

    with pytest.raises(RegistryError) as info:
        _routed(handler).get_manifest("v1")
    assert str(info.value) == f"registry {HOST}: ping /v2/ answered HTTP 503"
    assert pings == ["/v2/"] * 3


def test_a_connection_reset_mid_blob_resumes_with_a_range_request() -> None:
    ranges: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        ranges.append(request.headers.get("Range"))
        if len(ranges) == 1:
            reset = httpx.ReadError("connection reset by peer")
            return httpx.Response(200, stream=_Broken(BLOB[:1200], reset))
        start = int(request.headers["Range"].removeprefix("bytes=").removesuffix("-"))
        return httpx.Response(
            206,
            content=BLOB[start:],
            headers={"Content-Range": f"bytes {start}-{len(BLOB) - 1}/{len(BLOB)}"},
        )

    with _routed(handler).open_blob(BLOB_DIGEST, len(BLOB)) as f:
        assert f.read() == BLOB
    assert ranges == [None, "bytes=1200-"]


def test_a_truncated_body_resumes_and_a_registry_without_ranges_is_skipped_over() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        calls.append(request.headers.get("Range"))
        body = BLOB[:700] if len(calls) == 1 else BLOB  # then the whole blob, Range ignored
        return httpx.Response(200, content=body)

    seen: list[int] = []
    with _routed(handler).open_blob(BLOB_DIGEST, len(BLOB), seen.append) as f:
        assert f.read() == BLOB
    assert calls == [None, "bytes=700-"]
    assert sum(seen) == len(BLOB)  # progress counts each byte once


def test_a_blob_that_keeps_breaking_fails_after_the_retries() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(200, stream=_Broken(b"", httpx.ReadError("connection reset")))

    client = _routed(handler)
    with pytest.raises(ImageError) as info, client.open_blob(BLOB_DIGEST, len(BLOB)) as f:
        f.read()
    assert str(info.value) == (
        f"{HOST}/app@{BLOB_DIGEST}: truncated: got 0 of {len(BLOB)} bytes (connection reset)"
    )


def test_a_manifest_above_4_mib_is_refused_without_reading_it() -> None:
    class Endless(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[override]
            while True:
                yield b" " * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(200, stream=Endless())

    with pytest.raises(ImageError) as info:
        _routed(handler).get_manifest("v1")
    assert str(info.value) == (
        f"{HOST}/app:v1: manifest larger than 4 MiB (the limit containerd applies too)"
    )


def test_an_upload_answer_without_location_is_a_registry_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/" or request.method == "POST":
            return httpx.Response(200 if request.url.path == "/v2/" else 202)
        return httpx.Response(404)

    with pytest.raises(RegistryError) as info:
        _routed(handler).upload_blob(lambda: io.BytesIO(BLOB), BLOB_DIGEST, len(BLOB))
    assert str(info.value) == (
        f"registry {HOST}: app@{BLOB_DIGEST}: upload answer without a Location header"
    )


def test_a_token_service_sending_nonsense_is_a_registry_error() -> None:
    challenge = 'Bearer realm="https://registry.test/token",service="fake"'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        if request.url.path == "/token":
            return httpx.Response(200, json=["not", "an", "object"])
        return httpx.Response(200, content=b"{}")

    with pytest.raises(RegistryError, match="token service sent no token"):
        _routed(handler).get_manifest("v1")


def test_permanent_faults_are_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/v2/":
            return httpx.Response(200)
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    with pytest.raises(RegistryError, match="CERTIFICATE_VERIFY_FAILED"):
        _routed(handler).get_manifest("v1")
    assert calls == ["/v2/", "/v2/app/manifests/v1"]
