"""Layer blobs pulled into the workspace's blob cache: each once, and some ahead of need.

Every layer pulled from a registry is kept in the workspace's blob cache
(:class:`~kaniko.executor.workspace.Extractor` tees it there while it extracts it). With
stages built at once, two of them may want the same layer at the same time, and the
planner knows every base image before the first stage starts. So:

* :class:`BlobPulls` tracks the pulls in flight by digest. An extraction waits for a
  pull *ahead of need* of its layer and then reads it from disk; it never waits for
  another extraction's pull (an extraction may hold one layer open while it asks for
  the next, so two of them waiting on each other could deadlock): it pulls its own copy
  then. Every pull writes its own partial file and renames it into place when complete,
  so concurrent pulls of one blob never mix.
* :class:`PullAhead` pulls, on a few threads, the layers of the images that stages
  starting later will extract (and of the images ``COPY --from`` reads), while the
  first stages work. Layers that several of the first stages extract (two stages
  ``FROM`` one image) are claimed before those stages start and pulled first, so they
  cross the network once: the extractions wait for them. Its failures are only logged:
  the extraction that needs the layer pulls it again and reports the error where it
  belongs. Closing it stops its pulls between reads and waits for its threads.

Memory stays bounded: every pull streams in fixed-size chunks to disk.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from kaniko import cancel
from kaniko.iotools import CHUNK
from kaniko.oci.digest import Digest
from kaniko.oci.image import FileLayer, Image, Layer
from kaniko.progress import SILENT, Reporter

log = logging.getLogger(__name__)

PULLERS = 3
"""Threads pulling ahead of need (a registry serves a few streams well; more compete)."""


def partial_blob(blobs: Path, digest: Digest) -> Path:
    """A new partial file in ``blobs`` for one pull of ``digest`` (renamed when complete)."""
    fd, name = tempfile.mkstemp(prefix=f"{digest.encoded}.", suffix=".partial", dir=blobs)
    os.close(fd)
    return Path(name)


class BlobPulls:
    """The pulls into one blob cache in flight, by digest (see the module docs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[Digest, tuple[threading.Event, bool]] = {}

    def claim(self, digest: Digest, *, ahead: bool) -> bool:
        """Note a pull of ``digest`` (``ahead``: ahead of need, others may wait for it);
        False if one is in flight already (the caller did not claim it)."""
        with self._lock:
            if digest in self._inflight:
                return False
            self._inflight[digest] = (threading.Event(), ahead)
            return True

    def release(self, digest: Digest) -> None:
        """The claimed pull of ``digest`` ended (complete or not)."""
        with self._lock:
            event, _ = self._inflight.pop(digest)
        event.set()

    def wait_ahead(self, digest: Digest) -> None:
        """Wait until a pull ahead of need of ``digest``, if one is in flight, ends."""
        with self._lock:
            entry = self._inflight.get(digest)
        if entry is None or not entry[1]:
            return
        while not entry[0].wait(0.2):
            cancel.check()


def _remote_layers(images: Sequence[Image]) -> list[Layer]:
    """The layers of ``images`` that come from registries, each once, in order."""
    found: dict[Digest, Layer] = {}
    for image in images:
        for layer in image.layers():
            if not isinstance(layer, FileLayer):
                found.setdefault(layer.digest, layer)
    return list(found.values())


def shared_layers(images: Sequence[Image]) -> list[Layer]:
    """The layers from registries that more than one of ``images`` has, in order (one
    entry of ``images`` per stage: an image named twice shares all its layers)."""
    counts: dict[Digest, int] = {}
    for image in images:
        for layer in _remote_layers([image]):
            counts[layer.digest] = counts.get(layer.digest, 0) + 1
    return [layer for layer in _remote_layers(images) if counts[layer.digest] > 1]


class PullAhead:
    """Pulls the layers of ``images`` into ``blobs`` on up to :data:`PULLERS` threads,
    from now until each is in the cache or :meth:`close` is called. The ``first`` layers
    are claimed now (extractions starting after this wait for them) and pulled first."""

    def __init__(
        self,
        images: Callable[[], Sequence[Image]],
        blobs: Path,
        pulls: BlobPulls,
        progress: Reporter = SILENT,
        first: Sequence[Layer] = (),
    ) -> None:
        self.blobs = blobs
        self.pulls = pulls
        self.progress = progress
        self._scope = cancel.CancelScope()
        self._lock = threading.Lock()
        self._images = images
        self._queue: list[Layer] | None = None
        self._claimed: dict[Digest, Layer] = {}  # claimed by the constructor, not pulled yet
        for layer in first:
            cached = blobs / layer.digest.encoded
            if not cached.exists() and pulls.claim(layer.digest, ahead=True):
                self._claimed[layer.digest] = layer
        self._threads = [
            threading.Thread(target=self._work, name=f"kaniko-pull-{n}", daemon=True)
            for n in range(PULLERS)
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        """Stop pulling (a pull in progress stops at its next read) and wait for it."""
        self._scope.cancel()
        for thread in self._threads:
            thread.join()
        with self._lock:
            left, self._claimed = list(self._claimed), {}
        for digest in left:  # never pulled: whoever waits for them pulls them
            self.pulls.release(digest)

    def _next(self) -> tuple[Layer, bool] | None:
        """The next layer to pull, and whether the constructor claimed it already."""
        with self._lock:
            if self._claimed:
                return self._claimed.pop(next(iter(self._claimed))), True
            if self._queue is None:  # the first thread lists them (configs are resolved)
                try:
                    self._queue = _remote_layers(self._images())
                except Exception as e:  # best effort: the stages pull them
                    log.debug("pulling ahead: cannot list the layers: %s", e)
                    self._queue = []
            return (self._queue.pop(0), False) if self._queue else None

    def _work(self) -> None:
        with cancel.within(self._scope):
            while not self._scope.cancelled and (found := self._next()) is not None:
                layer, claimed = found
                try:
                    self._pull(layer, claimed)
                except Exception as e:  # best effort: the stages pull them
                    if not self._scope.cancelled:
                        log.debug("pulling %s ahead failed: %s", layer.digest, e)

    def _pull(self, layer: Layer, claimed: bool) -> None:
        cached = self.blobs / layer.digest.encoded
        if not claimed and (cached.exists() or not self.pulls.claim(layer.digest, ahead=True)):
            return  # kept already, or being pulled by a stage
        task = self.progress.task(f"pull {layer.digest.short()}", layer.size)
        partial: Path | None = None
        try:  # the claim is released whatever happens: extractions may wait for it
            partial = partial_blob(self.blobs, layer.digest)
            with layer.open_compressed() as stream, open(partial, "wb") as keep:
                while chunk := stream.read(CHUNK):
                    self._scope.check()
                    keep.write(chunk)
                    task.advance(len(chunk))
            if partial.stat().st_size == layer.size:  # read to its end: digest verified
                os.replace(partial, cached)
        finally:
            task.done()
            if partial is not None:
                partial.unlink(missing_ok=True)
            self.pulls.release(layer.digest)
