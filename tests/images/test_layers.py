"""The Layer/Image protocols and the concrete layers of kaniko.oci.image."""

from __future__ import annotations

import gzip
import hashlib

import pytest
import zstandard

from kaniko.errors import ImageError
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.images.layout import write_oci_layout
from kaniko.images.tarball import write_docker_tarball
from kaniko.images.validate import validate
from kaniko.oci import mediatypes as mt
from kaniko.oci.image import BytesLayer, FileLayer, Image, Layer, RawImage, described_layers
from kaniko.oci.platform import Platform
from kaniko.oci.streams import LayerSpooler
from tests.images.helpers import LAYER1_FILES, make_tar, sha, two_layer_image

TAR = make_tar(LAYER1_FILES)

BLOBS = {
    mt.DOCKER_LAYER: gzip.compress(TAR, mtime=0),
    mt.OCI_LAYER_GZIP: gzip.compress(TAR, mtime=0),
    mt.OCI_LAYER_ZSTD: zstandard.ZstdCompressor().compress(TAR),
    mt.OCI_LAYER: TAR,
    mt.DOCKER_UNCOMPRESSED_LAYER: TAR,
}


@pytest.mark.parametrize("media_type", sorted(BLOBS))
def test_bytes_layer_decompresses_each_encoding(media_type: str) -> None:
    blob = BLOBS[media_type]
    layer = BytesLayer.from_blob(blob, media_type)
    assert layer.digest == sha(blob)
    assert layer.size == len(blob)
    assert layer.diff_id == sha(TAR)
    with layer.open_uncompressed() as f:
        assert f.read() == TAR
    with layer.open_compressed() as f:
        assert f.read() == blob


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_from_tar_compresses_and_names_the_media_type(compression: mt.Compression) -> None:
    layer = BytesLayer.from_tar(TAR, compression=compression, oci=True)
    assert layer.media_type == mt.layer_media_type("oci", compression)
    assert layer.diff_id == sha(TAR)
    with layer.open_uncompressed() as f:
        assert f.read() == TAR
    # Deterministic: the same tar compresses to the same blob.
    assert BytesLayer.from_tar(TAR, compression=compression, oci=True).digest == layer.digest


def test_file_layer_from_file_reads_digests(tmp_path) -> None:
    blob = BLOBS[mt.OCI_LAYER_ZSTD]
    path = tmp_path / "blob"
    path.write_bytes(blob)
    layer = FileLayer.from_file(str(path), mt.OCI_LAYER_ZSTD)
    assert (layer.digest, layer.diff_id, layer.size) == (sha(blob), sha(TAR), len(blob))
    with layer.open_uncompressed() as f:
        assert hashlib.sha256(f.read()).hexdigest() == sha(TAR).hex
    layer.remove()
    assert not path.exists()


def test_verifying_file_layer_rejects_changed_content(tmp_path) -> None:
    blob = BLOBS[mt.DOCKER_LAYER]
    path = tmp_path / "blob"
    path.write_bytes(blob)
    good = FileLayer(path, sha(blob), sha(TAR), len(blob), mt.DOCKER_LAYER, verify=True)
    with good.open_compressed() as f:
        assert f.read() == blob
    path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with (
        pytest.raises(ImageError, match=f"blob {sha(blob)}: digest mismatch"),
        good.open_compressed() as f,
    ):
        f.read()


def test_missing_spool_file_is_an_image_error(tmp_path) -> None:
    layer = FileLayer(tmp_path / "gone", sha(b"x"), sha(b"y"), 1, mt.DOCKER_LAYER)
    with pytest.raises(ImageError, match="cannot open"), layer.open_compressed():
        pass


def test_corrupt_blob_cannot_give_a_diff_id() -> None:
    with pytest.raises(ImageError, match="cannot decompress"):
        BytesLayer.from_blob(b"not gzip at all", mt.DOCKER_LAYER)


def test_truncated_zstd_blob_cannot_give_a_diff_id() -> None:
    # zstandard's own stream reader ends quietly inside a cut frame; layers must not.
    blob = BLOBS[mt.OCI_LAYER_ZSTD]
    with pytest.raises(ImageError, match=r"cannot decompress .*inside a frame"):
        BytesLayer.from_blob(blob[:-20], mt.OCI_LAYER_ZSTD)


def test_blob_compressed_otherwise_than_its_media_type_says() -> None:
    with pytest.raises(ImageError, match=r"cannot decompress .*not zstd data .*gzip"):
        BytesLayer.from_blob(BLOBS[mt.DOCKER_LAYER], mt.OCI_LAYER_ZSTD)


def test_from_tar_compresses_as_the_snapshot_spooler_does(tmp_path) -> None:
    with LayerSpooler(tmp_path, "gzip") as spool:
        spool.write(TAR)
    spooled = spool.finish()
    assert BytesLayer.from_tar(TAR).digest == spooled.digest


def test_protocols_are_runtime_checkable() -> None:
    image, _ = two_layer_image()
    assert isinstance(image, Image)
    assert isinstance(scratch(Platform.host()), Image)
    assert all(isinstance(layer, Layer) for layer in image.layers())
    assert not isinstance(object(), Layer)


def test_raw_image_keeps_exact_bytes() -> None:
    image, _ = two_layer_image()
    # Pretty-printed manifest bytes: the digest must be of these bytes, not a re-encoding.
    pretty = image.manifest().to_json().replace(b",", b", ")
    raw = RawImage(pretty, image.raw_config(), image.layers())
    assert raw.raw_manifest() == pretty
    assert raw.digest() == sha(pretty)
    assert raw.manifest() == image.manifest()
    assert raw.config() == image.config()
    assert raw.media_type == mt.DOCKER_MANIFEST


def test_described_layers_pairs_descriptors_and_refuses_a_count_mismatch(tmp_path) -> None:
    image, _ = two_layer_image()
    pairs = described_layers(image)
    assert [desc for desc, _ in pairs] == list(image.manifest().layers)
    assert [layer for _, layer in pairs] == list(image.layers())
    short = RawImage(image.raw_manifest(), image.raw_config(), image.layers()[:1])
    for use in (
        described_layers,
        validate,
        lambda i: write_oci_layout(i, str(tmp_path / "layout")),
        lambda i: write_docker_tarball(i, str(tmp_path / "t.tar"), ["x:1"]),
        lambda i: mutate.with_media_types(i, oci=True).manifest(),
    ):
        with pytest.raises(ImageError, match="manifest lists 2 layers, the image has 1"):
            use(short)
