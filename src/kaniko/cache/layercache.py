"""The layer cache: entries looked up, checked and written, never failing a build.

An entry is what the Go kaniko stores: an image holding one layer, the layer of one step,
whose config records when it was made (``created``) and, in its one history entry,
``author: kaniko`` and the step. It is tagged with the step's key (:mod:`.keys`) in a
:class:`CacheStore`: a registry repository (:mod:`.registrystore`) or ``oci:`` layouts
(:mod:`.layoutstore`). A step that changed nothing is stored too, as an entry whose layer
is an empty tar, so that a rebuild need not run it to find that out; the Go kaniko reads
such an entry as one empty layer, which changes no file.

:meth:`LayerCache.lookup` returns a :class:`Hit` or None. An entry that is missing is a
miss; one that is expired (``created`` + ``--cache-ttl`` before now, on the clock the
cache is given), unreadable (the registry refuses, or is unreachable), malformed (not one
layer, a config that does not list it) or fails a digest check is a warning and a miss:
the step is built again, never is the build failed. A hit's layer blob is read to the end
before it is used, its digest checked, and kept in the build's blob directory, so that
the image pushed never references a blob that is not what it claims.

:class:`CacheWriter` stores entries in the background while the build goes on, each key at
most once per build (two stages built at once may both ask for one key); its failures are
warnings. With ``--no-push-cache`` there is none.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from kaniko.errors import ImageError, KanikoError
from kaniko.images.composed import ComposedImage, ImageParts
from kaniko.iotools import CHUNK
from kaniko.oci import mediatypes as mt
from kaniko.oci.compress import open_decompressed
from kaniko.oci.config import History, ImageConfig, go_time
from kaniko.oci.digest import Digest, Hasher
from kaniko.oci.image import BytesLayer, FileLayer, Image, Layer

log = logging.getLogger(__name__)

EMPTY_TAR = bytes(1024)
EMPTY_DIFF_ID = Digest("sha256", hashlib.sha256(EMPTY_TAR).hexdigest())
"""The diff ID of an entry that records "this step changed nothing"."""

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The time TTLs are measured against and entries are stamped with (by default)."""
    return datetime.now(UTC)


def _clock(clock: Clock | None) -> datetime:
    return clock() if clock is not None else utc_now()  # looked up now: tests replace it


class CacheStore(Protocol):
    """Where entries live (see the module docs)."""

    def where(self, key: str) -> str:
        """How messages name the entry of ``key`` (``repo:key`` or ``oci:PATH:key``)."""
        ...

    def read(self, key: str) -> Image | None:
        """The entry of ``key``, None if there is none; errors are KanikoErrors."""
        ...

    def write(self, key: str, entry: Image) -> None:
        """Store ``entry`` under ``key``; a concurrent writer of the same key also wins."""
        ...


@dataclass(frozen=True)
class Hit:
    """A usable entry: the layer to append (None: the step changed nothing).
    ``this_build``: not read from the store, made by an earlier step of this build."""

    key: str
    layer: Layer | None
    created: datetime
    this_build: bool = False


@dataclass(frozen=True)
class _Verified:
    """A cached layer blob read to the end and checked, kept in a local file."""

    path: Path
    digest: Digest
    diff_id: Digest
    size: int
    media_type: str
    source: tuple[str, str] | None = None  # (registry, repository): a push may mount it

    @contextlib.contextmanager
    def open_compressed(self) -> Iterator[BinaryIO]:
        with open(self.path, "rb") as blob:
            yield blob

    @contextlib.contextmanager
    def open_uncompressed(self) -> Iterator[BinaryIO]:
        with self.open_compressed() as blob, open_decompressed(blob, self.media_type) as tar:
            yield tar


class LayerCache:
    """Looks entries up in ``store`` and checks them (see the module docs).

    ``blobs`` is where verified layer blobs are kept, by digest (the build's blob
    directory, which extraction reads first). ``clock`` is the time TTLs are measured
    against (default :func:`utc_now`).
    """

    def __init__(
        self,
        store: CacheStore,
        *,
        ttl: timedelta,
        blobs: Path,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.blobs = blobs
        self.clock = clock
        self._lock = threading.Lock()
        self._blob_locks: dict[Digest, threading.Lock] = {}

    def lookup(self, key: str) -> Hit | None:
        """The entry of ``key`` if it is there, fresh and sound; else None (warned)."""
        where = self.store.where(key)
        try:
            entry = self.store.read(key)
        except KanikoError as e:
            log.warning("Cache entry %s unreadable, building the step: %s", where, e)
            return None
        if entry is None:
            log.info("No cached layer %s", where)
            return None
        try:
            return self._check(key, entry, where)
        except (KanikoError, OSError) as e:
            log.warning("Cache entry %s unusable, building the step: %s", where, e)
            return None

    def _check(self, key: str, entry: Image, where: str) -> Hit | None:
        config = entry.config()
        layers = entry.layers()
        if len(layers) != 1 or len(config.diff_ids) != 1:
            raise ImageError(f"an entry holds one layer, this one {len(layers)}")
        created = _parse_time(config.created)
        if created is None:
            raise ImageError(f"its config has no usable created time ({config.created!r})")
        if created + self.ttl < _clock(self.clock):
            log.warning(
                "Cache entry %s expired (made %s, --cache-ttl %s), building the step",
                where,
                go_time(created),
                self.ttl,
            )
            return None
        layer = self._verified(layers[0], config.diff_ids[0])
        log.info("Using cached layer %s", where)
        return Hit(key, None if layer.diff_id == EMPTY_DIFF_ID else layer, created)

    def _verified(self, layer: Layer, diff_id: Digest) -> Layer:
        """``layer``'s blob, read to the end once per build and checked: a blob on this
        disk (a layout's) where it is, a registry's into the blob directory."""
        with self._lock:
            lock = self._blob_locks.setdefault(layer.digest, threading.Lock())
        with lock:
            if isinstance(layer, FileLayer):
                _check_blob(layer.path, layer)
                return FileLayer(
                    layer.path, layer.digest, diff_id, layer.size, layer.media_type, verify=True
                )
            path = self.blobs / layer.digest.encoded
            source = getattr(layer, "source", None)
            if not path.exists():
                partial = path.with_name(path.name + ".cache-partial")
                try:
                    with layer.open_compressed() as stream, open(partial, "wb") as out:
                        while chunk := stream.read(CHUNK):
                            out.write(chunk)
                    _check_blob(partial, layer)
                    os.replace(partial, path)
                finally:
                    partial.unlink(missing_ok=True)
            return _Verified(path, layer.digest, diff_id, layer.size, layer.media_type, source)


def _check_blob(path: Path, layer: Layer) -> None:
    """Raise ImageError unless the blob at ``path`` has ``layer``'s digest and size.

    That is the whole check: the blob is then the one its writer pushed, and its diff ID
    the one that writer recorded (whoever may write the cache could write any layer at
    all, so decompressing it to check the diff ID would prove nothing more).
    """
    hasher = Hasher(layer.digest.algorithm)
    with open(path, "rb") as blob:
        while chunk := blob.read(CHUNK):
            hasher.update(chunk)
    if hasher.digest() != layer.digest or hasher.size != layer.size:
        raise ImageError(
            f"layer blob digest mismatch: expected {layer.digest} ({layer.size} bytes), got "
            f"{hasher.digest()} ({hasher.size} bytes)"
        )


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:  # Go writes up to nanoseconds; Python reads microseconds
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        value = f"{head}.{digits[:6]}{zone}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def entry_image(layer: Layer | None, created_by: str, created: datetime, *, oci: bool) -> Image:
    """The entry of a step: an image of its one layer (an empty tar for no change),
    ``created`` now, history ``author: kaniko``, as the Go kaniko writes it."""
    if layer is None:
        layer = BytesLayer.from_tar(EMPTY_TAR, oci=oci)
    manifest_type = mt.OCI_MANIFEST if not mt.is_docker(layer.media_type) else mt.DOCKER_MANIFEST
    config = ImageConfig(
        created=go_time(created),
        rootfs_type="layers",
        diff_ids=(layer.diff_id,),
        history=(History(created=go_time(created), author="kaniko", created_by=created_by),),
    )
    return ComposedImage(ImageParts.new(manifest_type, config, [layer]))


@dataclass
class CacheWriter:
    """Stores entries in the background (see the module docs); :meth:`close` waits."""

    store: CacheStore
    clock: Clock | None = None
    workers: int = 2
    _pool: ThreadPoolExecutor | None = None
    _pending: dict[str, Future[None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, key: str, layer: Layer | None, created_by: str, *, oci: bool) -> None:
        """Store ``layer`` as the entry of ``key``, unless this build already did."""
        with self._lock:
            if key in self._pending:
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="cache-push")
            entry = entry_image(layer, created_by, _clock(self.clock), oci=oci)
            context = contextvars.copy_context()  # the caller's log prefix (its stage)
            self._pending[key] = self._pool.submit(context.run, self._write, key, entry)

    def _write(self, key: str, entry: Image) -> None:
        where = self.store.where(key)
        try:
            self.store.write(key, entry)
            log.info("Pushed cache entry %s", where)
        except (KanikoError, OSError) as e:
            log.warning("Could not store cache entry %s: %s", where, e)

    def close(self) -> None:
        """Wait for every write started (each one's failure was a warning)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    @property
    def written(self) -> tuple[str, ...]:
        """The keys this writer was asked to store, in order."""
        with self._lock:
            return tuple(self._pending)
