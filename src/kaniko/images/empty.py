"""``scratch``: the image with no layers that ``FROM scratch`` starts from.

Like the Go kaniko's base for scratch stages (go-containerregistry's ``empty.Image`` with the
platform filled in), it has Docker v2 schema 2 media types and a minimal config: platform
fields, ``rootfs.type`` "layers" and an empty run config. There is no ``Env``: the executor
adds the default ``PATH`` when a stage starts, as Docker does.
"""

from __future__ import annotations

from kaniko.images.composed import ComposedImage, ImageParts
from kaniko.oci import mediatypes as mt
from kaniko.oci.config import ImageConfig
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform


def scratch_config(platform: Platform) -> ImageConfig:
    """The config of an empty image for ``platform``."""
    return ImageConfig(
        architecture=platform.architecture,
        os=platform.os,
        variant=platform.variant,
        rootfs_type="layers",
    )


def scratch(platform: Platform | None = None) -> Image:
    """An image with no layers for ``platform`` (default: this machine's)."""
    config = scratch_config(platform or Platform.host())
    return ComposedImage(ImageParts.new(mt.DOCKER_MANIFEST, config))
