"""Base layers downloaded concurrently, extraction pipelined behind the downloads.

Extraction applies layers in order; without help each layer's download would wait for
the previous layer's extraction. :class:`Prefetch` starts downloading every layer after
the first into the workspace's blob cache at once (a few at a time), while the first is
streamed and extracted as it arrives; when extraction reaches a later layer it waits for
that layer's download (usually long done) and reads it from disk. A download that fails
is not an error here: the layer is then streamed as if it had not been prefetched, so
retries and error messages stay the extraction's. Blobs are verified while they are
read (the remote layer checks digest and size), written to a partial file of their own
and renamed only when complete. Each download is claimed in the build's
:class:`~kaniko.executor.pulls.BlobPulls` as a pull ahead of need, so stages extracting
one image at once download each layer once (the others wait for it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from kaniko.executor.pulls import BlobPulls, partial_blob
from kaniko.iotools import CHUNK
from kaniko.oci.image import FileLayer, Layer
from kaniko.progress import SILENT, Reporter

log = logging.getLogger(__name__)

DOWNLOADS = 3  # at once


def download(layer: Layer, blobs: Path, progress: Reporter = SILENT) -> Path:
    """``layer``'s blob in ``blobs`` (downloaded now unless it is there already)."""
    cached = blobs / layer.digest.encoded
    if cached.exists():
        return cached
    partial: Path | None = None
    task = progress.task(f"pull {layer.digest.short()}", layer.size)
    try:
        partial = partial_blob(blobs, layer.digest)
        with layer.open_compressed() as stream, open(partial, "wb") as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
                task.advance(len(chunk))
        if partial.stat().st_size != layer.size:
            raise OSError(f"blob {layer.digest.short()}: short read")
        os.replace(partial, cached)
    finally:
        task.done()
        if partial is not None:
            partial.unlink(missing_ok=True)
    return cached


def _claimed_download(layer: Layer, blobs: Path, progress: Reporter, pulls: BlobPulls) -> Path:
    try:
        return download(layer, blobs, progress)
    finally:
        pulls.release(layer.digest)


class Prefetch:
    """Background downloads of ``layers`` (all but the first) into ``blobs``."""

    def __init__(
        self,
        layers: Sequence[Layer],
        blobs: Path,
        progress: Reporter = SILENT,
        pulls: BlobPulls | None = None,
    ):
        self._futures: dict[str, Future[Path]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._pulls = pulls or BlobPulls()
        self._layers: dict[str, Layer] = {}
        wanted = [
            layer
            for layer in layers[1:]
            if not isinstance(layer, FileLayer) and not (blobs / layer.digest.encoded).exists()
        ]
        if wanted:
            self._pool = ThreadPoolExecutor(
                min(DOWNLOADS, len(wanted)), thread_name_prefix="layer-prefetch"
            )
            for layer in wanted:
                key = layer.digest.encoded
                if key in self._futures or not self._pulls.claim(layer.digest, ahead=True):
                    continue  # pulled by another stage meanwhile: waited for when opened
                self._layers[key] = layer
                self._futures[key] = self._pool.submit(
                    _claimed_download, layer, blobs, progress, self._pulls
                )

    def wait(self, layer: Layer) -> None:
        """Wait for ``layer``'s download, if one was started (a failure is only logged)."""
        future = self._futures.get(layer.digest.encoded)
        if future is None:
            return
        try:
            future.result()
        except Exception as e:  # the extraction streams it instead, and reports errors
            log.debug("prefetch of %s failed: %s", layer.digest.short(), e)

    def close(self) -> None:
        """Cancel the downloads not started (those running end on their own: their files
        go with the workspace)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            for key, future in self._futures.items():
                if future.cancelled():  # never started: its claim is released here
                    self._pulls.release(self._layers[key].digest)

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
