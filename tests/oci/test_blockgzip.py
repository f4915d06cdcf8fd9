"""Parallel gzip: any gzip reader reads it, and the bytes never depend on the thread count."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from pathlib import Path

import pytest

from kaniko.oci.blockgzip import PROBE_SIZE, ParallelGzip, compress, deflate_block
from kaniko.oci.compress import open_decompressed
from kaniko.oci.streams import LayerSpooler

DATA = os.urandom(3 << 20) + b"kaniko " * 600_000 + os.urandom(1000)


def parallel(data: bytes, threads: int, piece: int) -> bytes:
    out: list[bytes] = []
    gz = ParallelGzip(2, out.append, threads=threads)
    for start in range(0, len(data), piece):
        gz.put(data[start : start + piece])
    gz.finish()
    return b"".join(out)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_same_bytes_whatever_the_thread_count(threads: int) -> None:
    blob = parallel(DATA, threads, 1 << 20)
    assert blob == compress(DATA, 2, 1 << 20)
    assert gzip.decompress(blob) == DATA


def test_empty_stream_is_a_valid_gzip_member() -> None:
    blob = parallel(b"", 2, 1 << 20)
    assert gzip.decompress(blob) == b""
    assert blob == compress(b"", 2, 1 << 20)


def test_spooled_layers_do_not_depend_on_writes_or_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digests = set()
    for threads, write in ((1, 4096), (2, 1 << 20), (4, 3_000_001)):
        monkeypatch.setattr("kaniko.oci.blockgzip.compression_threads", lambda t=threads: t)
        with LayerSpooler(tmp_path, "gzip") as spool:
            for start in range(0, len(DATA), write):
                spool.write(DATA[start : start + write])
            layer = spool.finish()
        assert gzip.decompress(layer.path.read_bytes()) == DATA
        assert layer.diff_id.encoded == hashlib.sha256(DATA).hexdigest()
        digests.add(layer.digest)
    assert len(digests) == 1


def test_a_block_deflate_cannot_shrink_is_stored_without_compressing() -> None:
    """Random bytes: stored blocks of at most 64 KiB, 5 bytes of framing each; any gzip
    reader and kaniko's own read them back."""
    block = os.urandom(1 << 20)
    data, _ = deflate_block(block, b"", 2)
    pieces = -(-len(block) // 0xFFFF)
    assert len(data) == len(block) + 5 * pieces
    blob = compress(block * 3, 2, 1 << 20)
    assert gzip.decompress(blob) == block * 3
    with open_decompressed(io.BytesIO(blob)) as stream:
        assert stream.read() == block * 3


def test_one_compressible_sample_is_enough_to_deflate_the_block() -> None:
    """A block of random bytes with text where the last sample falls is deflated (the text
    shrinks); all random but a stretch between the samples is stored."""
    block = bytearray(os.urandom(1 << 20))
    block[-PROBE_SIZE:] = b"a" * PROBE_SIZE
    data, _ = deflate_block(bytes(block), b"", 2)
    assert len(data) < len(block) - PROBE_SIZE // 2
    between = bytearray(os.urandom(1 << 20))
    between[70_000:72_000] = b"b" * 2000  # no sample starts or ends in it
    data, _ = deflate_block(bytes(between), b"", 2)
    assert len(data) > len(between)
