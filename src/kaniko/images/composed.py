"""Images assembled from parts, computed on first use: what ``scratch`` and mutations return.

:class:`ImageParts` is the plain data of an image: manifest media type, config (kept as the
exact bytes it was read as, or a new :class:`~kaniko.oci.config.ImageConfig`), layers and
their manifest descriptors. :class:`ComposedImage` turns parts into manifest and config
bytes; its manifest is built from the config digest and the layer descriptors and written
as go-containerregistry's JSON (:mod:`kaniko.oci.canonical`). :class:`LazyImage` defers
building the parts until something asks, so a chain of mutations over a remote base
touches the registry once, and only if the result is used; a chain of any length is
resolved in one loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kaniko.errors import ImageError
from kaniko.oci import mediatypes as mt
from kaniko.oci.config import ImageConfig
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest, sha256_of
from kaniko.oci.image import Image, Layer, described_layers, layer_descriptor
from kaniko.oci.manifest import Manifest


@dataclass(frozen=True, slots=True)
class ImageParts:
    """Everything an image is made of; ``descriptors[i]`` describes ``layers[i]``."""

    media_type: str
    config: ImageConfig | bytes
    layers: tuple[Layer, ...] = ()
    descriptors: tuple[Descriptor, ...] = ()
    config_media_type: str = ""  # "" means the one that goes with media_type
    annotations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not mt.is_manifest(self.media_type):
            raise ImageError(f"not an image manifest media type: {self.media_type!r}")
        if len(self.descriptors) != len(self.layers):
            raise ImageError(
                f"image has {len(self.layers)} layers but {len(self.descriptors)} descriptors"
            )

    @classmethod
    def new(
        cls, media_type: str, config: ImageConfig | bytes, layers: Sequence[Layer] = ()
    ) -> ImageParts:
        """Parts whose layer descriptors come from the layers themselves."""
        layers = tuple(layers)
        return cls(media_type, config, layers, tuple(layer_descriptor(x) for x in layers))

    def parsed_config(self) -> ImageConfig:
        """The config as a model (parsed if it is held as bytes)."""
        if isinstance(self.config, ImageConfig):
            return self.config
        return ImageConfig.from_json(self.config)

    def replace(self, **changes: Any) -> ImageParts:
        """A copy with fields replaced."""
        return replace(self, **changes)


def parts_of(image: Image) -> ImageParts:
    """The parts of any image (its config kept as the exact bytes it holds)."""
    if isinstance(image, ComposedImage | LazyImage):
        return image.parts()
    manifest = image.manifest()
    pairs = described_layers(image)
    return ImageParts(
        media_type=manifest.media_type,
        config=image.raw_config(),
        layers=tuple(layer for _, layer in pairs),
        descriptors=tuple(desc for desc, _ in pairs),
        config_media_type=manifest.config.media_type,
        annotations=manifest.annotations,
    )


class ComposedImage:
    """An image made from :class:`ImageParts`; bytes are computed once, when first asked."""

    def __init__(self, parts: ImageParts) -> None:
        self._parts = parts
        self._raw_config: bytes | None = None
        self._config: ImageConfig | None = None
        self._manifest: Manifest | None = None
        self._raw_manifest: bytes | None = None

    def parts(self) -> ImageParts:
        return self._parts

    @property
    def media_type(self) -> str:
        return self._parts.media_type

    def raw_config(self) -> bytes:
        if self._raw_config is None:
            config = self._parts.config
            self._raw_config = config if isinstance(config, bytes) else config.to_json()
        return self._raw_config

    def config(self) -> ImageConfig:
        if self._config is None:
            self._config = self._parts.parsed_config()
        return self._config

    def manifest(self) -> Manifest:
        if self._manifest is None:
            parts = self._parts
            config_type = parts.config_media_type or mt.config_type_for(parts.media_type)
            self._manifest = Manifest(
                media_type=parts.media_type,
                config=Descriptor.for_blob(self.raw_config(), config_type),
                layers=parts.descriptors,
                annotations=dict(parts.annotations),
            )
        return self._manifest

    def raw_manifest(self) -> bytes:
        if self._raw_manifest is None:
            self._raw_manifest = self.manifest().to_json()
        return self._raw_manifest

    def digest(self) -> Digest:
        return sha256_of(self.raw_manifest())

    def layers(self) -> Sequence[Layer]:
        return self._parts.layers


class LazyImage:
    """``change`` applied to the parts of ``base``, computed the first time anything is asked.

    A build derives one image per Dockerfile step, so chains are as long as the Dockerfile
    (10 000 steps and more). Resolving one walks down to the nearest image that is already
    resolved and applies the pending changes upwards in a loop: no recursion, and no
    intermediate image is kept, so memory stays that of one image whatever the length.
    """

    def __init__(self, base: Image, change: Callable[[ImageParts], ImageParts]) -> None:
        self._base: Image | None = base
        self._change: Callable[[ImageParts], ImageParts] | None = change
        self._image: ComposedImage | None = None

    def _resolved(self) -> ComposedImage:
        if self._image is None:
            pending: list[Callable[[ImageParts], ImageParts]] = []
            node: Image | None = self
            while isinstance(node, LazyImage) and node._image is None:
                assert node._change is not None
                pending.append(node._change)
                node = node._base
            assert node is not None
            parts = parts_of(node)
            for change in reversed(pending):
                parts = change(parts)
            self._image = ComposedImage(parts)
            self._base = self._change = None  # drop the chain below (and what it holds)
        return self._image

    def parts(self) -> ImageParts:
        return self._resolved().parts()

    @property
    def media_type(self) -> str:
        return self._resolved().media_type

    def raw_config(self) -> bytes:
        return self._resolved().raw_config()

    def config(self) -> ImageConfig:
        return self._resolved().config()

    def manifest(self) -> Manifest:
        return self._resolved().manifest()

    def raw_manifest(self) -> bytes:
        return self._resolved().raw_manifest()

    def digest(self) -> Digest:
        return self._resolved().digest()

    def layers(self) -> Sequence[Layer]:
        return self._resolved().layers()
