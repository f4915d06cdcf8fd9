"""One build's work directory, and extracting images into roots under it.

:class:`Workspace` is the directory (``<kaniko dir>/builds/build-*``): stage roots, the
layer spool, the blob cache and the build's temporary files live there; it is locked
while the build runs and removed when the build ends (:mod:`kaniko.executor.workdirs`
reclaims those of builds that were killed).
:class:`Extractor` extracts an image into a root, applying the ignore list of that root
(:class:`IgnoreRules`); a layer pulled from a registry is kept in the blob cache as it is
read, so extracting it again (a later ``FROM`` an earlier stage, a retried extraction,
an in-place stage wiped and rebuilt) reads it from disk; the layers after the first are
downloaded concurrently behind the extraction (:mod:`kaniko.executor.prefetch`); stages
extracted at once share them (:class:`~kaniko.executor.pulls.BlobPulls`: an extraction
waits for a layer pulled ahead of need rather than pulling it again). :class:`ImageTrees`
holds the roots of images that ``COPY --from=<image>`` reads, each extracted once.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from kaniko import cancel
from kaniko.executor.prefetch import Prefetch
from kaniko.executor.pulls import BlobPulls, partial_blob
from kaniko.executor.workdirs import WorkDir, claim
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.unpack import extract_image
from kaniko.iotools import CHUNK, TeeReader
from kaniko.oci.image import FileLayer, Image, Layer
from kaniko.oci.platform import Platform
from kaniko.progress import SILENT, Reporter

log = logging.getLogger(__name__)


class Images(Protocol):
    """Where images named by reference come from (``COPY --from=<image>``, ``FROM``)."""

    def image(self, reference: str, platform: Platform) -> Image: ...


@dataclass(frozen=True)
class Workspace:
    """The directory of one build: stage roots, the layer spool, the blob cache, the
    temporary files. As a context manager it is removed at the end."""

    base: Path
    work: WorkDir | None = None  # its lock (None: a directory made by hand)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    @classmethod
    def create(cls, kaniko_dir: str) -> Workspace:
        """A workspace in a new work directory under ``<kaniko_dir>/builds`` (under the
        temporary directory if that cannot be made; see :mod:`kaniko.executor.workdirs`)."""
        try:
            work = claim(Path(kaniko_dir) / "builds")
        except OSError:
            work = claim(Path(tempfile.gettempdir()) / "kaniko-builds")
        base = work.path
        (base / "spool").mkdir()
        (base / "blobs").mkdir()
        (base / "tmp").mkdir()
        return cls(base, work)

    @property
    def tmp(self) -> Path:
        """Where the build's temporary files go (RUN steps' ``kaniko-run-*`` among them)."""
        return self.base / "tmp"

    @property
    def spool(self) -> Path:
        """Where snapshots write their layers."""
        return self.base / "spool"

    @property
    def blobs(self) -> Path:
        """Pulled layer blobs, by digest."""
        return self.base / "blobs"

    def new_root(self, name: str) -> Path:
        """A new empty directory named ``name`` (``name.2``, ``name.3`` … when taken: the
        platforms of a multi-platform build each number their stages from 0)."""
        root, number = self.base / name, 1
        while True:
            try:
                root.mkdir(mode=0o755)
                return root
            except FileExistsError:
                number += 1
                root = self.base / f"{name}.{number}"

    def remove(self) -> None:
        if self.work is not None:
            self.work.release()
        else:
            shutil.rmtree(self.base, ignore_errors=True)


@dataclass(frozen=True)
class IgnoreRules:
    """What goes on every root's ignore list besides the kernel file systems and mount
    points: ``/var/run`` (``--ignore-var-run``) and ``--ignore-path``."""

    var_run: bool = True
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Extractor:
    """Extracts images into roots of ``workspace`` (see the module docs)."""

    workspace: Workspace
    rules: IgnoreRules = IgnoreRules()
    retries: int = 0  # --image-fs-extract-retry
    progress: Reporter = SILENT
    pulls: BlobPulls = field(default_factory=BlobPulls)

    def ignore_list(self, root: Path) -> IgnoreList:
        """The ignore list of a stage root that is a directory (the workspace ignored)."""
        return IgnoreList.for_root(
            root,
            ignore_var_run=self.rules.var_run,
            extra=self.rules.paths,
            kaniko_dir=str(self.workspace.base),
        )

    def extract(self, image: Image, root: Path, ignore: IgnoreList | None = None) -> None:
        """Extract ``image`` into ``root``, with ``root``'s ignore list unless given one."""
        layers = image.layers()
        log.info("Unpacking rootfs (%d layers)", len(layers))
        self.extract_layers(layers, root, ignore)

    def extract_layers(
        self,
        layers: Sequence[Layer],
        root: Path,
        ignore: IgnoreList | None = None,
        *,
        over: bool = False,
    ) -> None:
        """Apply ``layers`` in order to ``root``, with ``root``'s ignore list unless given
        one; the later layers download behind the earlier ones' extraction. ``over``:
        ``root`` holds a filesystem already (layers a cache served, put over it), so a
        failure is not retried, which would wipe it."""
        with Prefetch(layers, self.workspace.blobs, self.progress, self.pulls) as prefetch:
            extract_image(
                [self._counted(layer, prefetch) for layer in layers],
                root,
                ignore=self.ignore_list(root) if ignore is None else ignore,
                retries=0 if over else self.retries,
                diff_ids=[layer.diff_id for layer in layers],
                names=[str(layer.digest) for layer in layers],
            )

    def open_layer(self, layer: Layer) -> AbstractContextManager[BinaryIO]:
        """A stream of ``layer``'s blob, read through the blob cache (kept if pulled)."""
        return self._counted(layer)()

    def _counted(
        self, layer: Layer, prefetch: Prefetch | None = None
    ) -> Callable[[], AbstractContextManager[BinaryIO]]:
        """An opener of ``layer`` that advances a progress bar and keeps remote blobs.

        A layer pulled from a registry is written to the blob cache as it is read (its
        digest was verified by the time the read ends).
        """
        blobs, progress, pulls = self.workspace.blobs, self.progress, self.pulls

        @contextmanager
        def opener() -> Iterator[BinaryIO]:
            cancel.check()
            if prefetch is not None:
                prefetch.wait(layer)  # downloaded behind the earlier layers' extraction
            cached = blobs / layer.digest.encoded
            pulls.wait_ahead(layer.digest)
            if cached.exists():
                with open(cached, "rb") as kept:
                    yield kept
                return
            if isinstance(layer, FileLayer):  # already on this disk
                with layer.open_compressed() as stream:
                    yield stream
                return
            task = progress.task(f"pull {layer.digest.short()}", layer.size)
            claimed = pulls.claim(layer.digest, ahead=False)  # not pulled ahead meanwhile
            partial: Path | None = None
            try:
                partial = partial_blob(blobs, layer.digest)
                with layer.open_compressed() as stream, open(partial, "wb") as keep:

                    def observe(data: bytes) -> None:
                        cancel.check()
                        keep.write(data)
                        task.advance(len(data))

                    with io.BufferedReader(TeeReader(stream, observe), CHUNK) as teed:
                        yield teed
                if partial.stat().st_size == layer.size:
                    os.replace(partial, cached)
            finally:
                task.done()
                if partial is not None:
                    partial.unlink(missing_ok=True)
                if claimed:
                    pulls.release(layer.digest)

        return opener


@dataclass
class ImageTrees:
    """The extracted roots of images that ``COPY --from=<image>`` reads, one per
    (reference, platform), made when first read."""

    images: Images
    extractor: Extractor
    _roots: dict[str, Path] = field(default_factory=dict)
    # stages built at once may copy from the same image (one extracts it) or from others
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _made: int = 0

    def tree(self, reference: str, platform: Platform) -> Path:
        key = f"{reference}@{platform}"
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._roots:
                with self._lock:
                    name = f"image-{self._made}"
                    self._made += 1
                root = self.extractor.workspace.new_root(name)
                self.extractor.extract(self.images.image(reference, platform), root)
                self._roots[key] = root
            return self._roots[key]
