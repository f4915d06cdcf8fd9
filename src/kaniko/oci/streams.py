"""One pass from a layer tar to a compressed spool file with both of its digests.

:class:`LayerSpooler` is a write-only binary file object. Each write is the uncompressed tar
(it feeds the ``diff_id`` hash), is compressed in fixed 1 MiB pieces (so the blob depends on
the tar bytes only, never on how they were split into writes), and the compressed bytes feed
the ``digest`` hash and size on their way to a spool file. Memory stays bounded by the
compressor's state and a few pieces; nothing is read back. gzip deflates the pieces on
every core (:mod:`kaniko.oci.blockgzip`: the same bytes whatever the number of threads);
zstd compresses, hashes and writes in a worker thread. Either way (ISA-L, zstd and hashlib
release the GIL) compression overlaps with the caller producing the tar. ``finish()`` (or
``close()``) returns the layer as a :class:`~kaniko.oci.image.FileLayer`, the one type of
a layer blob on disk; on any error, or ``abort()``, the spool file is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from kaniko.errors import FilesystemError
from kaniko.iotools import CHUNK
from kaniko.oci.blockgzip import BLOCK_SIZE, ParallelGzip
from kaniko.oci.compress import Compressor, compressor, isal_level
from kaniko.oci.digest import Digest
from kaniko.oci.image import FileLayer
from kaniko.oci.mediatypes import Compression, layer_media_type, layer_suffix

# The compressor always sees 1 MiB pieces: same tar bytes, same blob. Part of the output
# format (ISA-L's output depends on how its input is split): never tie it to CHUNK.
_BLOCK = BLOCK_SIZE


class SpoolWatcher(Protocol):
    """Told how a spool file grows, e.g. to upload it while it is written."""

    def grew(self, size: int) -> None:
        """``size`` compressed bytes are in the spool file now (flushed)."""
        ...

    def finished(self, layer: FileLayer) -> None:
        """The spool file is complete: ``layer``."""
        ...

    def aborted(self) -> None:
        """The spool file is going away."""
        ...


WatchFactory = Callable[[Path], SpoolWatcher]
"""Makes the watcher of a new spool file (given its path)."""


class _Sink:
    """Where a worker's compressed bytes go: hashed, counted, spooled, and (with a
    watcher) flushed and announced as the file grows."""

    def __init__(self, file: BinaryIO, watcher: SpoolWatcher | None) -> None:
        self._file = file
        self._watcher = watcher
        self.digest = hashlib.sha256()
        self.size = 0

    def _emit(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.digest.update(chunk)
        self.size += len(chunk)
        self._file.write(chunk)
        if self._watcher is not None:
            self._file.flush()
            self._watcher.grew(self.size)


class _Worker(_Sink):
    """Compresses blocks, hashes and spools the result, in a thread of its own."""

    def __init__(self, comp: Compressor, file: BinaryIO, watcher: SpoolWatcher | None) -> None:
        super().__init__(file, watcher)
        self._comp = comp
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._done = False
        self._thread = threading.Thread(target=self._run, name="layer-compress", daemon=True)
        self._thread.start()

    def put(self, block: bytes) -> None:
        self._check()
        self._queue.put(block)

    def stop(self, *, flush: bool) -> None:
        """Wait for the queued blocks; with ``flush``, end the compressed stream too."""
        if not self._done:
            self._done = True
            self._queue.put(None)
            self._thread.join()
        self._check()
        if flush:
            self._emit(self._comp.flush())

    def _run(self) -> None:
        while (block := self._queue.get()) is not None:
            if self._error is None:  # after a failure, only drain so put() never blocks
                try:
                    self._emit(self._comp.compress(block))
                except BaseException as e:
                    self._error = e

    def _check(self) -> None:
        if self._error is not None:
            raise self._error


class _GzipWorker(_Sink):
    """gzip on every core (:mod:`kaniko.oci.blockgzip`): compressed blocks are hashed and
    spooled in order as they are ready."""

    def __init__(self, level: int, file: BinaryIO, watcher: SpoolWatcher | None) -> None:
        super().__init__(file, watcher)
        self._gzip = ParallelGzip(level, self._emit)

    def put(self, block: bytes) -> None:
        self._gzip.put(block)

    def stop(self, *, flush: bool) -> None:
        if flush:
            self._gzip.finish()
        else:
            self._gzip.close()


class LayerSpooler:
    """Hash, compress and spool a layer tar as it is written (see the module doc)."""

    def __init__(
        self,
        dir: str | os.PathLike[str],
        compression: Compression = "gzip",
        level: int | None = None,
        *,
        oci: bool = False,
        watch: WatchFactory | None = None,
    ) -> None:
        self.media_type = layer_media_type("oci" if oci else "docker", compression)
        self.compression: Compression = compression
        # Options are checked before the spool file exists.
        gzip_level = isal_level(level) if compression == "gzip" else None
        comp = None if compression == "gzip" else compressor(compression, level)
        self._diff = hashlib.sha256()
        self._written = 0
        self._pending = bytearray()  # input not yet handed to the compressor
        self._result: FileLayer | None = None
        fd, name = tempfile.mkstemp(prefix="layer-", suffix=layer_suffix(compression), dir=dir)
        self.path = Path(name)
        self._file = open(fd, "wb", buffering=CHUNK)  # noqa: SIM115 - owned here
        self._watcher = None if watch is None else watch(self.path)
        self._worker: _Worker | _GzipWorker
        if gzip_level is not None:
            self._worker = _GzipWorker(gzip_level, self._file, self._watcher)
        else:
            assert comp is not None
            self._worker = _Worker(comp, self._file, self._watcher)

    # -- file object protocol -------------------------------------------------------------

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._file.closed

    def tell(self) -> int:
        """Uncompressed bytes written so far (what ``tarfile`` expects of its file)."""
        return self._written

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._file.closed:
            raise ValueError("write to a finished or aborted layer spool")
        view = memoryview(data).cast("B")
        with self._failing():
            self._diff.update(view)
            self._blocks(view)
        self._written += len(view)
        return len(view)

    def flush(self) -> None:
        """Nothing to do: compressed bytes reach the spool file as they are produced."""

    def close(self) -> FileLayer:
        """Same as :meth:`finish`."""
        return self.finish()

    def __enter__(self) -> LayerSpooler:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif self._result is None:
            self.finish()

    # -- results ---------------------------------------------------------------------------

    def finish(self) -> FileLayer:
        """Flush the compressor, close the spool file and describe the layer (idempotent)."""
        if self._result is not None:
            return self._result
        if self._file.closed:
            raise ValueError("layer spool was aborted")
        with self._failing():
            if self._pending:
                self._worker.put(bytes(self._pending))
            self._worker.stop(flush=True)
            self._file.close()
        self._result = FileLayer(
            path=self.path,
            digest=Digest("sha256", self._worker.digest.hexdigest()),
            diff_id=Digest("sha256", self._diff.hexdigest()),
            size=self._worker.size,
            media_type=self.media_type,
        )
        if self._watcher is not None:
            self._watcher.finished(self._result)
        return self._result

    def abort(self) -> None:
        """Discard the layer: stop the worker, close and remove the spool file."""
        if self._result is not None:
            return
        with contextlib.suppress(BaseException):  # the layer is going away anyway
            self._worker.stop(flush=False)
        with contextlib.suppress(OSError):
            self._file.close()
        if self._watcher is not None:
            self._watcher.aborted()
        self.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _failing(self) -> Iterator[None]:
        """Any failure removes the spool; disk errors become :class:`FilesystemError`."""
        try:
            yield
        except OSError as e:
            self.abort()
            raise FilesystemError(f"writing layer spool {self.path}: {e.strerror or e}") from e
        except BaseException:
            self.abort()
            raise

    def _blocks(self, view: memoryview) -> None:
        """Hand the worker fixed 1 MiB blocks: ISA-L's output depends on how input is split."""
        pending = self._pending
        if pending:
            take = min(_BLOCK - len(pending), len(view))
            pending += view[:take]
            view = view[take:]
            if len(pending) < _BLOCK:
                return
            self._worker.put(bytes(pending))
            pending.clear()
        while len(view) >= _BLOCK:
            self._worker.put(bytes(view[:_BLOCK]))
            view = view[_BLOCK:]
        pending += view
