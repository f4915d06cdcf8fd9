"""Parallel gzip: any gzip reader reads it, and the bytes never depend on the thread count."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import pytest

from kaniko.oci.blockgzip import ParallelGzip, compress
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
