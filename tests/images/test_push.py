"""Pushing images to the lab registries, read back by skopeo (an independent reader)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from kaniko.errors import RegistryError
from kaniko.images.push import check_push_permissions, push
from kaniko.images.remote import fetch
from kaniko.oci.platform import Platform
from kaniko.options import RegistryOptions
from kaniko.refs.reference import Reference
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport
from tests.lab.registry import Registry
from tests.lab.tools import require_tool


def _transport(tmp_path: Path, registry: Registry | None = None, user: str | None = None):
    paths, certs = [], {}
    if registry is not None and user:
        paths = [registry.docker_config(tmp_path / f"cfg-{user}", user) / "config.json"]
    if registry is not None and registry.ca_cert:
        certs = {registry.host: str(registry.ca_cert)}
    return Transport(RegistryOptions(registry_certificates=certs), Keychain(paths))


def _skopeo(*args: str) -> str:
    return subprocess.run(
        [require_tool("skopeo"), *args], capture_output=True, text=True, check=True
    ).stdout


def _skopeo_creds(registry: Registry, user: str) -> list[str]:
    return [
        f"--creds={user}:{registry.users[user]}",
        f"--cert-dir={registry.ca_cert.parent / 'certs.d'}",
    ]


def test_push_to_two_repositories_mounts_and_skopeo_reads_it(
    tmp_path: Path, base_images, registry_plain
) -> None:
    with _transport(tmp_path) as transport:
        image = fetch(transport, Reference.parse(base_images["busybox"]), Platform.host())
        dests = [
            Reference.parse(f"{registry_plain.host}/pushed/one:v1"),
            Reference.parse(f"{registry_plain.host}/pushed/one:v2"),
            Reference.parse(f"{registry_plain.host}/pushed/two:latest"),
        ]
        result = push(transport, image, dests)
    assert result.digest == image.digest()
    layer = image.layers()[0]
    assert result.blobs[f"pushed/one@{layer.digest}"] == "mounted"  # from library/busybox
    assert result.blobs[f"pushed/two@{layer.digest}"] == "mounted"
    for dest in dests:
        info = json.loads(_skopeo("inspect", "--tls-verify=false", f"docker://{dest}"))
        assert info["Digest"] == str(image.digest())
        assert info["Architecture"] == Platform.host().architecture
    out = tmp_path / "copy"
    _skopeo("copy", "--src-tls-verify=false", f"docker://{dests[2]}", f"dir:{out}")
    assert (out / "manifest.json").read_bytes() == image.raw_manifest()
    assert hashlib.sha256((out / layer.digest.encoded).read_bytes()).hexdigest() == (
        layer.digest.encoded
    )


def test_push_across_registries_with_basic_auth(
    tmp_path: Path, base_images, registry_basic
) -> None:
    source = _transport(tmp_path)
    with source, _transport(tmp_path, registry_basic, "alice") as target:
        image = fetch(source, Reference.parse(base_images["busybox"]), Platform.host())
        dest = Reference.parse(f"{registry_basic.host}/cross/busybox:copy")
        check_push_permissions(target, [dest])
        result = push(target, image, [dest])
        assert set(result.blobs.values()) == {"uploaded"}
    info = json.loads(
        _skopeo("inspect", *_skopeo_creds(registry_basic, "alice"), f"docker://{dest}")
    )
    assert info["Digest"] == str(image.digest())


def test_push_permission_check_refuses_pull_only_user(tmp_path: Path, registry_token) -> None:
    dest = Reference.parse(f"{registry_token.host}/denied/app:v1")
    with (
        _transport(tmp_path, registry_token, "bob") as transport,
        pytest.raises(RegistryError) as info,
    ):
        check_push_permissions(transport, [dest])
    assert str(info.value).startswith(f"registry {registry_token.host}: denied/app (push check)")
    assert registry_token.users["bob"] not in str(info.value)
