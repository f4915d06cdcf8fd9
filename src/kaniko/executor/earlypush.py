"""Layers uploaded while they are being written: the push overlaps with compression.

A layer's spool file grows block by block as the tar is compressed. :class:`EarlyPush`
watches every spool (:class:`~kaniko.oci.streams.SpoolWatcher`) and, in a thread per
layer, streams what is written to the first destination's repository in one ``PATCH``
of the upload session (chunked transfer encoding, no ``Content-Range``: the stream
upload ``docker push`` makes, so every registry it can push to takes it), reading the
file behind the writer, then closes the upload with the layer's digest once it is
known. One request, not one per chunk: a registry acknowledges each chunk only after
storing it (the distribution registry syncs its hash state to disk every time), and
those round trips were the tail of a big layer's push. Compression never waits for the
network.

It is only a head start. When the final push runs, :meth:`EarlyPush.wait` has let every
upload end; a layer whose upload failed (a registry refusing the stream, an aborted
spool) is simply absent and the push uploads it as usual, so errors are the push's.
Other destinations mount or upload the blob as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from kaniko.oci.digest import Digest
from kaniko.oci.image import FileLayer
from kaniko.refs.reference import Reference
from kaniko.registry.client import RegistryClient
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)

PIECE = 1 << 20  # what is read from the spool file at a time
WAIT = 600.0  # seconds the final push waits for uploads still running


class _Upload:
    """One spool file being uploaded (a :class:`~kaniko.oci.streams.SpoolWatcher`)."""

    def __init__(self, owner: EarlyPush, path: Path) -> None:
        self.owner = owner
        self.path = path
        self._cond = threading.Condition()
        self._size = 0
        self._layer: FileLayer | None = None
        self._aborted = False
        self._thread: threading.Thread | None = None
        self.done = False

    def grew(self, size: int) -> None:
        with self._cond:
            self._size = size
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="layer-early-push", daemon=True
                )
                self._thread.start()

    def finished(self, layer: FileLayer) -> None:
        with self._cond:
            self._layer = layer
            self._cond.notify_all()

    def aborted(self) -> None:
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _body(self) -> Iterator[bytes]:
        """The spool file's bytes as they are written, in pieces of at most 1 MiB, until
        the layer is finished."""
        offset = 0
        with open(self.path, "rb") as spool:
            while True:
                with self._cond:
                    while not self._aborted and self._layer is None and self._size <= offset:
                        self._cond.wait(1.0)
                    if self._aborted:
                        raise OSError("the layer was discarded")
                    end = self._size if self._layer is None else self._layer.size
                    final = self._layer is not None
                while offset < end:
                    data = spool.read(min(end - offset, PIECE))
                    if not data:
                        raise OSError("the spool file ended early")
                    offset += len(data)
                    yield data
                if final:
                    return

    def _digest(self) -> Digest:
        assert self._layer is not None
        return self._layer.digest

    def _run(self) -> None:
        try:
            self.owner.client().upload_stream(self._body(), self._digest)
            self.done = True
            log.debug("layer %s uploaded while written", self._digest().short())
        except Exception as e:  # the final push uploads it instead, and reports errors
            log.debug("early upload of %s stopped: %s", self.path.name, e)


class EarlyPush:
    """Uploads each layer to ``destination``'s repository as it is written."""

    def __init__(self, transport: Transport, destination: Reference) -> None:
        self.transport = transport
        self.destination = destination
        self._uploads: list[_Upload] = []
        self._lock = threading.Lock()

    def client(self) -> RegistryClient:
        ref = self.destination
        return RegistryClient(self.transport, ref.registry, ref.repository, push=True, retries=0)

    def watch(self, path: Path) -> _Upload:
        """The watcher of a new spool file (a :data:`~kaniko.oci.streams.WatchFactory`)."""
        upload = _Upload(self, path)
        with self._lock:
            self._uploads.append(upload)
        return upload

    def wait(self) -> int:
        """Let the uploads end (aborting those of layers never finished); how many
        layers got there."""
        with self._lock:
            uploads = list(self._uploads)
        for upload in uploads:
            with upload._cond:
                if upload._layer is None:
                    upload._aborted = True
                    upload._cond.notify_all()
            upload.join(WAIT)
        return sum(upload.done for upload in uploads)


def early_push(
    no_push: bool, destinations: list[Reference], transport: Transport
) -> EarlyPush | None:
    """The early push of a build that pushes (to its first destination), else None."""
    if no_push or not destinations:
        return None
    return EarlyPush(transport, destinations[0])
