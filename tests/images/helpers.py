"""Test images: real tar layers made here, built into images with our mutations."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.oci.config import History
from kaniko.oci.digest import Digest
from kaniko.oci.image import BytesLayer, Image, Layer
from kaniko.oci.platform import Platform

LAYER1_FILES = {"hello.txt": b"hello, world\n", "bin/tool": b"#!/bin/sh\necho tool\n"}
LAYER2_FILES = {"etc/motd": b"welcome\n" * 100, "data/blob.bin": bytes(range(256)) * 40}


def make_tar(files: Mapping[str, bytes], mtime: int = 0) -> bytes:
    """An uncompressed tar of ``files`` (parent directories included), sorted by path."""
    out = io.BytesIO()
    dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in dirs:
            info = tarfile.TarInfo(d + "/")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
            tar.addfile(info)
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o755, mtime
            tar.addfile(info, io.BytesIO(files[name]))
    return out.getvalue()


def gzip_layer(files: Mapping[str, bytes]) -> tuple[BytesLayer, bytes]:
    """A gzip layer made with the standard library's gzip, and its uncompressed tar."""
    tar = make_tar(files)
    blob = gzip.compress(tar, mtime=0)
    return BytesLayer(blob, "application/vnd.docker.image.rootfs.diff.tar.gzip", sha(tar)), tar


def sha(data: bytes) -> Digest:
    """The sha256 digest of ``data`` as a kaniko Digest (computed with hashlib)."""
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def two_layer_image(
    platform: Platform | None = None, top: Layer | None = None
) -> tuple[Image, list[bytes]]:
    """scratch + a layer + a metadata step + another layer (``top`` replaces the second).

    Returns the image and the uncompressed tars of its two layers.
    """
    layer1, tar1 = gzip_layer(LAYER1_FILES)
    layer2, tar2 = gzip_layer(LAYER2_FILES)
    image = scratch(platform or Platform("linux", "amd64"))
    image = mutate.append(
        image,
        layer1,
        History(created_by="COPY . /", author="kaniko", created="2024-05-01T12:00:00Z"),
    )
    image = mutate.add_history(
        image, History(created_by="ENV A=b", author="kaniko", created="2024-05-01T12:00:01Z")
    )
    image = mutate.append(
        image,
        top or layer2,
        History(created_by="RUN make", author="kaniko", created="2024-05-01T12:00:02Z"),
    )
    return image, [tar1, tar2]


def run(args: Sequence[str]) -> str:
    """Run a tool, failing the test with its stderr when it fails."""
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"
    return done.stdout


def manifest_json(image: Image) -> dict[str, Any]:
    return json.loads(image.raw_manifest())


def config_json(image: Image) -> dict[str, Any]:
    return json.loads(image.raw_config())


def layer_bytes(layer: Layer) -> bytes:
    with layer.open_compressed() as f:
        return f.read()


@dataclass(frozen=True)
class LyingLayer:
    """A layer whose blob is not what its descriptor says."""

    data: bytes
    digest: Digest
    diff_id: Digest
    size: int
    media_type: str

    @contextlib.contextmanager
    def open_compressed(self) -> Iterator[BinaryIO]:
        yield io.BytesIO(self.data)

    def open_uncompressed(self) -> contextlib.AbstractContextManager[BinaryIO]:
        raise NotImplementedError
