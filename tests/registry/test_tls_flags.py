"""Each TLS and plain-HTTP flag, with kaniko's meaning, against real and fake registries.

Real lab registries prove the TLS flags (test CA, skipped verification, client
certificates). Plain HTTP to a registry that is not on loopback cannot be shown with a
real one here (every lab registry is on 127.0.0.1, where plain HTTP is always allowed),
so the insecure flags are checked with an in-process fake that answers HTTPS with a
connection error and HTTP with a registry.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kaniko.errors import RegistryError
from kaniko.options import RegistryOptions
from kaniko.registry.client import RegistryClient
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport
from tests.lab.pki import TestCA
from tests.lab.registry import Registry


def _check(registry: Registry, **options) -> None:
    with Transport(RegistryOptions(**options), Keychain([])) as transport:
        client = RegistryClient(transport, registry.host, "tls/flags", push=True)
        client.check_push_permission()


@pytest.mark.parametrize(
    "flag", ["--skip-tls-verify", "--skip-tls-verify-registry", "--registry-certificate"]
)
def test_tls_flags_reach_a_registry_with_an_unknown_ca(registry_mtls, test_ca, flag) -> None:
    host = registry_mtls.host
    options = {
        "--skip-tls-verify": {"skip_tls_verify": True},
        "--skip-tls-verify-registry": {"skip_tls_verify_registries": (host,)},
        "--registry-certificate": {"registry_certificates": {host: str(test_ca.cert_path)}},
    }[flag]
    cert = test_ca.issue("flags-client", client=True)  # this registry also wants one
    _check(registry_mtls, registry_client_certs={host: (str(cert.cert), str(cert.key))}, **options)


def test_skip_tls_verify_pull_applies_to_pulls_only(registry_basic: Registry) -> None:
    with Transport(RegistryOptions(skip_tls_verify_pull=True), Keychain([])) as transport:
        assert not transport.verify_tls(registry_basic.host, push=False)
        assert transport.verify_tls(registry_basic.host, push=True)
        transport.endpoint(registry_basic.host, push=False)  # reachable without the CA
        with pytest.raises(RegistryError, match="--registry-certificate"):
            transport.endpoint(registry_basic.host, push=True)


def test_client_certificate_required(registry_mtls: Registry, test_ca: TestCA) -> None:
    ca = {registry_mtls.host: str(test_ca.cert_path)}
    with pytest.raises(RegistryError, match=f"registry {registry_mtls.host}: unreachable"):
        _check(registry_mtls, registry_certificates=ca)
    cert = test_ca.issue("client-ok", client=True)
    _check(
        registry_mtls,
        registry_certificates=ca,
        registry_client_certs={registry_mtls.host: (str(cert.cert), str(cert.key))},
    )


def test_bad_certificate_files_are_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "nope.pem"
    transport = Transport(RegistryOptions(registry_certificates={"r.io": str(bogus)}))
    with pytest.raises(RegistryError, match=r"registry r\.io: cannot load CA .*nope\.pem"):
        transport.ssl_context("r.io", push=False)
    transport = Transport(RegistryOptions(registry_client_certs={"r.io": (str(bogus), "k")}))
    with pytest.raises(RegistryError, match="cannot load client certificate"):
        transport.ssl_context("r.io", push=True)


def _https_refused(request: httpx.Request) -> httpx.Response:
    if request.url.scheme == "https":
        raise httpx.ConnectError("tls: first record does not look like a TLS handshake")
    return httpx.Response(200)


@pytest.mark.parametrize(
    ("options", "push", "plain"),
    [
        ({}, True, False),
        ({}, False, False),
        ({"insecure": True}, True, True),
        ({"insecure": True}, False, False),
        ({"insecure_pull": True}, False, True),
        ({"insecure_pull": True}, True, False),
        ({"insecure_registries": ("registry.test:5000",)}, True, True),
        ({"insecure_registries": ("registry.test:5000",)}, False, True),
        ({"insecure_registries": ("other.test",)}, False, False),
    ],
)
def test_insecure_flags_allow_plain_http(options, push, plain) -> None:
    transport = Transport(
        RegistryOptions(**options), Keychain([]), http_transport=httpx.MockTransport(_https_refused)
    )
    if plain:
        endpoint = transport.endpoint("registry.test:5000", push=push)
        assert endpoint.base_url == "http://registry.test:5000"
    else:
        with pytest.raises(RegistryError, match="unreachable"):
            transport.endpoint("registry.test:5000", push=push)
