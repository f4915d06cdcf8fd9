"""Microsoft Entra token flows of kaniko.cloud.azure: the request each one sends.

There is no Entra or instance metadata service on loopback, so the token endpoint is an
httpx mock transport that checks each request's shape and answers as the service does.
"""

from __future__ import annotations

import json
import urllib.parse

import httpx
import pytest

from kaniko.cloud import azure
from kaniko.errors import CredentialsError


@pytest.fixture
def clean(monkeypatch):
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                 "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                 "AZURE_AUTHORITY_HOST"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")


def _client(seen: list[httpx.Request], status: int = 200) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if status != 200:
            body = {"error": "invalid_client", "error_description": "bad secret\ntrace"}
            return httpx.Response(status, json=body)
        return httpx.Response(200, json={"access_token": "entra-token-1", "expires_in": 3600})

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_service_principal(clean, monkeypatch) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", "t1")
    monkeypatch.setenv("AZURE_CLIENT_ID", "c1")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "sp-secret")
    seen: list[httpx.Request] = []
    token = azure.access_token(client=_client(seen))
    assert (token.value, token.source) == ("entra-token-1", "service principal")
    request = seen[0]
    assert str(request.url) == "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
    form = dict(urllib.parse.parse_qsl(request.content.decode()))
    assert form == {"grant_type": "client_credentials", "client_id": "c1",
                    "client_secret": "sp-secret", "scope": azure.STORAGE_SCOPE}  # fmt: skip
    with pytest.raises(CredentialsError, match=r"^Azure service principal: HTTP 401: bad secret$"):
        azure.access_token(client=_client([], status=401))


def test_workload_identity(clean, monkeypatch, tmp_path) -> None:
    assertion = tmp_path / "token"
    assertion.write_text("federated-jwt\n")
    monkeypatch.setenv("AZURE_TENANT_ID", "t1")
    monkeypatch.setenv("AZURE_CLIENT_ID", "c1")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(assertion))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "login.example.test")
    seen: list[httpx.Request] = []
    assert azure.access_token(client=_client(seen)).source == "workload identity"
    form = dict(urllib.parse.parse_qsl(seen[0].content.decode()))
    assert form["client_assertion"] == "federated-jwt"
    assert form["client_assertion_type"].endswith("jwt-bearer")
    assert seen[0].url.host == "login.example.test"


def test_managed_identity(clean, monkeypatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", "user-assigned")
    seen: list[httpx.Request] = []
    token = azure.access_token(client=_client(seen))
    assert token.source == "managed identity (instance metadata)"
    request = seen[0]
    assert request.headers["Metadata"] == "true"
    assert request.url.path == "/metadata/identity/oauth2/token"
    assert request.url.params["resource"] == "https://storage.azure.com"
    assert request.url.params["client_id"] == "user-assigned"


def test_nothing_configured_lists_what_was_tried(clean) -> None:
    with pytest.raises(CredentialsError) as info:
        azure.access_token()  # the metadata address is a closed loopback port here
    text = str(info.value)
    assert text.startswith("no Azure credentials found; tried: service principal")
    assert "workload identity" in text and "managed identity" in text
    assert json.dumps(text)  # one line
    assert "\n" not in text
