"""push() against an in-process fake registry that fails on purpose.

The real registry tests prove pushing works; this shows what a real registry won't do on
demand: a destination failing a few times (``--push-retry``), and the "tag is immutable"
answers of Artifact Registry and ECR (``--push-ignore-immutable-tag-errors``).
"""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest

from kaniko.errors import RegistryError
from kaniko.images.empty import scratch
from kaniko.images.push import push
from kaniko.oci.platform import Platform
from kaniko.options import RegistryOptions
from kaniko.refs.reference import Reference
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport


class FakeRegistry:
    """Blobs and manifests in dicts; ``manifest_failures`` answers the next PUTs."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, bytes] = {}
        self.manifest_failures: list[httpx.Response] = []
        self.manifest_puts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v2/":
            return httpx.Response(200)
        if m := re.fullmatch(r"/v2/(.+)/blobs/(sha256:[0-9a-f]+)", path):
            found = m.group(2) in self.blobs
            return httpx.Response(200 if found else 404)
        if m := re.fullmatch(r"/v2/(.+)/blobs/uploads/", path):
            return httpx.Response(202, headers={"Location": f"/upload/{m.group(1)}"})
        if path.startswith("/upload/") and request.method == "PUT":
            data = request.read()
            digest = request.url.params["digest"]
            assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
            self.blobs[digest] = data
            return httpx.Response(201)
        if m := re.fullmatch(r"/v2/(.+)/manifests/(.+)", path):
            self.manifest_puts += 1
            if self.manifest_failures:
                return self.manifest_failures.pop(0)
            self.manifests[m.group(2)] = request.read()
            return httpx.Response(201)
        return httpx.Response(404)


def _push(fake: FakeRegistry, **kw) -> None:
    transport = Transport(RegistryOptions(), Keychain([]), http_transport=httpx.MockTransport(fake))
    image = scratch(Platform.parse("linux/amd64"))
    push(transport, image, [Reference.parse("registry.test/app:v1")], backoff=0, **kw)


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": message}]})


def test_push_retry_recovers_from_a_failing_destination() -> None:
    fake = FakeRegistry()
    bad = _error(400, "MANIFEST_INVALID", "try again later")  # not retried by the client
    fake.manifest_failures = [bad, bad]
    _push(fake, retries=2)
    assert "v1" in fake.manifests and fake.manifest_puts == 3


def test_push_without_retry_fails_with_the_registry_line() -> None:
    fake = FakeRegistry()
    fake.manifest_failures = [_error(400, "MANIFEST_INVALID", "bad")]
    with pytest.raises(RegistryError, match="app:v1: MANIFEST_INVALID: bad"):
        _push(fake)


@pytest.mark.parametrize(
    "message",
    [
        "The repository has enabled tag immutability",
        "The image tag 'v1' already exists in the 'app' repository and cannot be overwritten "
        "because the repository is immutable.",
    ],
)
def test_immutable_tag_errors_are_ignored_only_when_asked(message: str) -> None:
    fake = FakeRegistry()
    fake.manifest_failures = [_error(400, "TAG_INVALID", message)]
    with pytest.raises(RegistryError, match="TAG_INVALID"):
        _push(fake)
    fake.manifest_failures = [_error(400, "TAG_INVALID", message)]
    _push(fake, ignore_immutable_tags=True)  # no error
    assert "v1" not in fake.manifests
