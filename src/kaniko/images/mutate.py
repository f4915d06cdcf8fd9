"""Immutable, lazy image mutations: each returns a new image and leaves its input alone.

Nothing is computed when a mutation is called; the new image builds its parts from the old
one the first time it is asked for anything (:class:`~kaniko.images.composed.LazyImage`).
Layers are never re-read or re-encoded here: base layers stay byte for byte what they were
(unlike go-containerregistry's ``mutate.Canonical``, which re-tars every layer, base layers
included, and so changes their digests).

A config that is changed is written back with :meth:`ImageConfig.to_json` (ggcr's field
order, fields it does not model kept); a config that is not changed keeps its exact bytes.
The manifest is always rebuilt from the config digest and the layer descriptors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, BinaryIO

from kaniko.errors import ImageError
from kaniko.images.composed import ImageParts, LazyImage
from kaniko.oci import mediatypes as mt
from kaniko.oci.config import History, ImageConfig, go_time
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image, Layer, layer_descriptor

# Go's zero time.Time, as it marshals: what the Go kaniko's --reproducible writes as every
# ``created``. (Spelled out: strftime does not zero-pad the year 1 on every platform.)
GO_ZERO_TIME = "0001-01-01T00:00:00Z"

ConfigChange = ImageConfig | Callable[[ImageConfig], ImageConfig]


def _derive(image: Image, change: Callable[[ImageParts], ImageParts]) -> Image:
    return LazyImage(image, change)


def append(image: Image, layer: Layer, history: History | None = None) -> Image:
    """``image`` with ``layer`` on top, its diff ID in the config and ``history`` recorded.

    Without ``history`` an empty entry is recorded, so history stays aligned with layers.
    The layer's media type is used as it is; :func:`with_media_types` unifies vendors.
    """
    entry = replace(history or History(), empty_layer=False)

    def change(parts: ImageParts) -> ImageParts:
        config = parts.parsed_config().with_layer(layer.diff_id, entry)
        return parts.replace(
            config=config,
            layers=(*parts.layers, layer),
            descriptors=(*parts.descriptors, layer_descriptor(layer)),
        )

    return _derive(image, change)


def add_history(image: Image, entry: History) -> Image:
    """``image`` with a history entry for a step that made no layer (``empty_layer``)."""
    entry = replace(entry, empty_layer=True)
    return _derive(
        image, lambda parts: parts.replace(config=parts.parsed_config().with_history(entry))
    )


def with_config(image: Image, change: ConfigChange) -> Image:
    """``image`` with its config replaced by ``change`` (a config, or a function of the old)."""

    def apply(parts: ImageParts) -> ImageParts:
        config = change(parts.parsed_config()) if callable(change) else change
        if not isinstance(config, ImageConfig):
            raise TypeError(f"with_config: expected an ImageConfig, got {type(config).__name__}")
        return parts.replace(config=config)

    return _derive(image, apply)


def with_created(image: Image, when: datetime) -> Image:
    """``image`` with the config's ``created`` set to ``when`` (naive means UTC)."""
    stamp = go_time(when)
    return with_config(image, lambda config: config.replace(created=stamp))


def canonical(image: Image, epoch: datetime | None = None) -> Image:
    """The ``--reproducible`` form of ``image``: nothing in the config depends on the host.

    ``created`` of the config and of every history entry becomes ``epoch`` (default Go's
    zero time, as the Go kaniko writes); history authors, ``container``,
    ``docker_version`` and the ``Hostname`` of ``config`` and ``container_config`` are
    cleared, as ggcr's ``mutate.Canonical`` does. Layers are left untouched.
    """
    stamp = GO_ZERO_TIME if epoch is None else go_time(epoch)

    def change(config: ImageConfig) -> ImageConfig:
        extra = {k: v for k, v in config.extra.items() if k not in ("container", "docker_version")}
        container_config = extra.get("container_config")
        if isinstance(container_config, Mapping):
            extra["container_config"] = _without_hostname(container_config)
        history = tuple(replace(h, created=stamp, author="") for h in config.history)
        run = replace(config.config, extra=_without_hostname(config.config.extra))
        return config.replace(created=stamp, history=history, extra=extra, config=run)

    return with_config(image, change)


def _without_hostname(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != "Hostname"}


def with_media_types(image: Image, *, oci: bool) -> Image:
    """``image`` with manifest, config and layer media types of one vendor (OCI or Docker).

    Blobs are not re-encoded, so only conversions the layer encoding allows succeed: a
    zstd layer has no Docker media type and is an :class:`ImageError`.
    """
    manifest_type = mt.OCI_MANIFEST if oci else mt.DOCKER_MANIFEST
    convert = mt.to_oci_layer if oci else mt.to_docker_layer

    def change(parts: ImageParts) -> ImageParts:
        layers: list[Layer] = []
        descriptors = []
        for i, (layer, desc) in enumerate(zip(parts.layers, parts.descriptors, strict=True)):
            try:
                media_type = convert(desc.media_type)
            except ImageError as exc:
                vendor = "OCI" if oci else "Docker"
                raise ImageError(
                    f"cannot convert layer {i} ({desc.digest}) to {vendor} media types: {exc}"
                ) from exc
            descriptors.append(replace(desc, media_type=media_type))
            layers.append(layer if layer.media_type == media_type else _Retyped(layer, media_type))
        return parts.replace(
            media_type=manifest_type,
            config_media_type=mt.config_type_for(manifest_type),
            layers=tuple(layers),
            descriptors=tuple(descriptors),
        )

    return _derive(image, change)


@dataclass(frozen=True, slots=True)
class _Retyped:
    """A layer presented under another media type of the same compression."""

    inner: Layer
    media_type: str

    @property
    def digest(self) -> Digest:
        return self.inner.digest

    @property
    def diff_id(self) -> Digest:
        return self.inner.diff_id

    @property
    def size(self) -> int:
        return self.inner.size

    def __getattr__(self, name: str) -> Any:
        # Anything else the inner layer offers (a remote layer's mount ``source``) shows through.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def open_compressed(self) -> AbstractContextManager[BinaryIO]:
        return self.inner.open_compressed()

    def open_uncompressed(self) -> AbstractContextManager[BinaryIO]:
        # Conversions keep the compression, so the inner layer decompresses the same way.
        return self.inner.open_uncompressed()
