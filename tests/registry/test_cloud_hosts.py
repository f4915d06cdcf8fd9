"""Which registry hosts each cloud helper owns, and the rules for names and renewal."""

from __future__ import annotations

import base64
import json
import math

import pytest

from kaniko.errors import NoCredentialsError
from kaniko.registry.credential import hostname, renew_at, same_registry
from kaniko.registry.helpers.acr import AcrHelper, _jwt_expiry
from kaniko.registry.helpers.ecr import EcrHelper, EcrRegistry, parse
from kaniko.registry.helpers.gitlab import GitLabHelper
from kaniko.registry.helpers.google import GoogleHelper

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", EcrRegistry(ACCOUNT, "us-east-1")),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com:443", EcrRegistry(ACCOUNT, "us-east-1")),
        (f"{ACCOUNT}.DKR.ECR.EU-WEST-1.AMAZONAWS.COM", EcrRegistry(ACCOUNT, "eu-west-1")),
        (f"{ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
         EcrRegistry(ACCOUNT, "us-gov-west-1", fips=True)),
        (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn", EcrRegistry(ACCOUNT, "cn-north-1")),
        (f"{ACCOUNT}.dkr-ecr.eu-west-1.on.aws", EcrRegistry(ACCOUNT, "eu-west-1")),
        (f"{ACCOUNT}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
         EcrRegistry(ACCOUNT, "cn-northwest-1")),
        (f"{ACCOUNT}.dkr.ecr.eusc-de-east-1.amazonaws.eu", EcrRegistry(ACCOUNT, "eusc-de-east-1")),
        (f"{ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov", EcrRegistry(ACCOUNT, "us-iso-east-1")),
        (f"{ACCOUNT}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", EcrRegistry(ACCOUNT, "us-isob-east-1")),
        ("public.ecr.aws", EcrRegistry()),
        ("ecr-public.aws.com", EcrRegistry()),
        ("12345678901.dkr.ecr.us-east-1.amazonaws.com", None),  # 11 digits
        ("dkr.ecr.us-east-1.amazonaws.com", None),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com.lab.example", None),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.co", None),
        (f"x{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", None),
        ("public.ecr.aws.lab.example", None),
        ("index.docker.io", None),
    ],
)  # fmt: skip
def test_ecr_hosts(host: str, expected: EcrRegistry | None) -> None:
    assert parse(host) == expected
    assert EcrHelper().owns(host) is (expected is not None)


@pytest.mark.parametrize(
    ("host", "owned"),
    [
        ("gcr.io", True), ("gcr.io:443", True), ("eu.gcr.io", True), ("marketplace.gcr.io", True),
        ("us-docker.pkg.dev", True), ("europe-west4-docker.pkg.dev", True),
        ("gcr.io.lab.example", False), ("notgcr.io", False), ("pkg.dev.lab.example", False),
        ("docker.pkg.github.com", False), ("ghcr.io", False),
    ],
)  # fmt: skip
def test_google_hosts(host: str, owned: bool) -> None:
    assert GoogleHelper().owns(host) is owned


@pytest.mark.parametrize(
    ("host", "owned"),
    [
        ("lab.azurecr.io", True), ("lab.azurecr.io:443", True), ("lab.azurecr.cn", True),
        ("lab.azurecr.de", True), ("lab.azurecr.us", True),
        # the Go helper's unanchored pattern would match these
        ("lab.azurecr.io.lab.example", False), ("azurecr.io.lab.example", False),
        ("azurecr.io", False), ("mcr.microsoft.com", False),
    ],
)  # fmt: skip
def test_acr_hosts(host: str, owned: bool) -> None:
    assert AcrHelper({}).owns(host) is owned


def test_gitlab_serves_exactly_the_ci_registry() -> None:
    env = {"CI_REGISTRY": "registry.gitlab.com", "CI_REGISTRY_USER": "gitlab-ci-token",
           "CI_REGISTRY_PASSWORD": "job-token-1",
           "CI_DEPENDENCY_PROXY_SERVER": "gitlab.com:443",
           "CI_DEPENDENCY_PROXY_USER": "gitlab-ci-token",
           "CI_DEPENDENCY_PROXY_PASSWORD": "job-token-2"}  # fmt: skip
    helper = GitLabHelper(env)
    for host in ("registry.gitlab.com", "registry.gitlab.com:443", "https://registry.gitlab.com"):
        assert helper.owns(host) and helper.get(host, None).password == "job-token-1"
    assert helper.get("gitlab.com", None).password == "job-token-2"
    for host in ("registry.gitlab.com:5050", "gitlab.com:5050", "registry.gitlab.com.lab.example"):
        assert not helper.owns(host)
    assert GitLabHelper({"CI_REGISTRY": "gitlab.example.com:5050"}).owns("gitlab.example.com:5050")
    assert not GitLabHelper({"CI_REGISTRY": "gitlab.example.com:5050"}).owns("gitlab.example.com")
    assert not GitLabHelper({}).owns("registry.gitlab.com")


def test_gitlab_without_its_password_says_which_variable() -> None:
    helper = GitLabHelper({"CI_REGISTRY": "registry.gitlab.com", "CI_REGISTRY_USER": "u"})
    with pytest.raises(NoCredentialsError, match="CI_REGISTRY_PASSWORD is unset"):
        helper.get("registry.gitlab.com", None)


@pytest.mark.parametrize(
    ("registry", "host"),
    [("gcr.io", "gcr.io"), ("gcr.io:443", "gcr.io"), ("[::1]:5000", "::1"),
     ("https://Lab.AzureCR.io/v2/", "lab.azurecr.io"), ("127.0.0.1:5000", "127.0.0.1")],
)  # fmt: skip
def test_hostname(registry: str, host: str) -> None:
    assert hostname(registry) == host


def test_same_registry_takes_443_as_the_default() -> None:
    assert same_registry("registry.gitlab.com", "registry.gitlab.com:443")
    assert not same_registry("registry.gitlab.com", "registry.gitlab.com:5050")


def test_renewal_times() -> None:
    assert renew_at(1000.0, None) == math.inf
    assert renew_at(1000.0, 1000.0 + 12 * 3600) == 1000.0 + 12 * 3600 - 300  # ECR's 12 h
    assert renew_at(1000.0, 1000.0 + 3600) == 1000.0 + 3300  # Google's hour
    assert renew_at(1000.0, 1002.0) == 1001.0  # short-lived: half-way
    assert renew_at(1000.0, 10.0) == 1060.0  # already past (moto's expiresAt): a minute


def _jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


def test_acr_refresh_token_expiry_from_its_jwt() -> None:
    assert _jwt_expiry(_jwt({"exp": 1767225600})) == 1767225600.0
    assert _jwt_expiry(_jwt({"sub": "x"})) is None
    assert _jwt_expiry(_jwt({"exp": True})) is None
    assert _jwt_expiry("opaque-refresh-token") is None
    assert _jwt_expiry("a.!!!.c") is None
