"""The cloud helpers against the lab's cloud registries (tests/lab/cloudregistries.py): each
flow's real protocol, pushes through the real transport, no config.json anywhere."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from kaniko.errors import RegistryError
from kaniko.oci.digest import Digest
from kaniko.redact import redact
from kaniko.registry.client import RegistryClient
from kaniko.registry.keychain import Keychain
from tests.lab.cloudregistries import NAMES, CloudRegistries
from tests.lab.clouds import EcrPublic, ecr_password
from tests.lab.names import loopback_names
from tests.registry.helpers import clean_cloud_env, push_tiny_image, transport


@pytest.fixture
def lab(cloud_registries: CloudRegistries, monkeypatch, tmp_path) -> Iterator[CloudRegistries]:
    clean_cloud_env(monkeypatch, tmp_path)
    with loopback_names(NAMES):
        yield cloud_registries


def _metadata_server(lab: CloudRegistries, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point google-auth at the lab's metadata server. It reads ``GCE_METADATA_HOST`` and
    ``NO_GCE_CHECK`` once, when imported (tests/conftest.py set them for the session)."""
    from google.auth.compute_engine import _metadata

    for name, value in lab.env("gcr").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NO_GCE_CHECK")
    monkeypatch.setattr(_metadata, "_GCE_METADATA_HOST", lab.metadata.host)
    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", False)


def _use(lab: CloudRegistries, monkeypatch: pytest.MonkeyPatch, cloud: str) -> None:
    if cloud == "gcr":
        _metadata_server(lab, monkeypatch)
    else:
        for name, value in lab.env(cloud).items():
            monkeypatch.setenv(name, value)


def _push(lab: CloudRegistries, cloud: str, repo: str, keychain: Keychain | None = None):
    host = lab.hosts[cloud]
    with transport(lab.ca.cert_path, [host], keychain) as t:
        client = RegistryClient(t, host, repo, push=True)
        digest = push_tiny_image(client, "v1")
        pulled = RegistryClient(t, host, repo).get_manifest("v1")
        assert pulled.digest == digest
        return t.keychain.resolve(host)


def test_ecr_with_irsa_web_identity(lab: CloudRegistries, monkeypatch) -> None:
    _use(lab, monkeypatch, "ecr")
    used = _push(lab, "ecr", "team/app")
    assert (used.username, used.password) == ("AWS", ecr_password())
    web_identity = "web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)"
    assert used.source == f"the ecr-login helper (in-process, {web_identity})"
    assert redact(f"password {ecr_password()}") == "password ***"


def test_google_with_the_metadata_server(lab: CloudRegistries, monkeypatch) -> None:
    _use(lab, monkeypatch, "gcr")
    used = _push(lab, "gcr", "lab-project/images/app")
    assert used.username == "oauth2accesstoken" and lab.metadata.valid(used.password)
    assert used.expires_at is not None and used.expires_at > time.time() + 3000
    assert redact(used.password) == "***"


def test_acr_with_a_federated_token(lab: CloudRegistries, monkeypatch) -> None:
    _use(lab, monkeypatch, "acr")
    exchanges = len(lab.acr.exchanges)
    used = _push(lab, "acr", "team/app")
    assert used.identity_token in lab.acr.refresh_tokens
    exchange = lab.acr.exchanges[exchanges]
    assert exchange["service"] == lab.hosts["acr"] and exchange["tenant"]
    # the refresh token's own end (a JWT exp, three hours) decides when it is renewed
    assert used.expires_at == pytest.approx(time.time() + 3 * 3600, abs=60)
    assert redact(used.identity_token) == "***"


def test_a_redirect_to_blob_storage_carries_no_credentials(lab: CloudRegistries, monkeypatch):
    _use(lab, monkeypatch, "acr")
    host = lab.hosts["acr"]
    with transport(lab.ca.cert_path, [host]) as t:
        client = RegistryClient(t, host, "redirected/app", push=True)
        push_tiny_image(client, "v1")
        manifest = json.loads(client.get_manifest("v1").data)
        seen = len(lab.acr.storage.authorization)
        config = manifest["config"]
        with client.open_blob(Digest.parse(config["digest"]), config["size"]) as blob:
            assert json.loads(blob.read())["os"] == "linux"
    assert lab.acr.storage.authorization[seen:] == [None]  # ACR redirected; no header went


def test_gitlab_ci_variables(lab: CloudRegistries, monkeypatch) -> None:
    _use(lab, monkeypatch, "gitlab")
    used = _push(lab, "gitlab", "group/project")
    assert (used.username, used.password) == ("gitlab-ci-token", lab.job_token)


def test_each_registry_gets_only_its_own_credentials(lab: CloudRegistries, monkeypatch) -> None:
    for cloud in ("ecr", "gcr", "acr", "gitlab"):
        _use(lab, monkeypatch, cloud)
    keychain = Keychain([])
    with transport(lab.ca.cert_path, list(lab.hosts.values()), keychain) as t:
        kinds = {c: t.endpoint(h, push=True).auth.credential() for c, h in lab.hosts.items()}
    assert kinds["ecr"].username == "AWS"
    assert kinds["gcr"].username == "oauth2accesstoken"
    assert kinds["acr"].identity_token and not kinds["acr"].username
    assert kinds["gitlab"].username == "gitlab-ci-token"
    before = (len(lab.moto.log_text()), len(lab.metadata.requests), len(lab.entra.requests))
    ecr, gitlab = lab.hosts["ecr"], lab.hosts["gitlab"]
    port = gitlab.rsplit(":", 1)[1]
    for other in (
        lab.registries["ecr"].host,  # the same server, by address: not an ECR name
        f"{ecr.split(':')[0]}.lab.example",
        "kanikolab.azurecr.io.lab.example",
        "pkg.dev.lab.example",
        "registry.gitlab.lab.example:1",  # CI_REGISTRY's host, another port
        f"127.0.0.1:{port}",
        "index.docker.io",
    ):
        assert keychain.resolve(other).anonymous, other
    after = (len(lab.moto.log_text()), len(lab.metadata.requests), len(lab.entra.requests))
    assert after == before  # no identity service was even asked
    for cloud in ("gcr", "gitlab"):
        _push(lab, cloud, "isolation/app", keychain)
    for registry in ("gcr", "gitlab"):
        service = lab.registries[registry].token_service
        assert service is not None and service.refused == []


def test_no_identity_means_anonymous_and_the_refusal_says_what_was_tried(
    lab: CloudRegistries,
) -> None:
    with pytest.raises(RegistryError) as info:
        _push(lab, "ecr", "team/app")
    message = str(info.value)
    assert message.startswith(f"registry {lab.hosts['ecr']}: ")
    assert "UNAUTHORIZED" in message and "the ecr-login helper found none" in message
    assert "no AWS credentials found; tried: environment" in message
    assert "web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)" in message


def test_a_refused_identity_is_named(lab: CloudRegistries, monkeypatch, tmp_path) -> None:
    _use(lab, monkeypatch, "acr")
    wrong = tmp_path / "token"
    wrong.write_text("eyJhbGciOiJSUzI1NiJ9.e30.bm90LXRoZS1yaWdodC1vbmU")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(wrong))
    with pytest.raises(RegistryError) as info:
        _push(lab, "acr", "team/app")
    message = str(info.value)
    assert message.startswith(f"registry {lab.hosts['acr']}: UNAUTHORIZED")
    assert "the acr-env helper failed: Azure workload identity: HTTP 401: AADSTS7000215" in message


def test_a_named_helper_in_config_json_runs_in_process(lab: CloudRegistries, monkeypatch, tmp_path):
    _use(lab, monkeypatch, "ecr")
    _use(lab, monkeypatch, "gitlab")
    config = tmp_path / "config.json"
    hosts = lab.hosts
    config.write_text(
        json.dumps({"credHelpers": {hosts["ecr"]: "ecr-login", hosts["gitlab"]: "gitlabci"}})
    )
    monkeypatch.setenv("PATH", "/nonexistent")  # no docker-credential-* to run
    keychain = Keychain([config])
    assert keychain.resolve(hosts["ecr"]).password == ecr_password()
    assert keychain.resolve(hosts["gitlab"]).password == lab.job_token
    for name in ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name)
    with pytest.raises(RegistryError) as info:
        Keychain([config]).resolve(hosts["ecr"])
    assert str(info.value).startswith(
        f"registry {hosts['ecr']}: credential helper ecr-login (in-process): "
        "no AWS credentials found; tried: environment"
    )


def test_google_tokens_renewed_before_they_end_and_when_refused(
    lab: CloudRegistries, monkeypatch
) -> None:
    _use(lab, monkeypatch, "gcr")
    monkeypatch.setattr(lab.metadata, "lifetime", 2)
    keychain = Keychain([])
    host = lab.hosts["gcr"]
    first = keychain.resolve(host)
    assert keychain.resolve(host) is first  # reused while it has time left
    time.sleep(1.1)  # past half of its two seconds: renewed
    second = keychain.resolve(host)
    assert second.password != first.password and lab.metadata.valid(second.password)
    monkeypatch.setattr(lab.metadata, "lifetime", 3600)
    lab.metadata.tokens[second.password] = 0  # revoked: the token service refuses it
    _push(lab, "gcr", "renewed/app", keychain)
    assert keychain.resolve(host).password != second.password


def test_ecr_public(lab: CloudRegistries, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIALABPUBLIC")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lab-public-secret")
    with EcrPublic("AKIALABPUBLIC") as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR_PUBLIC", server.url)
        found = Keychain([]).resolve("public.ecr.aws")
        assert found.username == "AWS" and server.valid(found.password)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTKNOWN")
        keychain = Keychain([])
        assert keychain.resolve("public.ecr.aws").anonymous  # public images still pull
        assert "UnrecognizedClientException" in keychain.explain("public.ecr.aws")
