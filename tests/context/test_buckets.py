"""S3, GCS and Azure Blob contexts end to end, each against a real server of its kind on
loopback: moto (S3 API, IAM auth enforced), gcp-storage-emulator (Cloud Storage JSON
API) and Azurite (Blob service, Shared Key and SAS)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kaniko.errors import ContextError
from kaniko.redact import redact
from tests.context.helpers import build_context, context_files, make_tar
from tests.lab.objectstores import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    Server,
    s3_user_and_bucket,
    start_azurite,
    start_gcs,
    start_moto,
)

pytestmark = pytest.mark.e2e

ARCHIVE = make_tar(context_files({"bucket.txt": b"from a bucket"}))
NESTED = make_tar({"app/Dockerfile": b"FROM scratch\nCOPY . /ctx/\n", "app/x": b"x", "y": b"y"})


def _no_aws_files(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp / "no-config"))


@pytest.fixture(scope="module")
def moto(tmp_path_factory) -> Iterator[dict[str, str]]:
    """moto with IAM enforced after setup: a user with keys, a bucket holding the context."""
    server = start_moto(tmp_path_factory.mktemp("moto"), auth_after=3)
    objects = {
        "context.tar.gz": ARCHIVE,
        "app/ctx.tar.gz": NESTED,
        "not-a-tar": b"plain text, not an archive\n" * 30,
    }
    yield s3_user_and_bucket(server, "contexts", objects)
    server.stop()


def _aws_env(monkeypatch, tmp_path: Path, moto: dict[str, str], *, files: bool = False) -> None:
    _no_aws_files(monkeypatch, tmp_path)
    monkeypatch.setenv("S3_ENDPOINT", moto["url"])
    monkeypatch.setenv("S3_FORCE_PATH_STYLE", "true")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    if files:  # the shared credentials file, through a named profile
        credentials = tmp_path / "credentials"
        credentials.write_text(
            f"[ci]\naws_access_key_id = {moto['id']}\naws_secret_access_key = {moto['secret']}\n"
        )
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
        monkeypatch.setenv("AWS_PROFILE", "ci")
    else:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto["id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto["secret"])


@pytest.mark.parametrize("source", ["environment", "shared-file"])
def test_s3_context(tmp_path, monkeypatch, moto, source, caplog) -> None:
    _aws_env(monkeypatch, tmp_path, moto, files=source == "shared-file")
    caplog.set_level("DEBUG")
    files = build_context("s3://contexts", tmp_path / "a")  # the default object name
    assert files["bucket.txt"] == b"from a bucket"
    files = build_context("s3://contexts/app/ctx.tar.gz", tmp_path / "b", sub_path="app")
    assert set(files) == {"Dockerfile", "x"}
    assert moto["secret"] not in redact(caplog.text)


def test_s3_errors(tmp_path, monkeypatch, moto) -> None:
    _aws_env(monkeypatch, tmp_path, moto)
    cases = {
        "s3://contexts/missing.tar.gz": "s3://contexts/missing.tar.gz: no such object",
        "s3://no-such-bucket/x.tar.gz": "s3://no-such-bucket/x.tar.gz: no such bucket",
        "s3://contexts/not-a-tar": "s3://contexts/not-a-tar: not a tar archive",
    }
    for context, message in cases.items():
        with pytest.raises(ContextError) as info:
            build_context(context, tmp_path / "layout")
        assert str(info.value).startswith(message)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    with pytest.raises(ContextError, match=r"s3://contexts/context.tar.gz: access denied"):
        build_context("s3://contexts", tmp_path / "layout")
    _no_aws_files(monkeypatch, tmp_path)
    with pytest.raises(ContextError) as info:
        build_context("s3://contexts", tmp_path / "layout")
    assert "no AWS credentials found; tried: environment" in str(info.value)
    assert "shared credentials file" in str(info.value)
    assert not list((tmp_path / "kaniko" / "buildcontext").iterdir())


@pytest.fixture(scope="module")
def gcs(tmp_path_factory) -> Iterator[Server]:
    server = start_gcs(tmp_path_factory.mktemp("gcs"))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.post("/storage/v1/b", json={"name": "ctx-bucket"}).raise_for_status()
        for name, data in (("context.tar.gz", ARCHIVE), ("dir/app.tar.gz", ARCHIVE)):
            client.post(
                "/upload/storage/v1/b/ctx-bucket/o",
                params={"uploadType": "media", "name": name},
                content=data,
            ).raise_for_status()
    yield server
    server.stop()


def test_gcs_context_and_bucket_flag(tmp_path, monkeypatch, gcs) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.url)
    assert build_context("gs://ctx-bucket/dir/app.tar.gz", tmp_path / "a")["bucket.txt"]
    # --bucket wins over --context; a bare name is a GCS bucket with kaniko's object name
    files = build_context("/nonexistent", tmp_path / "b", bucket="ctx-bucket")
    assert files["bucket.txt"] == b"from a bucket"
    with pytest.raises(ContextError, match=r"gs://ctx-bucket/nope.tar.gz: no such bucket or obj"):
        build_context("gs://ctx-bucket/nope.tar.gz", tmp_path / "c")
    with pytest.raises(ContextError, match=r"gs://other/context.tar.gz: no such bucket"):
        build_context("dir:///x", tmp_path / "d", bucket="gs://other")


def test_gcs_without_credentials_lists_what_was_tried(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    with pytest.raises(ContextError) as info:
        build_context("gs://b/o.tar.gz", tmp_path / "layout")
    text = str(info.value)
    assert text.startswith("gs://b/o.tar.gz: no Google credentials found; tried: ")
    assert "GOOGLE_APPLICATION_CREDENTIALS (unset)" in text and "metadata server" in text


@pytest.fixture(scope="module")
def azurite(tmp_path_factory) -> Iterator[Server]:
    server = start_azurite(tmp_path_factory.mktemp("azurite"))
    from kaniko.context.azure import shared_key

    with httpx.Client(timeout=30) as client:

        def put(path: str, data: bytes | None, params: str = "") -> None:
            url = f"{server.url}/{path}{params}"
            headers = {"x-ms-date": _now(), "x-ms-version": "2021-12-02"}
            if data is not None:
                headers["x-ms-blob-type"] = "BlockBlob"
                headers["Content-Length"] = str(len(data))
            else:
                headers["Content-Length"] = "0"
            headers["Authorization"] = shared_key(AZURITE_ACCOUNT, AZURITE_KEY, "PUT", url, headers)
            client.put(url, headers=headers, content=data or b"").raise_for_status()

        put("contexts", None, "?restype=container")
        put("contexts/ctx.tar.gz", ARCHIVE)
    yield server
    server.stop()


def _now() -> str:
    from email.utils import formatdate

    return formatdate(usegmt=True)


def _sas(path: str) -> str:
    """A service SAS (read) for blob ``contexts/ctx.tar.gz``, signed with the account key."""
    expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    version = "2021-12-02"
    fields = ["r", "", expiry, f"/blob/{AZURITE_ACCOUNT}/{path}", "", "", "", version, "b", "",
              "", "", "", "", "", ""]  # fmt: skip
    digest = hmac.new(base64.b64decode(AZURITE_KEY), "\n".join(fields).encode(), hashlib.sha256)
    sig = base64.b64encode(digest.digest()).decode()
    query = {"sp": "r", "se": expiry, "sv": version, "sr": "b", "sig": sig}
    return urllib.parse.urlencode(query)


URL = f"https://{AZURITE_ACCOUNT}.blob.core.windows.net/contexts/ctx.tar.gz"


def test_azure_blob_with_access_key(tmp_path, monkeypatch, azurite) -> None:
    endpoint_only = f"BlobEndpoint={azurite.url};AccountName={AZURITE_ACCOUNT}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", endpoint_only)
    monkeypatch.setenv("AZURE_STORAGE_ACCESS_KEY", AZURITE_KEY)
    assert build_context(URL, tmp_path / "a")["bucket.txt"] == b"from a bucket"
    with pytest.raises(ContextError, match="no such blob"):
        build_context(URL.replace("ctx.tar", "none.tar"), tmp_path / "b")
    wrong = base64.b64encode(b"0" * 64).decode()
    monkeypatch.setenv("AZURE_STORAGE_ACCESS_KEY", wrong)
    with pytest.raises(ContextError, match="access denied with AZURE_STORAGE_ACCESS_KEY"):
        build_context(URL, tmp_path / "c")


def test_azure_blob_with_sas_and_connection_string(tmp_path, monkeypatch, azurite, caplog) -> None:
    monkeypatch.delenv("AZURE_STORAGE_ACCESS_KEY", raising=False)
    endpoint_only = f"BlobEndpoint={azurite.url};AccountName={AZURITE_ACCOUNT}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", endpoint_only)
    sas = _sas("contexts/ctx.tar.gz")
    caplog.set_level("DEBUG")
    assert build_context(f"{URL}?{sas}", tmp_path / "a")["bucket.txt"] == b"from a bucket"
    signature = urllib.parse.parse_qs(sas)["sig"][0]
    assert signature not in redact(caplog.text)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.extra["connection_string"])
    assert build_context(URL, tmp_path / "b")["hello.txt"] == b"hello\n"


def test_azure_without_credentials_lists_what_was_tried(tmp_path, monkeypatch, azurite) -> None:
    for name in ("AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET",
                 "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    endpoint_only = f"BlobEndpoint={azurite.url};AccountName={AZURITE_ACCOUNT}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", endpoint_only)
    with pytest.raises(ContextError) as info:
        build_context(URL, tmp_path / "layout")
    assert "no Azure credentials found; tried: service principal" in str(info.value)
    assert "managed identity" in str(info.value)
