"""The AWS chain (botocore): what it finds, and the one error that lists what it tried."""

from __future__ import annotations

import json

import pytest

from kaniko.cloud import aws
from kaniko.errors import CredentialsError
from kaniko.redact import redact


@pytest.fixture
def clean(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def test_no_credentials_lists_the_chain(clean) -> None:
    with pytest.raises(CredentialsError) as info:
        aws.credentials()
    text = str(info.value)
    assert text.startswith("no AWS credentials found; tried: environment")
    for source in ("web identity", "SSO profile", "shared credentials file", "credential_process",
                   "container credentials endpoint", "EC2 instance metadata"):  # fmt: skip
        assert source in text


def test_environment_and_secrets_are_masked(clean, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value-xyz")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-abc")
    found = aws.credentials()
    assert (found.access_key_id, found.method) == ("AKIAEXAMPLE", "env")
    assert "s3cr3t" not in repr(found)
    assert redact("key s3cr3t-value-xyz token session-token-abc") == "key *** token ***"


def test_profile_from_the_shared_files_and_region(clean, monkeypatch) -> None:
    (clean / "credentials").write_text(
        "[ci]\naws_access_key_id = AKIACI\naws_secret_access_key = ci-secret-value\n"
    )
    (clean / "config").write_text("[profile ci]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_PROFILE", "ci")
    assert aws.credentials().access_key_id == "AKIACI"
    assert aws.region() == "ap-south-1"
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    assert aws.region() == "eu-north-1"


def test_credential_process(clean, monkeypatch) -> None:
    script = clean / "creds.sh"
    answer = {"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "process-secret-value"}
    script.write_text(f"#!/bin/sh\necho '{json.dumps(answer)}'\n")
    script.chmod(0o755)
    (clean / "config").write_text(f"[profile proc]\ncredential_process = {script}\n")
    monkeypatch.setenv("AWS_PROFILE", "proc")
    found = aws.credentials()
    assert (found.access_key_id, found.method) == ("AKIAPROC", "custom-process")
