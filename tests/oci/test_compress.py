"""Compressors (isal gzip, zstd) and the magic-sniffing decompressing reader."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import zstandard

from kaniko.errors import ImageError, UsageError
from kaniko.oci.compress import compressor, isal_level, open_decompressed, sniff, zstd_level

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

DATA = b"".join(b"line %d of a compressible layer\n" % i for i in range(20000)) + os.urandom(
    100_000
)


def compress_all(
    kind: str, data: bytes = DATA, level: int | None = None, chunk: int = 7777
) -> bytes:
    comp = compressor(kind, level)
    out = [comp.compress(data[i : i + chunk]) for i in range(0, len(data), chunk)]
    return b"".join(out) + comp.flush()


class Dribble(io.RawIOBase):
    """A non-seekable stream that hands out at most ``step`` bytes per read (a socket)."""

    def __init__(self, data: bytes, step: int = 3) -> None:
        self._data, self._pos, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._data[self._pos : self._pos + min(self._step, len(view))]
        view[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


@pytest.mark.parametrize("level", [None, -1, 0, 1, 5, 6, 9])
def test_gzip_is_standard_gzip(level: int | None) -> None:
    blob = compress_all("gzip", level=level)
    assert blob[:2] == b"\x1f\x8b"
    assert gzip.decompress(blob) == DATA


def test_gzip_passes_gzip_t(tmp_path: Path) -> None:
    if shutil.which("gzip") is None:
        pytest.skip("gzip is not installed")
    (tmp_path / "l.gz").write_bytes(compress_all("gzip"))
    subprocess.run(["gzip", "-t", str(tmp_path / "l.gz")], check=True)


def test_gzip_output_is_deterministic() -> None:
    assert compress_all("gzip") == compress_all("gzip")
    assert compress_all("gzip")[4:8] == b"\0\0\0\0"  # no timestamp in the header


@pytest.mark.parametrize("level", [None, 1, 3, 19])
def test_zstd_is_standard_zstd(level: int | None) -> None:
    blob = compress_all("zstd", level=level)
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob))
    assert reader.read() == DATA


def test_none_is_identity() -> None:
    assert compress_all("none") == DATA


def test_levels() -> None:
    assert [isal_level(v) for v in (None, -1, 0, 1, 3, 6, 9)] == [2, 2, 2, 0, 1, 2, 3]
    assert [zstd_level(v) for v in (None, 0, 1, 22)] == [3, 3, 1, 22]
    with pytest.raises(UsageError):
        isal_level(10)
    with pytest.raises(UsageError):
        zstd_level(23)
    with pytest.raises(UsageError, match="gzip or zstd"):
        compressor("brotli")


@pytest.mark.parametrize(
    ("kind", "blob"),
    [
        ("gzip", compress_all("gzip")),
        ("zstd", compress_all("zstd")),
        ("bzip2", bz2.compress(DATA)),
        ("xz", lzma.compress(DATA)),
        ("none", DATA),
    ],
)
def test_open_decompressed_sniffs_and_streams(kind: str, blob: bytes) -> None:
    assert sniff(blob[:6]) == kind
    reader = open_decompressed(Dribble(blob, step=5))
    assert reader.kind == kind
    got = bytearray()
    while chunk := reader.read(65536):
        got += chunk
    assert bytes(got) == DATA


def test_open_decompressed_reads_multiple_members_and_frames() -> None:
    half = len(DATA) // 2
    gz = gzip.compress(DATA[:half]) + gzip.compress(DATA[half:])
    assert open_decompressed(io.BytesIO(gz)).read() == DATA
    zs = compress_all("zstd", DATA[:half]) + compress_all("zstd", DATA[half:])
    assert open_decompressed(io.BytesIO(zs)).read() == DATA


def test_open_decompressed_of_tiny_inputs() -> None:
    assert open_decompressed(io.BytesIO(b"")).read() == b""
    assert open_decompressed(io.BytesIO(b"ab")).read() == b"ab"


def test_closing_the_reader_leaves_the_stream_open() -> None:
    source = io.BytesIO(compress_all("gzip"))
    with open_decompressed(source) as reader:
        reader.read(10)
    assert not source.closed


@pytest.mark.parametrize(
    "blob",
    [
        compress_all("gzip")[:-100],
        compress_all("gzip")[:-4] + b"\0\0\0\0",  # wrong length in the trailer
        compress_all("zstd")[:-50],
        b"\x1f\x8b\x08\0" + bytes(random.Random(1).randbytes(300)),
        b"\x28\xb5\x2f\xfd" + b"garbage" * 10,
    ],
    ids=["gzip-truncated", "gzip-bad-trailer", "zstd-truncated", "gzip-garbage", "zstd-garbage"],
)
def test_corrupt_streams_raise_image_error(blob: bytes) -> None:
    with pytest.raises(ImageError, match="corrupt"):
        reader = open_decompressed(io.BytesIO(blob))
        while reader.read(1 << 16):
            pass
