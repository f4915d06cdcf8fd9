"""Session-wide fixtures: the test lab (registries, a CA, a token service)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab.pki import TestCA
from tests.lab.registry import Registry, start_registry
from tests.lab.tokens import TokenService, User

LAB_USERS = {"alice": "alice-secret-pw", "bob": "bob-secret-pw"}


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def test_ca(lab_dir) -> TestCA:
    return TestCA(lab_dir / "ca")


@pytest.fixture(scope="session")
def registry_plain(lab_dir) -> Iterator[Registry]:
    """Plain HTTP, no auth."""
    registry = start_registry(lab_dir / "plain")
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_basic(lab_dir, test_ca) -> Iterator[Registry]:
    """HTTPS with the test CA and htpasswd Basic auth (alice and bob may push anywhere)."""
    registry = start_registry(lab_dir / "basic", tls_ca=test_ca, htpasswd_users=LAB_USERS)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_token(lab_dir, test_ca) -> Iterator[Registry]:
    """HTTPS with Bearer tokens: alice pushes and pulls everything; bob only pulls;
    anonymous users pull `public/*`."""
    service = TokenService(
        lab_dir,
        users={
            "alice": User(LAB_USERS["alice"], {"*": ("pull", "push")}),
            "bob": User(LAB_USERS["bob"], {"*": ("pull",)}),
        },
        anonymous={"public/*": ("pull",)},
    )
    registry = start_registry(
        lab_dir / "token", tls_ca=test_ca, token_service=service, users=LAB_USERS
    )
    yield registry
    registry.stop()
