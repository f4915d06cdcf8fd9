"""OCI image layouts: written by us, read back by us, skopeo and umoci."""

from __future__ import annotations

import json
import os
from datetime import datetime

import pytest

from kaniko.errors import ImageError
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.images.layout import blob_path, read_oci_layout, write_oci_layout
from kaniko.images.validate import validate
from kaniko.oci import mediatypes as mt
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.manifest import Index
from kaniko.oci.platform import Platform
from tests.images.helpers import (
    LAYER1_FILES,
    LAYER2_FILES,
    LyingLayer,
    layer_bytes,
    run,
    sha,
    two_layer_image,
)
from tests.lab.tools import require_tool

REF = "org.opencontainers.image.ref.name"


def oci_image():
    image, tars = two_layer_image()
    return mutate.with_media_types(image, oci=True), tars


def test_layout_files_and_index(tmp_path) -> None:
    image, _ = oci_image()
    root = str(tmp_path / "layout")
    entry = write_oci_layout(image, root, "v1")
    assert json.loads((tmp_path / "layout" / "oci-layout").read_bytes()) == {
        "imageLayoutVersion": "1.0.0"
    }
    manifest = image.raw_manifest()
    index = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {
                "mediaType": mt.OCI_MANIFEST,
                "size": len(manifest),
                "digest": str(sha(manifest)),
                "annotations": {REF: "v1"},
            }
        ],
    }
    assert json.loads((tmp_path / "layout" / "index.json").read_bytes()) == index
    assert entry.digest == image.digest()
    blobs = {
        image.digest(): manifest,
        image.manifest().config.digest: image.raw_config(),
        **{layer.digest: layer_bytes(layer) for layer in image.layers()},
    }
    for digest, data in blobs.items():
        with open(blob_path(root, digest), "rb") as f:
            assert f.read() == data
    assert sorted(os.listdir(os.path.join(root, "blobs", "sha256"))) == sorted(d.hex for d in blobs)


def test_appending_keeps_other_entries_and_replaces_a_name(tmp_path) -> None:
    root = str(tmp_path)
    docker, _ = two_layer_image()
    oci = mutate.with_media_types(docker, oci=True)
    write_oci_layout(docker, root, "a")
    write_oci_layout(oci, root, "b")
    write_oci_layout(oci, root)  # unnamed
    write_oci_layout(oci, root)  # the same unnamed entry again: not duplicated
    entries = Index.from_json((tmp_path / "index.json").read_bytes()).manifests
    assert [(e.digest, e.annotations.get(REF)) for e in entries] == [
        (docker.digest(), "a"),
        (oci.digest(), "b"),
        (oci.digest(), None),
    ]
    newer = mutate.with_created(oci, datetime(2030, 1, 1))
    write_oci_layout(newer, root, "a")
    entries = Index.from_json((tmp_path / "index.json").read_bytes()).manifests
    assert [e.annotations.get(REF) for e in entries] == ["b", None, "a"]
    assert read_oci_layout(root, "a").digest() == newer.digest()


def test_read_back_by_name_or_digest(tmp_path) -> None:
    image, tars = oci_image()
    docker, _ = two_layer_image()
    root = str(tmp_path)
    write_oci_layout(image, root, "oci")
    write_oci_layout(docker, root, "docker")
    for ref in ("oci", str(image.digest())):
        found = read_oci_layout(root, ref)
        assert found.raw_manifest() == image.raw_manifest()
        assert found.raw_config() == image.raw_config()
        for layer, tar in zip(found.layers(), tars, strict=True):
            with layer.open_uncompressed() as f:
                assert f.read() == tar
        validate(found)
    assert read_oci_layout(root, "docker").digest() == docker.digest()
    with pytest.raises(ImageError, match=r"holds 2 images; name one \(oci, docker\)"):
        read_oci_layout(root)
    with pytest.raises(ImageError, match="no image 'other'"):
        read_oci_layout(root, "other")


def test_reading_detects_damaged_blobs(tmp_path) -> None:
    image, _ = oci_image()
    root = str(tmp_path)
    write_oci_layout(image, root, "x")
    layer_blob = blob_path(root, image.layers()[1].digest)
    with open(layer_blob, "rb+") as f:
        f.truncate(os.path.getsize(layer_blob) - 5)
    layer = read_oci_layout(root, "x").layers()[1]
    with pytest.raises(ImageError, match="truncated"), layer.open_compressed() as f:
        f.read()
    config_blob = blob_path(root, image.manifest().config.digest)
    with open(config_blob, "ab") as f:
        f.write(b" ")
    with pytest.raises(ImageError, match="differs from the expected"):
        read_oci_layout(root, "x")
    with pytest.raises(ImageError, match="not an OCI image layout"):
        read_oci_layout(str(tmp_path / "nowhere"))


def test_nested_index_resolves_the_platform(tmp_path) -> None:
    root = str(tmp_path)
    amd, _ = oci_image()
    arm, _ = two_layer_image(Platform("linux", "arm64"))
    arm = mutate.with_media_types(arm, oci=True)
    descs = [
        Descriptor(mt.OCI_MANIFEST, x.digest(), len(x.raw_manifest()), platform=x.config().platform)
        for x in (amd, arm)
    ]
    for img in (amd, arm):
        write_oci_layout(img, root)
    nested = Index(mt.OCI_INDEX, tuple(descs)).to_json()
    with open(blob_path(root, sha(nested)), "wb") as f:
        f.write(nested)
    entry = Descriptor(mt.OCI_INDEX, sha(nested), len(nested), annotations={REF: "multi"})
    top = Index(mt.OCI_INDEX, (entry,))
    (tmp_path / "index.json").write_bytes(top.to_json())
    found = read_oci_layout(root, "multi", platform=Platform("linux", "arm64"))
    assert found.digest() == arm.digest()
    found = read_oci_layout(root, "multi", platform=Platform("linux", "amd64"))
    assert found.digest() == amd.digest()


def test_failed_write_leaves_no_partial_blob(tmp_path) -> None:
    image, _ = oci_image()
    good = image.layers()[0]
    bad = LyingLayer(layer_bytes(good)[:-1], good.digest, good.diff_id, good.size, good.media_type)
    broken = mutate.append(scratch(Platform.host()), bad)
    with pytest.raises(ImageError, match="truncated"):
        write_oci_layout(broken, str(tmp_path), "x")
    assert os.listdir(tmp_path / "blobs" / "sha256") == []
    assert not (tmp_path / "index.json").exists()


def test_skopeo_and_umoci_read_the_layout(tmp_path) -> None:
    skopeo = require_tool("skopeo")
    umoci = require_tool("umoci")
    image, _ = oci_image()
    root = str(tmp_path / "layout")
    write_oci_layout(image, root, "latest")
    info = json.loads(run([skopeo, "inspect", f"oci:{root}:latest"]))
    assert info["Digest"] == str(image.digest())
    assert info["Layers"] == [str(x.digest) for x in image.layers()]
    out = tmp_path / "dir"
    run([skopeo, "copy", f"oci:{root}:latest", f"dir:{out}"])
    assert (out / "manifest.json").read_bytes() == image.raw_manifest()
    assert (out / image.manifest().config.digest.hex).read_bytes() == image.raw_config()
    for layer in image.layers():
        assert (out / layer.digest.hex).read_bytes() == layer_bytes(layer)
    bundle = tmp_path / "bundle"
    run([umoci, "unpack", "--image", f"{root}:latest", str(bundle)])
    for name, data in {**LAYER1_FILES, **LAYER2_FILES}.items():
        assert (bundle / "rootfs" / name).read_bytes() == data
