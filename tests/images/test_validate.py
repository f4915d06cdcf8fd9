"""validate() finds every kind of inconsistency and names the blob."""

from __future__ import annotations

import re

import pytest

from kaniko.errors import ImageError
from kaniko.images import mutate
from kaniko.images.layout import read_oci_layout, write_oci_layout
from kaniko.images.validate import validate
from kaniko.oci.image import Image, RawImage
from tests.images.helpers import LyingLayer, layer_bytes, sha, two_layer_image


def with_bad_top_layer(data: bytes | None = None, diff_id_of: bytes | None = None) -> Image:
    """The two-layer image whose top layer's bytes or diff ID are not what is claimed."""
    honest = two_layer_image()[0].layers()[1]
    blob = layer_bytes(honest)
    diff_id = honest.diff_id if diff_id_of is None else sha(diff_id_of)
    lying = LyingLayer(
        blob if data is None else data, honest.digest, diff_id, honest.size, honest.media_type
    )
    return two_layer_image(top=lying)[0]


def test_consistent_images_pass(tmp_path) -> None:
    image, _ = two_layer_image()
    validate(image)
    validate(mutate.with_media_types(image, oci=True))
    write_oci_layout(image, str(tmp_path), "x")
    validate(read_oci_layout(str(tmp_path), "x"))
    validate(with_bad_top_layer())  # the helper itself builds a valid image by default


def test_wrong_diff_id() -> None:
    image = with_bad_top_layer(diff_id_of=b"something else")
    top = image.layers()[1]
    with pytest.raises(ImageError, match=f"layer 1: blob {top.digest}: diff ID mismatch"):
        validate(image)


def test_truncated_blob() -> None:
    image, _ = two_layer_image()
    blob = layer_bytes(image.layers()[1])
    bad = with_bad_top_layer(data=blob[:-10])
    expected = f"layer 1: blob {sha(blob)}: size {len(blob) - 10} differs from the expected"
    with pytest.raises(ImageError, match=re.escape(expected)):
        validate(bad)


def test_digest_mismatch() -> None:
    image, _ = two_layer_image()
    blob = layer_bytes(image.layers()[1])
    changed = blob[:20] + bytes([blob[20] ^ 0xFF]) + blob[21:]
    with pytest.raises(
        ImageError,
        match=re.escape(f"layer 1: blob {sha(blob)}: digest mismatch: the content hashes to "),
    ):
        validate(with_bad_top_layer(data=changed))


def test_layer_object_disagreeing_with_config() -> None:
    image, _ = two_layer_image()
    wrong = mutate.with_config(
        image, lambda c: c.replace(diff_ids=(c.diff_ids[0], sha(b"not this")))
    )
    with pytest.raises(ImageError, match=r"layer 1: .* is not the config's sha256:"):
        validate(wrong)


def test_diff_id_and_history_counts() -> None:
    image, _ = two_layer_image()
    short = mutate.with_config(image, lambda c: c.replace(diff_ids=c.diff_ids[:1]))
    with pytest.raises(ImageError, match="lists 1 diff IDs for 2 layers"):
        validate(short)
    history = mutate.with_config(image, lambda c: c.replace(history=c.history[:2]))
    with pytest.raises(ImageError, match="history has 1 entries with a layer for 2 layers"):
        validate(history)
    no_history = mutate.with_config(image, lambda c: c.replace(history=()))
    validate(no_history)  # a config without history is allowed


def test_config_blob_must_match_its_descriptor() -> None:
    image, _ = two_layer_image()
    raw = RawImage(image.raw_manifest(), image.raw_config() + b" ", image.layers())
    digest = image.manifest().config.digest
    with pytest.raises(ImageError, match=f"config blob {digest}: size"):
        validate(raw)
