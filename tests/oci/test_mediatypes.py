"""Media type classification and Docker/OCI layer type conversion."""

from __future__ import annotations

import pytest

from kaniko.errors import ImageError
from kaniko.oci import mediatypes as mt


@pytest.mark.parametrize(
    ("media_type", "index", "manifest", "schema1", "layer", "config"),
    [
        (mt.OCI_INDEX, True, False, False, False, False),
        (mt.DOCKER_MANIFEST_LIST, True, False, False, False, False),
        (mt.OCI_MANIFEST, False, True, False, False, False),
        (mt.DOCKER_MANIFEST, False, True, False, False, False),
        (mt.DOCKER_SCHEMA1, False, False, True, False, False),
        (mt.DOCKER_SCHEMA1_SIGNED, False, False, True, False, False),
        (mt.OCI_CONFIG, False, False, False, False, True),
        (mt.DOCKER_CONFIG, False, False, False, False, True),
        (mt.DOCKER_LAYER, False, False, False, True, False),
        (mt.DOCKER_FOREIGN_LAYER, False, False, False, True, False),
        (mt.OCI_LAYER_ZSTD, False, False, False, True, False),
        (mt.OCI_LAYER_NONDIST, False, False, False, True, False),
        ("application/json", False, False, False, False, False),
    ],
)
def test_classification(
    media_type: str, index: bool, manifest: bool, schema1: bool, layer: bool, config: bool
) -> None:
    assert mt.is_index(media_type) is index
    assert mt.is_manifest(media_type) is manifest
    assert mt.is_schema1(media_type) is schema1
    assert mt.is_layer(media_type) is layer
    assert mt.is_config(media_type) is config


@pytest.mark.parametrize(
    ("media_type", "compression", "distributable", "oci", "docker"),
    [
        (mt.DOCKER_LAYER, "gzip", True, mt.OCI_LAYER_GZIP, mt.DOCKER_LAYER),
        (mt.DOCKER_UNCOMPRESSED_LAYER, "none", True, mt.OCI_LAYER, mt.DOCKER_UNCOMPRESSED_LAYER),
        (
            mt.DOCKER_FOREIGN_LAYER,
            "gzip",
            False,
            mt.OCI_LAYER_NONDIST_GZIP,
            mt.DOCKER_FOREIGN_LAYER,
        ),
        (mt.OCI_LAYER, "none", True, mt.OCI_LAYER, mt.DOCKER_UNCOMPRESSED_LAYER),
        (mt.OCI_LAYER_GZIP, "gzip", True, mt.OCI_LAYER_GZIP, mt.DOCKER_LAYER),
        (mt.OCI_LAYER_ZSTD, "zstd", True, mt.OCI_LAYER_ZSTD, None),
        (mt.OCI_LAYER_NONDIST, "none", False, mt.OCI_LAYER_NONDIST, None),
        (
            mt.OCI_LAYER_NONDIST_GZIP,
            "gzip",
            False,
            mt.OCI_LAYER_NONDIST_GZIP,
            mt.DOCKER_FOREIGN_LAYER,
        ),
        (mt.OCI_LAYER_NONDIST_ZSTD, "zstd", False, mt.OCI_LAYER_NONDIST_ZSTD, None),
    ],
)
def test_layer_traits_and_conversion(
    media_type: str, compression: str, distributable: bool, oci: str, docker: str | None
) -> None:
    assert mt.layer_compression(media_type) == compression
    assert mt.is_distributable(media_type) is distributable
    assert mt.to_oci_layer(media_type) == oci
    if docker is None:
        with pytest.raises(ImageError, match="Docker images have no"):
            mt.to_docker_layer(media_type)
    else:
        assert mt.to_docker_layer(media_type) == docker


def test_non_layers_are_refused() -> None:
    for func in (mt.layer_compression, mt.to_oci_layer, mt.to_docker_layer):
        with pytest.raises(ImageError, match="not a layer media type"):
            func(mt.OCI_CONFIG)
    assert mt.is_distributable(mt.OCI_CONFIG)


def test_vendor_pairs() -> None:
    assert mt.config_type_for(mt.DOCKER_MANIFEST) == mt.DOCKER_CONFIG
    assert mt.config_type_for(mt.OCI_MANIFEST) == mt.OCI_CONFIG
    assert mt.index_type_for(mt.DOCKER_MANIFEST) == mt.DOCKER_MANIFEST_LIST
    assert mt.index_type_for(mt.OCI_MANIFEST) == mt.OCI_INDEX
    assert mt.layer_media_type("docker", "gzip") == mt.DOCKER_LAYER
    assert mt.layer_media_type("oci", "zstd", distributable=False) == mt.OCI_LAYER_NONDIST_ZSTD
    with pytest.raises(ImageError):
        mt.config_type_for(mt.OCI_INDEX)


def test_accept_header_lists_every_readable_manifest_type() -> None:
    assert set(mt.MANIFEST_ACCEPT) == mt.INDEX_TYPES | mt.MANIFEST_TYPES
