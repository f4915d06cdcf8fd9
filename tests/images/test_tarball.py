"""Docker tarballs: our layout of the archive, and skopeo reading it back."""

from __future__ import annotations

import json
import os
import tarfile

import pytest

from kaniko.errors import ImageError
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.images.tarball import repo_tag, write_docker_tarball
from kaniko.oci.platform import Platform
from tests.images.helpers import LyingLayer, layer_bytes, run, sha, two_layer_image
from tests.lab.tools import require_tool

TAGS = ["localhost:5000/app/web", "example.com/team/app:v1.2"]


def members(path: str) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar.getmembers()}


def read_member(path: str, name: str) -> bytes:
    with tarfile.open(path) as tar:
        f = tar.extractfile(name)
        assert f is not None
        return f.read()


def test_archive_layout_matches_ggcr_with_docker_config_name(tmp_path) -> None:
    image, _ = two_layer_image()
    path = str(tmp_path / "image.tar")
    write_docker_tarball(image, path, TAGS)
    config_hex = image.manifest().config.digest.hex
    layer_files = [f"{x.digest.hex}.tar.gz" for x in image.layers()]
    found = members(path)
    assert list(found) == [f"{config_hex}.json", *layer_files, "manifest.json"]
    for info in found.values():
        assert (info.mode, info.uid, info.gid, info.mtime, info.type) == (
            0o644,
            0,
            0,
            0,
            tarfile.REGTYPE,
        )
    index = json.loads(read_member(path, "manifest.json"))
    assert index == [
        {
            "Config": f"{config_hex}.json",
            "RepoTags": ["localhost:5000/app/web:latest", "example.com/team/app:v1.2"],
            "Layers": layer_files,
        }
    ]
    assert read_member(path, f"{config_hex}.json") == image.raw_config()
    for name, layer in zip(layer_files, image.layers(), strict=True):
        assert read_member(path, name) == layer_bytes(layer)


def test_repeated_layer_is_stored_once(tmp_path) -> None:
    image, _ = two_layer_image()
    again = mutate.append(image, image.layers()[0])
    path = str(tmp_path / "image.tar")
    write_docker_tarball(again, path, ["a:1"])
    index = json.loads(read_member(path, "manifest.json"))
    assert len(index[0]["Layers"]) == 3 and index[0]["Layers"][0] == index[0]["Layers"][2]
    assert len(members(path)) == 4


def test_repo_tags_follow_ggcr() -> None:
    assert repo_tag("busybox") == "busybox:latest"
    assert repo_tag("busybox:latest") == "busybox:latest"
    assert repo_tag("localhost:5000/a/b:v1") == "localhost:5000/a/b:v1"
    with pytest.raises(ImageError, match="a digest is not a tag"):
        repo_tag(f"busybox@{sha(b'x')}")
    with pytest.raises(ImageError, match="cannot tag"):
        repo_tag("bad name")


def test_same_image_gives_identical_tarballs(tmp_path) -> None:
    one, _ = two_layer_image()
    two, _ = two_layer_image()
    write_docker_tarball(mutate.canonical(one), str(tmp_path / "1.tar"), TAGS)
    write_docker_tarball(mutate.canonical(two), str(tmp_path / "2.tar"), TAGS)
    assert (tmp_path / "1.tar").read_bytes() == (tmp_path / "2.tar").read_bytes()


@pytest.mark.parametrize(
    ("cut", "message"), [(1, "truncated"), (0, "digest mismatch"), (-1, "more data")]
)
def test_bad_blob_fails_and_leaves_nothing(tmp_path, cut: int, message: str) -> None:
    image, _ = two_layer_image()
    good = image.layers()[1]
    blob = layer_bytes(good)
    if cut > 0:
        data = blob[:-cut]
    elif cut == 0:
        data = blob[:-1] + bytes([blob[-1] ^ 0xFF])
    else:
        data = blob + b"\0"
    bad = LyingLayer(data, good.digest, good.diff_id, good.size, good.media_type)
    broken = mutate.append(scratch(Platform.host()), bad)
    target = tmp_path / "image.tar"
    target.write_bytes(b"previous build")
    with pytest.raises(ImageError, match=f"blob {good.digest}: {message}"):
        write_docker_tarball(broken, str(target), ["a:1"])
    assert target.read_bytes() == b"previous build"
    assert os.listdir(tmp_path) == ["image.tar"]


def test_skopeo_reads_the_tarball_byte_for_byte(tmp_path) -> None:
    skopeo = require_tool("skopeo")
    image, tars = two_layer_image()
    path = str(tmp_path / "image.tar")
    write_docker_tarball(image, path, TAGS)
    info = json.loads(run([skopeo, "inspect", f"docker-archive:{path}:{TAGS[1]}"]))
    assert info["Name"] == "example.com/team/app"
    assert info["Layers"] == [str(sha(t)) for t in tars]
    assert (info["Architecture"], info["Os"]) == ("amd64", "linux")
    out = tmp_path / "out"
    run([skopeo, "copy", f"docker-archive:{path}", f"dir:{out}"])
    copied = json.loads((out / "manifest.json").read_bytes())
    config_digest = image.manifest().config.digest
    assert copied["config"]["digest"] == str(config_digest)
    assert (out / config_digest.hex).read_bytes() == image.raw_config()
    # skopeo's docker-archive source hands out layers uncompressed, named by diff ID.
    for tar in tars:
        assert (out / sha(tar).hex).read_bytes() == tar
