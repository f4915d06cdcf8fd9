"""LayerSpooler: one pass from tar bytes to a compressed spool file and both digests."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import zstandard

from kaniko.errors import FilesystemError, ImageError, UsageError
from kaniko.oci.digest import Digest
from kaniko.oci.image import FileLayer
from kaniko.oci.streams import LayerSpooler

PAYLOAD = b"".join(b"%08d some tar-ish bytes\n" % i for i in range(150000)) + os.urandom(300_000)


def feed(spooler: LayerSpooler, data: bytes = PAYLOAD, chunk: int = 10240) -> None:
    for i in range(0, len(data), chunk):
        assert spooler.write(data[i : i + chunk]) == len(data[i : i + chunk])


def sha256(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize(
    ("compression", "oci", "media_type"),
    [
        ("gzip", False, "application/vnd.docker.image.rootfs.diff.tar.gzip"),
        ("gzip", True, "application/vnd.oci.image.layer.v1.tar+gzip"),
        ("zstd", True, "application/vnd.oci.image.layer.v1.tar+zstd"),
        ("none", False, "application/vnd.docker.image.rootfs.diff.tar"),
        ("none", True, "application/vnd.oci.image.layer.v1.tar"),
    ],
)
def test_digests_sizes_and_media_types(
    tmp_path: Path, compression: str, oci: bool, media_type: str
) -> None:
    spooler = LayerSpooler(tmp_path, compression, oci=oci)
    feed(spooler)
    assert spooler.tell() == len(PAYLOAD)
    layer = spooler.finish()
    blob = layer.path.read_bytes()
    assert layer.path.parent == tmp_path
    assert layer.diff_id == sha256(PAYLOAD)
    assert layer.digest == sha256(blob)
    assert layer.size == len(blob)
    assert (layer.media_type, layer.compression) == (media_type, compression)
    if compression == "gzip":
        assert gzip.decompress(blob) == PAYLOAD
    elif compression == "zstd":
        assert zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob)).read() == PAYLOAD
    else:
        assert blob == PAYLOAD


def test_spool_passes_gzip_t(tmp_path: Path) -> None:
    if shutil.which("gzip") is None:
        pytest.skip("gzip is not installed")
    with LayerSpooler(tmp_path, "gzip", level=9) as spooler:
        feed(spooler)
    subprocess.run(["gzip", "-t", str(spooler.finish().path)], check=True)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_same_bytes_same_blob_however_written(tmp_path: Path, compression: str) -> None:
    layers = []
    for chunk in (1000, 65536, 3 << 20):
        with LayerSpooler(tmp_path, compression, oci=True) as spooler:
            feed(spooler, chunk=chunk)
        layers.append(spooler.finish())
    assert len({layer.digest for layer in layers}) == 1
    assert len({layer.path for layer in layers}) == 3


def test_finish_and_close_are_idempotent(tmp_path: Path) -> None:
    spooler = LayerSpooler(tmp_path)
    feed(spooler)
    first = spooler.finish()
    assert spooler.close() is first and spooler.finish() is first and spooler.closed
    assert isinstance(first, FileLayer)
    with pytest.raises(ValueError, match="finished"):
        spooler.write(b"more")
    spooler.abort()  # a finished layer belongs to the caller now
    assert first.path.exists()


def test_spool_removed_on_error_in_the_with_block(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), LayerSpooler(tmp_path) as spooler:
        feed(spooler)
        raise RuntimeError("tar writer failed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="aborted"):
        spooler.finish()


def test_spool_removed_when_the_disk_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spooler = LayerSpooler(tmp_path, "none")

    def full(data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spooler._file, "write", full)
    with pytest.raises(FilesystemError, match="No space left"):  # at a write, or at the end
        spooler.write(b"x" * (2 << 20))  # more than one compression block
        spooler.finish()
    assert list(tmp_path.iterdir()) == []


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="zstd"):
        LayerSpooler(tmp_path, "zstd", oci=False)  # Docker has no zstd layer type
    with pytest.raises(UsageError):
        LayerSpooler(tmp_path, "gzip", level=12)
    assert list(tmp_path.iterdir()) == []


def test_accepts_any_bytes_like(tmp_path: Path) -> None:
    with LayerSpooler(tmp_path, "none") as spooler:
        assert spooler.write(memoryview(b"abcd")[1:3]) == 2
        assert spooler.write(bytearray(b"ef")) == 2
    layer = spooler.finish()
    assert layer.path.read_bytes() == b"bcef" and layer.diff_id == sha256(b"bcef")
