"""scratch and the lazy, immutable mutations: the manifest and config JSON they produce."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from kaniko.errors import ImageError
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.oci import mediatypes as mt
from kaniko.oci.config import History, ImageConfig
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest
from kaniko.oci.image import BytesLayer, Image, Layer, RawImage, layer_descriptor
from kaniko.oci.manifest import Manifest
from kaniko.oci.platform import Platform
from tests.images.helpers import (
    LAYER1_FILES,
    config_json,
    make_tar,
    manifest_json,
    sha,
    two_layer_image,
)


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def test_scratch_is_an_empty_docker_image_for_the_platform() -> None:
    image = scratch(Platform("linux", "arm", "v7"))
    config = {
        "architecture": "arm",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []},
        "config": {},
        "variant": "v7",
    }
    assert image.raw_config() == compact(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": {
            "mediaType": mt.DOCKER_CONFIG,
            "size": len(compact(config)),
            "digest": str(sha(compact(config))),
        },
        "layers": [],
    }
    assert image.raw_manifest() == compact(manifest)
    assert image.digest() == sha(compact(manifest))
    assert image.layers() == ()


def test_append_records_layers_diff_ids_and_history() -> None:
    image, tars = two_layer_image()
    layers = image.layers()
    config = config_json(image)
    assert config["rootfs"] == {"type": "layers", "diff_ids": [str(sha(t)) for t in tars]}
    assert config["history"] == [
        {"author": "kaniko", "created": "2024-05-01T12:00:00Z", "created_by": "COPY . /"},
        {
            "author": "kaniko",
            "created": "2024-05-01T12:00:01Z",
            "created_by": "ENV A=b",
            "empty_layer": True,
        },
        {"author": "kaniko", "created": "2024-05-01T12:00:02Z", "created_by": "RUN make"},
    ]
    expected = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": {
            "mediaType": mt.DOCKER_CONFIG,
            "size": len(image.raw_config()),
            "digest": str(sha(image.raw_config())),
        },
        "layers": [
            {"mediaType": mt.DOCKER_LAYER, "size": layer.size, "digest": str(layer.digest)}
            for layer in layers
        ],
    }
    assert image.raw_manifest() == compact(expected)


def test_append_without_history_keeps_history_aligned() -> None:
    layer = BytesLayer.from_tar(make_tar(LAYER1_FILES))
    image = mutate.append(scratch(Platform("linux", "amd64")), layer)
    assert config_json(image)["history"] == [{}]
    assert image.config().history == (History(),)


def test_add_history_marks_the_entry_empty() -> None:
    image = mutate.add_history(scratch(Platform.host()), History(created_by="USER me"))
    assert image.config().history == (History(created_by="USER me", empty_layer=True),)
    assert image.config().diff_ids == ()


class CountingImage:
    """Wraps an image and counts every call, to prove mutations are lazy."""

    def __init__(self, inner: Image) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def media_type(self) -> str:
        self.calls.append("media_type")
        return self.inner.media_type

    def raw_manifest(self) -> bytes:
        self.calls.append("raw_manifest")
        return self.inner.raw_manifest()

    def manifest(self) -> Manifest:
        self.calls.append("manifest")
        return self.inner.manifest()

    def digest(self) -> Digest:
        self.calls.append("digest")
        return self.inner.digest()

    def raw_config(self) -> bytes:
        self.calls.append("raw_config")
        return self.inner.raw_config()

    def config(self) -> ImageConfig:
        self.calls.append("config")
        return self.inner.config()

    def layers(self) -> Sequence[Layer]:
        self.calls.append("layers")
        return self.inner.layers()


def test_mutations_are_lazy_and_leave_the_base_alone() -> None:
    base_image, _ = two_layer_image()
    before = base_image.raw_manifest()
    base = CountingImage(base_image)
    layer = BytesLayer.from_tar(make_tar({"x": b"x"}))
    derived = mutate.with_created(mutate.append(base, layer), datetime(2024, 1, 2, tzinfo=UTC))
    assert base.calls == []
    first = derived.digest()
    seen = len(base.calls)
    assert seen > 0
    assert derived.digest() == first
    assert len(derived.layers()) == 3
    assert len(base.calls) == seen  # computed once
    assert base_image.raw_manifest() == before
    assert len(base_image.layers()) == 2


def docker_style_base() -> RawImage:
    """A base image config as Docker writes it: fields in Docker's order, extra fields."""
    tar = make_tar(LAYER1_FILES)
    layer = BytesLayer.from_tar(tar)
    config = {
        "architecture": "amd64",
        "config": {"Hostname": "abc123", "Env": ["PATH=/bin"], "Image": "sha256:00"},
        "container": "0123456789ab",
        "container_config": {"Hostname": "abc123", "Cmd": ["/bin/sh"]},
        "created": "2020-01-01T00:00:00.123456789Z",
        "docker_version": "20.10.7",
        "history": [{"created": "2020-01-01T00:00:00Z", "created_by": "ADD x /", "author": "a"}],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [str(layer.diff_id)]},
        "vendor.custom": {"keep": [1, 2, 3]},
    }
    raw_config = json.dumps(config, indent=2).encode()
    manifest = Manifest(
        mt.DOCKER_MANIFEST,
        config=Descriptor.for_blob(raw_config, mt.DOCKER_CONFIG),
        layers=(layer_descriptor(layer),),
    )
    return RawImage(manifest.to_json(), raw_config, [layer])


def test_with_config_preserves_unknown_fields() -> None:
    base = docker_style_base()
    image = mutate.with_config(base, lambda c: c.with_env("A", "b"))
    config = config_json(image)
    assert config["config"]["Env"] == ["PATH=/bin", "A=b"]
    assert config["config"]["Image"] == "sha256:00"
    assert config["vendor.custom"] == {"keep": [1, 2, 3]}
    assert config["container_config"] == {"Hostname": "abc123", "Cmd": ["/bin/sh"]}
    assert config["created"] == "2020-01-01T00:00:00.123456789Z"
    # A whole new config works too, and the manifest points at the new config blob.
    replaced = mutate.with_config(base, base.config().replace(author="me"))
    assert config_json(replaced)["author"] == "me"
    assert replaced.manifest().config.digest == sha(replaced.raw_config())


def test_media_type_conversion_keeps_blobs_and_round_trips() -> None:
    docker, _ = two_layer_image()
    oci = mutate.with_media_types(docker, oci=True)
    m = manifest_json(oci)
    assert m["mediaType"] == mt.OCI_MANIFEST
    assert m["config"]["mediaType"] == mt.OCI_CONFIG
    assert [x["mediaType"] for x in m["layers"]] == [mt.OCI_LAYER_GZIP] * 2
    assert [layer.media_type for layer in oci.layers()] == [mt.OCI_LAYER_GZIP] * 2
    assert oci.raw_config() == docker.raw_config()  # the config blob is not rewritten
    assert [x.digest for x in oci.layers()] == [x.digest for x in docker.layers()]
    with oci.layers()[0].open_uncompressed() as f:
        assert sha(f.read()) == oci.config().diff_ids[0]
    back = mutate.with_media_types(oci, oci=False)
    assert back.raw_manifest() == docker.raw_manifest()


class MountableLayer:
    """A layer with an extra attribute, like a remote layer's mount ``source``."""

    def __init__(self, inner: Layer) -> None:
        self.inner = inner
        self.digest, self.diff_id, self.size = inner.digest, inner.diff_id, inner.size
        self.media_type = inner.media_type
        self.source = ("registry.example", "team/base")

    def open_compressed(self):
        return self.inner.open_compressed()

    def open_uncompressed(self):
        return self.inner.open_uncompressed()


def test_converted_layers_keep_their_other_attributes() -> None:
    layer = MountableLayer(BytesLayer.from_tar(make_tar(LAYER1_FILES)))
    image = mutate.append(scratch(Platform.host()), layer)
    converted = mutate.with_media_types(image, oci=True).layers()[0]
    assert converted.media_type == mt.OCI_LAYER_GZIP
    assert getattr(converted, "source", None) == ("registry.example", "team/base")


def test_zstd_layers_have_no_docker_media_type() -> None:
    layer = BytesLayer.from_tar(make_tar(LAYER1_FILES), compression="zstd", oci=True)
    image = mutate.append(mutate.with_media_types(scratch(Platform.host()), oci=True), layer)
    docker = mutate.with_media_types(image, oci=False)
    with pytest.raises(ImageError, match=rf"layer 0 \({layer.digest}\) to Docker media types"):
        docker.raw_manifest()


def test_canonical_clears_host_and_time_fields_but_not_layers() -> None:
    base = docker_style_base()
    image = mutate.canonical(base)
    config = config_json(image)
    assert config["created"] == "0001-01-01T00:00:00Z"
    assert config["history"] == [{"created": "0001-01-01T00:00:00Z", "created_by": "ADD x /"}]
    assert "container" not in config and "docker_version" not in config
    assert "Hostname" not in config["config"]
    assert config["container_config"] == {"Cmd": ["/bin/sh"]}
    assert config["vendor.custom"] == {"keep": [1, 2, 3]}
    assert [x.digest for x in image.layers()] == [x.digest for x in base.layers()]
    assert image.manifest().layers == base.manifest().layers


def test_canonical_with_an_epoch_and_with_created() -> None:
    image, _ = two_layer_image()
    epoch = datetime.fromtimestamp(1700000000, tz=UTC)
    config = config_json(mutate.canonical(image, epoch))
    assert config["created"] == "2023-11-14T22:13:20Z"
    assert {h["created"] for h in config["history"]} == {"2023-11-14T22:13:20Z"}
    assert all("author" not in h for h in config["history"])
    when = datetime(2024, 5, 1, 12, 30, 0, 500000, tzinfo=UTC)
    assert config_json(mutate.with_created(image, when))["created"] == "2024-05-01T12:30:00.5Z"


def test_same_inputs_give_identical_bytes() -> None:
    one, _ = two_layer_image()
    two, _ = two_layer_image()
    assert one.raw_manifest() == two.raw_manifest()
    assert one.raw_config() == two.raw_config()
    assert mutate.canonical(one).digest() == mutate.canonical(two).digest()


def test_a_chain_as_long_as_a_big_dockerfile_resolves_without_recursion() -> None:
    """Each step of a build derives one image; 20 000 of them resolve in one loop."""
    image: Image = scratch(Platform("linux", "amd64"))
    middle: Image | None = None
    for i in range(20_000):
        image = mutate.add_history(image, History(created_by=f"step {i}"))
        if i == 9_999:
            middle = image
    assert middle is not None and len(middle.config().history) == 10_000
    history = image.config().history
    assert len(history) == 20_000 and history[-1].created_by == "step 19999"
