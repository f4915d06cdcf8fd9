"""The warmer against the lab registry: its files, skips, --force, failures, the CLI."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from kaniko.cache.basecache import BaseImageDir
from kaniko.cache.warmer import warm
from kaniko.cli.main import main
from kaniko.errors import KanikoError
from kaniko.executor.executor import build
from kaniko.oci.digest import Digest
from kaniko.oci.platform import Platform
from kaniko.options import (
    DEFAULT_CACHE_TTL,
    BuildOptions,
    CacheOptions,
    OutputOptions,
    WarmerOptions,
)
from kaniko.registry.transport import Transport
from tests.lab.registry import Registry
from tests.lab.tools import require_tool

pytestmark = pytest.mark.e2e


def _warm(cache: Path, *images: str, **kw: object) -> object:
    options = WarmerOptions(images=images, cache_dir=str(cache), **kw)  # type: ignore[arg-type]
    with Transport(options.registry) as transport:
        return warm(options, transport)


def _entries(cache: Path) -> list[str]:
    return sorted(os.listdir(cache))


def test_an_image_is_a_tarball_and_its_manifest(tmp_path: Path, base_images) -> None:
    cache = tmp_path / "cache"
    result = _warm(cache, base_images["busybox"])
    [digest] = result.warmed.values()  # type: ignore[attr-defined]
    assert _entries(cache) == [digest, f"{digest}.json"]  # nothing half-written left
    skopeo = require_tool("skopeo")
    plain = tmp_path / "image.tar"  # skopeo reads a ":" in the path as a reference
    os.link(cache / digest, plain)
    done = subprocess.run(
        [skopeo, "inspect", f"docker-archive:{plain}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert '"Architecture"' in done.stdout  # an independent reader reads the tarball
    image = BaseImageDir(cache, DEFAULT_CACHE_TTL).load(Digest.parse(digest))
    assert str(image.digest()) == digest


def test_fresh_entries_are_skipped_stale_and_forced_ones_written(
    tmp_path: Path, base_images
) -> None:
    cache = tmp_path / "cache"
    [digest] = _warm(cache, base_images["busybox"]).warmed.values()  # type: ignore[attr-defined]
    tarball = cache / digest
    old = time.time() - 100
    os.utime(tarball, (old, old))
    assert _warm(cache, base_images["busybox"]).skipped  # type: ignore[attr-defined]
    assert tarball.stat().st_mtime == pytest.approx(old)
    from datetime import timedelta

    result = _warm(cache, base_images["busybox"], ttl=timedelta(seconds=10))
    assert result.warmed  # type: ignore[attr-defined]  # stale: warmed again
    os.utime(tarball, (old, old))
    assert _warm(cache, base_images["busybox"], force=True).warmed  # type: ignore[attr-defined]
    assert tarball.stat().st_mtime > old + 50


def test_it_fails_only_when_every_image_fails(tmp_path: Path, base_images, caplog) -> None:
    cache = tmp_path / "cache"
    bad = f"{base_images['busybox'].rsplit('/', 2)[0]}/lab/no-such-image:1"
    result = _warm(cache, bad, base_images["busybox"])
    assert result.failed and result.warmed  # type: ignore[attr-defined]
    assert "Error while trying to warm image" in caplog.text
    with pytest.raises(KanikoError, match="Failed to warm any"):
        _warm(tmp_path / "other", bad)


def test_a_failed_image_leaves_no_file(tmp_path: Path, registry_plain: Registry, base_images):
    """Its layer blob is gone from the registry: the copy fails half-way, and nothing of it
    is in the directory."""
    import httpx

    from tests.lab.images import busybox_rootfs, layer_from_dir, make_image, push_raw

    root = busybox_rootfs(tmp_path / "rootfs")
    (root / "marker").write_text("broken image\n")
    host = Platform.host()
    image = make_image([layer_from_dir(root)], arch=host.architecture, variant=host.variant)
    with httpx.Client() as client:
        push_raw(client, registry_plain.url, "lab/broken", "1", image)
    layer_digest = next(d for d in image.blobs if len(image.blobs[d]) > 10000)
    hexa = layer_digest.split(":")[1]
    blob = registry_plain.directory / f"data/docker/registry/v2/blobs/sha256/{hexa[:2]}/{hexa}"
    for path in sorted(blob.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    cache = tmp_path / "cache"
    with pytest.raises(KanikoError):
        _warm(cache, f"{registry_plain.host}/lab/broken:1")
    assert [n for n in _entries(cache) if not n.endswith(".json")] == []


def test_dockerfile_bases_with_build_args(tmp_path: Path, base_images) -> None:
    dockerfile = tmp_path / "Dockerfile"
    registry = base_images["busybox"].split("/")[0]
    dockerfile.write_text(
        "ARG REG=nowhere.invalid\n"
        "FROM ${REG}/library/busybox:latest AS builder\n"
        "FROM builder\n"
        "FROM scratch\n"
    )
    options = WarmerOptions(
        dockerfile=str(dockerfile), build_args=(("REG", registry),), cache_dir=str(tmp_path / "c")
    )
    with Transport(options.registry) as transport:
        result = warm(options, transport, environ={})
    assert list(result.warmed) == [f"{registry}/library/busybox:latest"]


def test_an_index_digest_is_served_too(tmp_path: Path, base_images) -> None:
    """The multi-platform image is warmed for the host; a build FROM its index digest then
    needs no registry."""
    multiarch = base_images["multiarch"]
    cache = tmp_path / "cache"
    _warm(cache, multiarch, platform=Platform.parse("linux/arm64"))
    indexes = [n for n in _entries(cache) if n.endswith(".json") and not (cache / n[:-5]).exists()]
    assert len(indexes) == 1
    index_digest = indexes[0][: -len(".json")]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM 127.0.0.1:9/lab/multiarch@{index_digest}\nENV A=1\n")
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        kaniko_dir=str(tmp_path / "kaniko"),
        platform=Platform.parse("linux/arm64"),
        output=OutputOptions(no_push=True, oci_layout_path=str(tmp_path / "out")),
        cache=CacheOptions(enabled=True, repo=f"oci:{tmp_path / 'l'}", dir=str(cache)),
    )
    result = build(options)
    assert result.image.config().config.labels == {"a": "arm64"}


def test_the_command_line(tmp_path: Path, base_images, capsys) -> None:
    cache = tmp_path / "cache"
    assert (
        main(["warmer", "-c", str(cache), "-i", base_images["busybox"], "--log-format=text"]) == 0
    )
    assert len(_entries(cache)) == 2
    assert main(["warmer", "--cache-dir", str(cache)]) == 2
    assert "at least one image" in capsys.readouterr().err
    bad = "127.0.0.1:9/lab/none:1"
    assert main(["warmer", "-c", str(cache), "-i", bad, "--image-download-retry=0"]) == 1
    assert "Failed to warm any" in capsys.readouterr().err
