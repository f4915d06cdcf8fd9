"""Media types of Docker v2 schema 2 and OCI image objects, and helpers to classify them.

Two vendors describe the same things: Docker's ``application/vnd.docker.*`` types (image
manifest v2 schema 2, manifest list) and the OCI image spec's ``application/vnd.oci.*``
ones. Docker layers are gzip (or uncompressed); OCI layers may also be zstd. Schema 1
manifests are recognised only so that they can be refused with a clear message.
"""

from __future__ import annotations

from typing import Literal

from kaniko.errors import ImageError

Compression = Literal["none", "gzip", "zstd"]

# Docker image manifest v2 schema 2.
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_UNCOMPRESSED_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

# Docker schema 1 (unsupported; recognised to reject it clearly).
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

# OCI image spec.
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_NONDIST_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})

# Accept header for manifest requests: every type we can read, indexes first.
MANIFEST_ACCEPT: tuple[str, ...] = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

# layer media type -> (vendor, compression, distributable)
_LAYERS: dict[str, tuple[str, Compression, bool]] = {
    DOCKER_LAYER: ("docker", "gzip", True),
    DOCKER_UNCOMPRESSED_LAYER: ("docker", "none", True),
    DOCKER_FOREIGN_LAYER: ("docker", "gzip", False),
    OCI_LAYER: ("oci", "none", True),
    OCI_LAYER_GZIP: ("oci", "gzip", True),
    OCI_LAYER_ZSTD: ("oci", "zstd", True),
    OCI_LAYER_NONDIST: ("oci", "none", False),
    OCI_LAYER_NONDIST_GZIP: ("oci", "gzip", False),
    OCI_LAYER_NONDIST_ZSTD: ("oci", "zstd", False),
}
_SUFFIXES: dict[Compression, str] = {"gzip": ".tar.gz", "zstd": ".tar.zst", "none": ".tar"}
_BY_TRAITS = {traits: media_type for media_type, traits in _LAYERS.items()}


def is_index(media_type: str) -> bool:
    """An OCI image index or a Docker manifest list."""
    return media_type in INDEX_TYPES


def is_manifest(media_type: str) -> bool:
    """A single-image manifest (OCI or Docker v2 schema 2), not an index."""
    return media_type in MANIFEST_TYPES


def is_schema1(media_type: str) -> bool:
    """A Docker v2 schema 1 manifest, which kaniko refuses."""
    return media_type in SCHEMA1_TYPES


def is_config(media_type: str) -> bool:
    """An image configuration blob."""
    return media_type in CONFIG_TYPES


def is_layer(media_type: str) -> bool:
    """A filesystem layer of either vendor."""
    return media_type in _LAYERS


def is_docker(media_type: str) -> bool:
    """One of Docker's ``application/vnd.docker.*`` types."""
    return media_type.startswith("application/vnd.docker.")


def is_distributable(media_type: str) -> bool:
    """False for foreign/non-distributable layers, which registries may not hold."""
    traits = _LAYERS.get(media_type)
    return traits is None or traits[2]


def layer_compression(media_type: str) -> Compression:
    """How a layer blob of ``media_type`` is compressed."""
    return _traits(media_type)[1]


def layer_suffix(compression: Compression) -> str:
    """The file name ending of a layer blob compressed so (``.tar.gz``, ``.tar.zst``, ``.tar``)."""
    return _SUFFIXES[compression]


def layer_media_type(
    vendor: Literal["docker", "oci"], compression: Compression, *, distributable: bool = True
) -> str:
    """The layer media type for a vendor, a compression and distributability."""
    media_type = _BY_TRAITS.get((vendor, compression, distributable))
    if media_type is None:
        kind = "" if distributable else "non-distributable "
        raise ImageError(f"Docker images have no {kind}{compression} layer media type")
    return media_type


def uses_oci_types(compression: Compression | None, base_manifest_type: str) -> bool:
    """Whether an image built on a base of ``base_manifest_type``, its new layers compressed
    as ``compression``, has OCI media types: an OCI base's does, and zstd layers force OCI
    (Docker has no zstd layer type), for the new layers and the base's alike."""
    return compression == "zstd" or not is_docker(base_manifest_type)


def to_oci_layer(media_type: str) -> str:
    """The OCI equivalent of a layer media type (OCI types are returned unchanged)."""
    _, compression, distributable = _traits(media_type)
    return layer_media_type("oci", compression, distributable=distributable)


def to_docker_layer(media_type: str) -> str:
    """The Docker equivalent of a layer media type; zstd layers have none."""
    _, compression, distributable = _traits(media_type)
    return layer_media_type("docker", compression, distributable=distributable)


def config_type_for(manifest_type: str) -> str:
    """The config media type that goes with a manifest media type."""
    if manifest_type == DOCKER_MANIFEST:
        return DOCKER_CONFIG
    if manifest_type == OCI_MANIFEST:
        return OCI_CONFIG
    raise ImageError(f"not an image manifest media type: {manifest_type!r}")


def index_type_for(manifest_type: str) -> str:
    """The index media type of the same vendor as a manifest media type."""
    return DOCKER_MANIFEST_LIST if is_docker(manifest_type) else OCI_INDEX


def _traits(media_type: str) -> tuple[str, Compression, bool]:
    traits = _LAYERS.get(media_type)
    if traits is None:
        raise ImageError(f"not a layer media type: {media_type!r}")
    return traits
