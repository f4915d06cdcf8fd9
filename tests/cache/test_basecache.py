"""``--cache-dir``: base images from a directory in the Go warmer's format.

The directory is made here by hand, member by member, the way go-containerregistry's
``tarball.Write`` (which the Go warmer calls) writes it: the config named
``sha256:<hex>``, each layer ``<hex>.tar.gz`` as it was pulled, ``manifest.json`` last;
beside it ``<digest>.json``, the manifest. Builds read it with ``--cache``, with no
registry at all for ``FROM name@digest``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
from datetime import timedelta
from pathlib import Path

import pytest

from kaniko.cache.basecache import BaseImageDir
from kaniko.executor.executor import build
from kaniko.images.tarball_read import read_docker_tarball
from kaniko.oci.digest import Digest
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, CacheOptions, OutputOptions
from tests.lab.images import busybox_rootfs, make_image, tar_of_dir

pytestmark = pytest.mark.e2e

HOST = Platform.host()
UNREACHABLE = "127.0.0.1:9"  # the discard port: nothing answers


def go_warmer_dir(directory: Path, files: dict[str, bytes], repo_tag: str) -> Digest:
    """A base-image cache directory as the Go warmer leaves it, of a busybox image with
    ``files`` added; the image's digest."""
    root = busybox_rootfs(directory.parent / "rootfs-src")
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    layer = gzip.compress(tar_of_dir(root), mtime=0)
    image = make_image([layer], arch=HOST.architecture, variant=HOST.variant)
    manifest = json.loads(image.manifest)
    config_digest = manifest["config"]["digest"]
    layer_hex = manifest["layers"][0]["digest"].split(":", 1)[1]
    entry = [{"Config": config_digest, "RepoTags": [repo_tag], "Layers": [f"{layer_hex}.tar.gz"]}]
    digest = "sha256:" + hashlib.sha256(image.manifest).hexdigest()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (
            (config_digest, image.blobs[config_digest]),
            (f"{layer_hex}.tar.gz", layer),
            ("manifest.json", json.dumps(entry).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    (directory / digest).write_bytes(buffer.getvalue())
    (directory / f"{digest}.json").write_bytes(image.manifest)
    return Digest.parse(digest)


@pytest.fixture
def warmed(tmp_path: Path) -> tuple[Path, Digest]:
    cache = tmp_path / "cache"
    cache.mkdir()
    digest = go_warmer_dir(cache, {"etc/motd": b"from the cache\n"}, f"{UNREACHABLE}/lab/base:1")
    return cache, digest


def _build(tmp: Path, text: str, cache_dir: Path, **more: object) -> str:
    ctx = tmp / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(text)
    layout = tmp / "out"
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        kaniko_dir=str(tmp / "kaniko"),
        output=OutputOptions(no_push=True, oci_layout_path=str(layout)),
        cache=CacheOptions(enabled=True, repo=f"oci:{tmp / 'layers'}", dir=str(cache_dir), **more),  # type: ignore[arg-type]
    )
    return str(build(options).digest)


def _files(tmp: Path) -> dict[str, bytes]:
    from kaniko.images.layout import read_oci_layout
    from tests.lab.flatten import flatten_layers

    image = read_oci_layout(str(tmp / "out"))
    blobs = []
    for layer in image.layers():
        with layer.open_compressed() as f:
            blobs.append(f.read())
    return {path: entry.data for path, entry in flatten_layers(blobs).items() if entry.data}


def test_the_go_warmer_s_tarball_reads_as_the_image(warmed: tuple[Path, Digest]) -> None:
    cache, digest = warmed
    directory = BaseImageDir(cache, ttl=timedelta(hours=1))
    image = directory.load(digest)
    assert image.digest() == digest  # the saved manifest is kept byte for byte
    assert image.config().platform.architecture == HOST.architecture
    with image.layers()[0].open_uncompressed() as f, tarfile.open(fileobj=f, mode="r|") as tar:
        names = [m.name for m in tar]
    assert "etc/motd" in names
    os.remove(cache / f"{digest}.json")  # without the manifest: one is made from the tarball
    assert [x.digest for x in read_docker_tarball(str(cache / str(digest))).layers()] == [
        x.digest for x in image.layers()
    ]


def test_from_by_digest_needs_no_registry(tmp_path: Path, warmed) -> None:
    cache, digest = warmed
    text = f"FROM {UNREACHABLE}/lab/base@{digest}\nRUN cat /etc/motd > /copied\n"
    _build(tmp_path, text, cache)
    files = _files(tmp_path)
    assert files["/copied"] == b"from the cache\n"


def test_from_by_tag_falls_back_to_the_cached_copy(tmp_path: Path, warmed, caplog) -> None:
    cache, _ = warmed
    _build(tmp_path, f"FROM {UNREACHABLE}/lab/base:1\nENV X=1\n", cache)
    assert "registry is unreachable" in caplog.text and "using the copy cached" in caplog.text
    assert _files(tmp_path)["/etc/motd"] == b"from the cache\n"


def test_a_stale_entry_is_not_used(tmp_path: Path, warmed) -> None:
    from kaniko.errors import RegistryError

    cache, digest = warmed
    old = time.time() - 3 * 3600
    os.utime(cache / str(digest), (old, old))
    text = f"FROM {UNREACHABLE}/lab/base@{digest}\nENV X=1\n"
    with pytest.raises(RegistryError, match="unreachable"):
        _build(tmp_path, text, cache, ttl=timedelta(hours=1))


def test_without_cache_the_directory_is_not_read(tmp_path: Path, warmed) -> None:
    from kaniko.errors import RegistryError

    cache, digest = warmed
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {UNREACHABLE}/lab/base@{digest}\n")
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        kaniko_dir=str(tmp_path / "kaniko"),
        output=OutputOptions(no_push=True),
        cache=CacheOptions(dir=str(cache)),
    )
    with pytest.raises(RegistryError):
        build(options)
