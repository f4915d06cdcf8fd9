"""Check that an image is internally consistent, reading every blob once, streaming.

:func:`validate` checks the config blob against its descriptor, that the config lists one
diff ID per layer and (when it has a history) one non-empty history entry per layer, and
for each layer that the blob has the digest and size of its descriptor and that its
uncompressed tar has the diff ID the config lists. Each problem is an
:class:`~kaniko.errors.ImageError` naming the blob. Layers are hashed compressed and
uncompressed in a single pass.
"""

from __future__ import annotations

from kaniko.errors import ImageError
from kaniko.iotools import CHUNK, TeeReader
from kaniko.oci.compress import DecompressionError, open_decompressed
from kaniko.oci.config import ImageConfig
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest, Hasher
from kaniko.oci.image import Image, Layer, described_layers


def validate(image: Image) -> None:
    """Raise :class:`ImageError` for the first inconsistency found in ``image``."""
    manifest = image.manifest()
    config_desc = manifest.config
    raw_config = image.raw_config()
    _check_bytes(raw_config, config_desc, f"config blob {config_desc.digest}")
    config = ImageConfig.from_json(raw_config, what=f"config blob {config_desc.digest}")
    layers = described_layers(image)
    count = len(layers)
    if len(config.diff_ids) != count:
        raise ImageError(
            f"config rootfs.diff_ids lists {len(config.diff_ids)} diff IDs for {count} layers"
        )
    with_layer = sum(not entry.empty_layer for entry in config.history)
    if config.history and with_layer != count:
        raise ImageError(f"config history has {with_layer} entries with a layer for {count} layers")
    for i, ((desc, layer), diff_id) in enumerate(zip(layers, config.diff_ids, strict=True)):
        try:
            _check_layer(desc, layer, diff_id)
        except ImageError as exc:
            raise ImageError(f"layer {i}: {exc}") from exc


def _check_bytes(data: bytes, desc: Descriptor, what: str) -> None:
    if len(data) != desc.size:
        raise ImageError(f"{what}: size {len(data)} differs from the descriptor's {desc.size}")
    actual = Digest.of(data, desc.digest.algorithm)
    if actual != desc.digest:
        raise ImageError(f"{what}: digest mismatch: the content hashes to {actual}")


def _check_layer(desc: Descriptor, layer: Layer, diff_id: Digest) -> None:
    what = f"blob {desc.digest}"
    if layer.digest != desc.digest or layer.size != desc.size:
        raise ImageError(
            f"{what}: the layer says {layer.digest} ({layer.size} bytes), "
            f"the manifest {desc.digest} ({desc.size} bytes)"
        )
    if layer.diff_id != diff_id:
        raise ImageError(
            f"{what}: the layer's diff ID {layer.diff_id} is not the config's {diff_id}"
        )
    compressed = Hasher(desc.digest.algorithm)
    uncompressed = Hasher(diff_id.algorithm)
    problem = ""
    with layer.open_compressed() as blob:
        tee = TeeReader(blob, compressed.update)
        try:
            with open_decompressed(tee, desc.media_type) as tar:
                while chunk := tar.read(CHUNK):
                    uncompressed.update(chunk)
        except DecompressionError as exc:
            problem = f"cannot decompress ({desc.media_type}): {exc}"
        while tee.read(CHUNK):  # whatever follows the compressed stream counts too
            pass
    if compressed.size != desc.size:
        raise ImageError(f"{what}: size {compressed.size} differs from the expected {desc.size}")
    actual = compressed.digest()
    if actual != desc.digest:
        raise ImageError(f"{what}: digest mismatch: the content hashes to {actual}")
    if problem:
        raise ImageError(f"{what}: {problem}")
    if uncompressed.digest() != diff_id:
        raise ImageError(
            f"{what}: diff ID mismatch: the config lists {diff_id}, "
            f"the uncompressed layer hashes to {uncompressed.digest()}"
        )
