"""Shared pieces of the cloud keychain tests: a clean environment and a tiny image push."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from kaniko.oci.digest import Digest
from kaniko.oci.mediatypes import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST
from kaniko.options import RegistryOptions
from kaniko.registry.client import RegistryClient
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport

# Everything the cloud chains read: a test starts with none of it.
CLOUD_VARIABLES = (
    "AWS_", "AZURE_", "IDENTITY_", "MSI_", "GOOGLE_", "CLOUDSDK_", "GCE_METADATA",
    "CI_REGISTRY", "CI_DEPENDENCY_PROXY",
)  # fmt: skip


def clean_cloud_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No cloud identity at all, and no link-local metadata service to reach."""
    for name in list(os.environ):
        if name.startswith(CLOUD_VARIABLES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")


def transport(ca: Path, hosts: list[str], keychain: Keychain | None = None) -> Transport:
    """A transport trusting the lab CA for ``hosts``, with no docker config by default."""
    certs = {host: str(ca) for host in hosts}
    return Transport(RegistryOptions(registry_certificates=certs), keychain or Keychain([]))


def push_tiny_image(client: RegistryClient, tag: str) -> Digest:
    """Upload a config and a one-byte layer, then the manifest; return its digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    layer = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    descriptors = []
    for data, media_type in ((config, OCI_CONFIG), (layer, OCI_LAYER_GZIP)):
        digest = Digest.of(data)
        client.upload_blob(lambda data=data: io.BytesIO(data), digest, len(data))
        descriptors.append({"mediaType": media_type, "digest": str(digest), "size": len(data)})
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": descriptors[0], "layers": descriptors[1:]}  # fmt: skip
    return client.put_manifest(tag, json.dumps(manifest).encode(), OCI_MANIFEST)
