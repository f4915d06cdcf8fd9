"""RegistryClient and Transport against the lab's real distribution registries."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from kaniko.errors import ImageError, RegistryError
from kaniko.oci.digest import Digest
from kaniko.oci.mediatypes import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST
from kaniko.options import RegistryOptions
from kaniko.registry.client import RegistryClient
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport
from tests.lab.registry import Registry


def _transport(registry: Registry, tmp_path: Path, user: str | None, **opts) -> Transport:
    config_dir = tmp_path / f"docker-{user}"
    paths = [registry.docker_config(config_dir, user) / "config.json"] if user else []
    if registry.ca_cert and "registry_certificates" not in opts:
        opts["registry_certificates"] = {registry.host: str(registry.ca_cert)}
    return Transport(RegistryOptions(**opts), Keychain(paths))


def _opener(data: bytes):
    return lambda: io.BytesIO(data)


def _push_image(client: RegistryClient, tag: str, layer: bytes) -> tuple[Digest, bytes]:
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    blobs = {"config": config, "layer": layer}
    digests = {k: Digest.of(v) for k, v in blobs.items()}
    for k, v in blobs.items():
        client.upload_blob(_opener(v), digests[k], len(v))
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": str(digests["config"]),
                "size": len(config),
            },
            "layers": [
                {"mediaType": OCI_LAYER_GZIP, "digest": str(digests["layer"]), "size": len(layer)}
            ],
        }
    ).encode()
    return client.put_manifest(tag, manifest, OCI_MANIFEST), manifest


def test_push_and_pull_round_trip_plain(registry_plain: Registry, tmp_path: Path) -> None:
    with _transport(registry_plain, tmp_path, None) as transport:
        # loopback: HTTPS is tried first, then plain HTTP
        assert transport.endpoint(registry_plain.host, push=True).base_url.startswith("http://")
        client = RegistryClient(transport, registry_plain.host, "lab/rt", push=True)
        layer = gzip.compress(b"layer bytes" * 1000)
        digest, manifest = _push_image(client, "v1", layer)
        raw = client.get_manifest("v1")
        assert raw.data == manifest and raw.media_type == OCI_MANIFEST and raw.digest == digest
        assert client.get_manifest(str(digest)).data == manifest
        assert client.manifest_digest("v1") == digest
        assert client.manifest_digest("nope") is None
        with client.open_blob(Digest.of(layer), len(layer)) as f:
            assert f.read() == layer
        # a second upload of the same blob is skipped
        assert client.upload_blob(_opener(layer), Digest.of(layer), len(layer)) == "exists"


def test_chunked_upload(registry_plain: Registry, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    with _transport(registry_plain, tmp_path, None) as transport:
        client = RegistryClient(transport, registry_plain.host, "lab/chunked", push=True)
        how = client.upload_blob(_opener(data), Digest.of(data), len(data), chunk_size=300_000)
        assert how == "uploaded"
        with client.open_blob(Digest.of(data)) as f:
            assert f.read() == data


def test_missing_things_are_one_clear_line(registry_plain: Registry, tmp_path: Path) -> None:
    with _transport(registry_plain, tmp_path, None) as transport:
        client = RegistryClient(transport, registry_plain.host, "lab/none")
        with pytest.raises(RegistryError) as info:
            client.get_manifest("latest")
        assert str(info.value) == (
            f"registry {registry_plain.host}: lab/none:latest: MANIFEST_UNKNOWN: manifest unknown"
        )
        missing = Digest.of(b"never pushed")
        with pytest.raises(RegistryError, match="BLOB_UNKNOWN"), client.open_blob(missing) as f:
            f.read()


def test_corrupt_digest_request_is_detected(registry_plain: Registry, tmp_path: Path) -> None:
    with _transport(registry_plain, tmp_path, None) as transport:
        client = RegistryClient(transport, registry_plain.host, "lab/verify", push=True)
        data = b"some content"
        client.upload_blob(_opener(data), Digest.of(data), len(data))
        with (
            pytest.raises(ImageError, match="truncated"),
            client.open_blob(Digest.of(data), len(data) + 5) as f,
        ):
            f.read()


def test_tls_basic_auth(registry_basic: Registry, tmp_path: Path) -> None:
    with _transport(registry_basic, tmp_path, "alice") as transport:
        client = RegistryClient(transport, registry_basic.host, "lab/basic-rt", push=True)
        digest, _ = _push_image(client, "v1", gzip.compress(b"basic"))
        assert client.manifest_digest("v1") == digest
        assert transport.endpoint(registry_basic.host, push=True).base_url.startswith("https://")


def test_tls_without_ca_fails_with_hint(registry_basic: Registry, tmp_path: Path) -> None:
    with Transport(RegistryOptions(), Keychain([])) as transport:
        with pytest.raises(RegistryError) as info:
            transport.endpoint(registry_basic.host, push=False)
        assert "--registry-certificate" in str(info.value)


def test_skip_tls_verify_registry(registry_basic: Registry, tmp_path: Path) -> None:
    opts = {"skip_tls_verify_registries": (registry_basic.host,), "registry_certificates": {}}
    with _transport(registry_basic, tmp_path, "alice", **opts) as transport:
        client = RegistryClient(transport, registry_basic.host, "lab/skip")
        client.check_push_permission()


def test_basic_wrong_password(registry_basic: Registry, tmp_path: Path) -> None:
    registry_basic.users["mallory"] = "guess"
    try:
        with _transport(registry_basic, tmp_path, "mallory") as transport:
            client = RegistryClient(transport, registry_basic.host, "lab/x")
            with pytest.raises(RegistryError, match="UNAUTHORIZED") as info:
                client.get_manifest("latest")
            assert "guess" not in str(info.value)
    finally:
        del registry_basic.users["mallory"]


def test_token_push_permission_and_mount(registry_token: Registry, tmp_path: Path) -> None:
    with _transport(registry_token, tmp_path, "alice") as transport:
        src = RegistryClient(transport, registry_token.host, "lab/src", push=True)
        layer = gzip.compress(b"shared layer")
        _push_image(src, "v1", layer)
        dst = RegistryClient(transport, registry_token.host, "lab/dst", push=True)
        dst.check_push_permission()
        how = dst.upload_blob(_opener(layer), Digest.of(layer), len(layer), mount_from=("lab/src",))
        assert how == "mounted"
        assert dst.blob_exists(Digest.of(layer))
    with _transport(registry_token, tmp_path, "bob") as transport:
        reader = RegistryClient(transport, registry_token.host, "lab/src")
        assert reader.manifest_digest("v1") is not None
        pusher = RegistryClient(transport, registry_token.host, "lab/bob", push=True)
        with pytest.raises(RegistryError) as info:
            pusher.check_push_permission()
        assert str(info.value).startswith(f"registry {registry_token.host}: lab/bob (push check): ")
        assert "UNAUTHORIZED" in str(info.value) or "DENIED" in str(info.value)
