"""gzip layers compressed on every core, the same bytes whatever the number of threads.

pigz's scheme with ISA-L: the tar stream is cut into fixed 1 MiB blocks; each block is
deflated on its own (raw deflate, ISA-L) with the previous block's last 32 KiB as its
dictionary and ends with a sync flush, so the blocks concatenate into one deflate stream;
one gzip member wraps them (header with mtime 0, CRC-32 combined from the blocks' CRCs,
size). A block's output depends only on its own bytes, the 32 KiB before it and the
level, so any number of threads, in any order, gives the same blob; and ISA-L
compresses independent blocks about twice as fast as one long stream (measured: 217
against 98 MB/s on one core, random data). Any gzip reader reads it.

A block deflate could not shrink (random bytes, or bytes already compressed: archives,
images, model weights) is written as stored blocks without running the compressor:
eight 4 KiB samples spread over it are tried at ISA-L's fastest level first, and when
none comes out smaller, the block is stored, as ISA-L would have stored it after
spending 2.5 ms a MiB finding that out (its stored output is 385 bytes longer per MiB
than ours). The choice depends on the block's bytes alone, so the blob stays the same
for any number of threads. The probe costs ~0.15 ms a MiB; one compressible sample is
enough to compress the block.

:class:`ParallelGzip` is the spooler's worker (:mod:`kaniko.oci.streams`): blocks are
deflated in a small thread pool (ISA-L releases the GIL) while the caller produces the
next ones, and the compressed blocks are emitted in order; memory stays within a few
blocks per thread.
"""

from __future__ import annotations

import collections
import os
import struct
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from isal import isal_zlib

BLOCK_SIZE = 1 << 20  # the blocks a layer is cut into: part of the blob's bytes
WINDOW = 32 * 1024
HEADER = bytes((0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF))  # deflate, no name, mtime 0, OS unknown
_FINAL = b"\x03\x00"  # an empty fixed-Huffman block with BFINAL set: the stream's end


def compression_threads() -> int:
    """Threads that compress a layer: the CPUs this process may use, at least 1, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


PROBES = 8  # samples tried before a block is deflated
PROBE_SIZE = 4096
_STORED_MAX = 0xFFFF  # the most a stored block holds


def incompressible(block: bytes) -> bool:
    """Whether every one of :data:`PROBES` samples spread over ``block`` comes out of
    ISA-L's fastest level no smaller than it went in (a short block is always tried)."""
    if len(block) < PROBES * PROBE_SIZE:
        return False
    step = (len(block) - PROBE_SIZE) // (PROBES - 1)
    for start in range(0, PROBES * step, step):
        sample = block[start : start + PROBE_SIZE]
        if len(isal_zlib.compress(sample, 1, -15)) < len(sample):
            return False
    return True


def stored(block: bytes) -> bytes:
    """``block`` as deflate stored blocks. Each starts on a byte boundary, as every block
    here does (after the gzip header or the previous block's sync flush), and ends on one."""
    out = []
    for start in range(0, len(block), _STORED_MAX):
        piece = block[start : start + _STORED_MAX]
        out.append(struct.pack("<BHH", 0, len(piece), len(piece) ^ 0xFFFF))  # not final
        out.append(piece)
    return b"".join(out)


def deflate_block(block: bytes, previous: bytes, level: int) -> tuple[bytes, int]:
    """``block`` deflated after ``previous`` (its dictionary), sync-flushed, or stored when
    deflate would not shrink it; and its CRC."""
    if incompressible(block):
        return stored(block), isal_zlib.crc32(block)
    if previous:
        comp = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15, 9, 0, previous[-WINDOW:])
    else:
        comp = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
    data = comp.compress(block) + comp.flush(isal_zlib.Z_SYNC_FLUSH)
    return data, isal_zlib.crc32(block)


def trailer(crc: int, size: int) -> bytes:
    """The end of the deflate stream and the gzip member's CRC-32 and size (mod 2³²)."""
    return _FINAL + struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)


def compress(data: bytes, level: int, block_size: int) -> bytes:
    """``data`` compressed whole, exactly as :class:`ParallelGzip` writes it."""
    out, crc, previous = [HEADER], 0, b""
    for start in range(0, len(data), block_size):
        block = data[start : start + block_size]
        deflated, block_crc = deflate_block(block, previous, level)
        out.append(deflated)
        crc = isal_zlib.crc32_combine(crc, block_crc, len(block))
        previous = block
    out.append(trailer(crc, len(data)))
    return b"".join(out)


class ParallelGzip:
    """Deflates blocks in threads and hands the compressed bytes, in order, to ``emit``."""

    def __init__(self, level: int, emit: Callable[[bytes], None], threads: int = 0) -> None:
        self.level = level
        self._emit = emit
        self._threads = threads or compression_threads()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: collections.deque[tuple[Future[tuple[bytes, int]], int]] = (
            collections.deque()
        )
        self._previous = b""
        self._crc = 0
        self._size = 0
        emit(HEADER)

    def put(self, block: bytes) -> None:
        """Compress ``block`` (the next one of the stream), emitting what is ready."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="layer-gzip")
        future = self._pool.submit(deflate_block, block, self._previous[-WINDOW:], self.level)
        self._previous = block
        self._pending.append((future, len(block)))
        while self._pending and (
            len(self._pending) > self._threads + 1 or self._pending[0][0].done()
        ):
            self._next()

    def _next(self) -> None:
        future, length = self._pending.popleft()
        data, crc = future.result()
        self._crc = isal_zlib.crc32_combine(self._crc, crc, length)
        self._size += length
        self._emit(data)

    def finish(self) -> None:
        """Emit the remaining blocks and the gzip trailer."""
        while self._pending:
            self._next()
        self._emit(trailer(self._crc, self._size))
        self.close()

    def close(self) -> None:
        """Stop the threads (queued blocks are dropped)."""
        for future, _ in self._pending:
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
