"""Indexes of N images and their attestation manifests, through the OCI layout and tarball.

The later multi-platform work builds on these sinks: each platform's image is chosen by
platform when the layout is read back, by kaniko and by skopeo (attestation manifests
never are), and every blob is written once.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from kaniko.attest.manifest import attestation_entry
from kaniko.errors import ImageError
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.images.index import image_entry, make_index
from kaniko.images.layout import read_oci_layout, write_oci_layout_index
from kaniko.images.tarball_index import write_index_tarball
from kaniko.oci.image import BytesLayer, Image
from kaniko.oci.platform import Platform

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _image(platform: Platform, marker: bytes) -> Image:
    image = mutate.append(scratch(platform), BytesLayer.from_tar(_tar("m", marker), oci=True))
    return mutate.with_media_types(image, oci=True)


@pytest.fixture
def index():
    entries = [image_entry(_image(AMD64, b"amd"), AMD64), image_entry(_image(ARM64, b"arm"), ARM64)]
    statements = [
        [("https://example/p", json.dumps({"for": str(e.descriptor.platform)}).encode())]
        for e in entries
    ]
    attestations = [
        attestation_entry(e.descriptor, s) for e, s in zip(entries, statements, strict=True)
    ]
    return make_index(entries, attestations)


def test_layout_round_trip_per_platform(tmp_path: Path, index) -> None:
    write_oci_layout_index(index, str(tmp_path), "v1")
    top = json.loads((tmp_path / "index.json").read_text())["manifests"]
    assert len(top) == 1 and top[0]["digest"] == str(index.digest())
    for platform, entry in zip((AMD64, ARM64), index.entries[:2], strict=True):
        image = read_oci_layout(str(tmp_path), "v1", platform=platform)
        assert image.digest() == entry.descriptor.digest
    with pytest.raises(ImageError, match="no image for platform linux/s390x"):
        read_oci_layout(str(tmp_path), "v1", platform=Platform("linux", "s390x"))
    attestation = index.entries[2]
    assert attestation.descriptor.annotations["vnd.docker.reference.digest"] == str(
        index.entries[0].descriptor.digest
    )
    manifest = json.loads(
        (tmp_path / "blobs/sha256" / attestation.descriptor.digest.hex).read_bytes()
    )
    assert manifest["subject"]["digest"] == str(index.entries[0].descriptor.digest)


def test_images_need_oci_media_types() -> None:
    docker = mutate.append(scratch(AMD64), BytesLayer.from_tar(_tar("m", b"x")))
    with pytest.raises(ImageError, match="OCI media types"):
        make_index([image_entry(docker, AMD64)])


def test_tarball_is_a_layout_and_a_docker_load_archive(tmp_path: Path, index) -> None:
    path = tmp_path / "out.tar"
    write_index_tarball(index, str(path), ["registry.example/app:1"])
    with tarfile.open(path) as tar:
        names = tar.getnames()
        load = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        top = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        tar.extractall(tmp_path / "x", filter="data")
    assert len(names) == len(set(names))  # every blob once
    assert [entry["RepoTags"] for entry in load] == [["registry.example/app:1"], []]
    for entry in load:
        assert entry["Config"] in names and all(layer in names for layer in entry["Layers"])
    assert top["manifests"][0]["annotations"]["io.containerd.image.name"] == (
        "registry.example/app:1"
    )
    image = read_oci_layout(str(tmp_path / "x"), platform=ARM64)
    assert image.digest() == index.entries[1].descriptor.digest


def test_skopeo_reads_the_layout_and_picks_the_platform(tmp_path: Path, index) -> None:
    import subprocess

    from tests.lab.tools import require_tool

    write_oci_layout_index(index, str(tmp_path / "layout"), "v1")
    for platform, entry in zip(("amd64", "arm64"), index.entries[:2], strict=True):
        target = tmp_path / f"dir-{platform}"
        subprocess.run(
            [require_tool("skopeo"), "--override-arch", platform, "copy", "-q",
             f"oci:{tmp_path / 'layout'}:v1", f"dir:{target}"],
            check=True, timeout=120,
        )  # fmt: skip
        copied = (target / "manifest.json").read_bytes()
        assert copied == entry.item.raw_manifest()
