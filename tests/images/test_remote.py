"""Pulling lab-made images from a real registry: platform choice, lazy verified blobs."""

from __future__ import annotations

import gzip
import hashlib
import tarfile

import pytest

from kaniko.errors import ImageError, RegistryError
from kaniko.images.remote import fetch, remapped
from kaniko.oci.platform import Platform
from kaniko.options import RegistryOptions
from kaniko.refs.reference import Reference
from kaniko.registry.keychain import Keychain
from kaniko.registry.transport import Transport


@pytest.fixture
def transport():
    with Transport(RegistryOptions(), Keychain([])) as t:
        yield t


def test_fetch_busybox(transport, base_images, busybox_layer) -> None:
    ref = Reference.parse(base_images["busybox"])
    image = fetch(transport, ref, Platform.host())
    assert image.config().architecture == Platform.host().architecture
    assert image.config().config.cmd == ("sh",)
    [layer] = image.layers()
    assert layer.digest.encoded == hashlib.sha256(busybox_layer).hexdigest()
    with layer.open_compressed() as blob:
        assert blob.read() == busybox_layer
    with (
        layer.open_uncompressed() as tar_stream,
        tarfile.open(fileobj=tar_stream, mode="r|") as tar,
    ):
        names = {m.name: m for m in tar}
    assert names["bin/busybox"].isfile()
    assert names["bin/sh"].issym() and names["bin/sh"].linkname == "/bin/busybox"
    assert layer.diff_id.encoded == hashlib.sha256(gzip.decompress(busybox_layer)).hexdigest()


@pytest.mark.parametrize(
    ("platform", "label"), [("linux/amd64", "amd64"), ("linux/arm64", "arm64")]
)
def test_fetch_from_index_picks_the_platform(transport, base_images, platform, label) -> None:
    image = fetch(transport, Reference.parse(base_images["multiarch"]), Platform.parse(platform))
    assert image.config().config.labels == {"a": label}
    assert image.config().architecture == label


def test_unknown_platform_lists_what_exists(transport, base_images) -> None:
    with pytest.raises(ImageError) as info:
        fetch(transport, Reference.parse(base_images["multiarch"]), Platform.parse("linux/s390x"))
    assert "no image for platform linux/s390x" in str(info.value)
    assert "linux/amd64" in str(info.value) and "unknown" not in str(info.value)


def test_registry_map_tries_mirrors_then_falls_back(transport, base_images, registry_plain) -> None:
    ref = Reference.parse("lab.invalid/library/busybox:latest")
    maps = {"lab.invalid": ("127.0.0.1:9/nowhere", registry_plain.host)}
    image = fetch(transport, ref, Platform.host(), maps=maps, fallback=False)
    assert image.reference.registry == registry_plain.host
    with pytest.raises(RegistryError, match="unreachable"):
        fetch(
            transport, ref, Platform.host(), maps={"lab.invalid": ("127.0.0.1:9",)}, fallback=False
        )


def test_remapped_prefixes() -> None:
    ref = Reference.parse("busybox:1.36")
    maps = {"index.docker.io": ("mirror.example.com", "https://m2.example.com/hub/")}
    assert [str(r) for r in remapped(ref, maps)] == [
        "mirror.example.com/library/busybox:1.36",
        "m2.example.com/hub/library/busybox:1.36",
    ]


def test_missing_image_is_one_line(transport, registry_plain) -> None:
    ref = Reference.parse(f"{registry_plain.host}/lab/absent:v9")
    with pytest.raises(RegistryError) as info:
        fetch(transport, ref, Platform.host(), retries=1, backoff=0)
    assert str(info.value) == (
        f"registry {registry_plain.host}: lab/absent:v9: MANIFEST_UNKNOWN: manifest unknown"
    )
