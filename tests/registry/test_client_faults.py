"""Fault injection with an in-process fake registry (httpx.MockTransport).

The lab's real registries prove the happy and refusal paths; these cover what a real
registry will not do on demand: 5xx storms, 429 with Retry-After, dropped connections,
truncated and corrupted blobs, a token that expires mid-build.
"""

from __future__ import annotations

import hashlib

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
