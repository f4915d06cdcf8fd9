"""Authenticator against the lab's real registries (Basic and Bearer)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from kaniko.errors import RegistryError
from kaniko.redact import redact
from kaniko.registry.auth import Authenticator, scope
from kaniko.registry.keychain import ANONYMOUS, Credential
from tests.lab.registry import Registry

_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close the test's HTTP clients (a leaked connection fails the suite)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(registry: Registry) -> httpx.Client:
    verify = ssl.create_default_context(cafile=str(registry.ca_cert)) if registry.ca_cert else True
    client = httpx.Client(verify=verify, timeout=10)
    _OPEN.append(client)
    return client


def _auth(registry: Registry, user: str | None) -> tuple[Authenticator, httpx.Client]:
    cred = Credential(user, registry.users[user]) if user else ANONYMOUS
    http = _client(registry)
    return Authenticator(registry.host, registry.url, http, cred), http


def _start_upload(http: httpx.Client, registry: Registry, repo: str, header: str | None):
    headers = {"Authorization": header} if header else {}
    return http.post(f"{registry.url}/v2/{repo}/blobs/uploads/", headers=headers)


def test_plain_registry_needs_no_header(registry_plain: Registry) -> None:
    auth, http = _auth(registry_plain, None)
    assert auth.authorization([scope("x/y", "pull", "push")]) is None
    assert _start_upload(http, registry_plain, "x/y", None).status_code == 202


def test_basic_registry(registry_basic: Registry) -> None:
    auth, http = _auth(registry_basic, "alice")
    header = auth.authorization([scope("lab/a", "pull", "push")])
    assert header is not None and header.startswith("Basic ")
    assert _start_upload(http, registry_basic, "lab/a", header).status_code == 202
    assert redact(header) == "Basic ***"


def test_bearer_push_and_pull_only(registry_token: Registry) -> None:
    auth, http = _auth(registry_token, "alice")
    scopes = [scope("lab/auth", "pull", "push")]
    header = auth.authorization(scopes)
    assert header is not None and header.startswith("Bearer ")
    assert auth.authorization(scopes) == header  # cached per scope set
    assert _start_upload(http, registry_token, "lab/auth", header).status_code == 202

    bob, http = _auth(registry_token, "bob")
    header = bob.authorization(scopes)
    response = _start_upload(http, registry_token, "lab/auth", header)
    assert response.status_code == 401
    assert bob.retry_after(response, scopes)  # the cached token is dropped


def test_bearer_wrong_password_is_one_clear_line(registry_token: Registry) -> None:
    http = _client(registry_token)
    auth = Authenticator(
        registry_token.host, registry_token.url, http, Credential("alice", "not-her-password")
    )
    with pytest.raises(RegistryError) as info:
        auth.authorization([scope("lab/auth", "pull")])
    message = str(info.value)
    assert message.startswith(f"registry {registry_token.host}: UNAUTHORIZED")
    assert "alice" in message and "not-her-password" not in message
    assert "\n" not in message


def test_anonymous_token_for_public_repositories(registry_token: Registry) -> None:
    auth, _ = _auth(registry_token, None)
    assert auth.authorization([scope("public/base", "pull")]).startswith("Bearer ")
    claims = registry_token.token_service.issued[-1]
    assert claims["sub"] == "" and claims["access"][0]["actions"] == ["pull"]


def test_unreachable_registry() -> None:
    with httpx.Client(timeout=2) as http:
        auth = Authenticator("127.0.0.1:9", "http://127.0.0.1:9", http, ANONYMOUS)
        with pytest.raises(RegistryError, match=r"registry 127\.0\.0\.1:9: unreachable"):
            auth.ping()
