"""Overlay snapshots: each step writes into an upper directory of its own, read back as its layer.

Where overlay mounts are permitted (chroot isolation as root), a stage root is the merged
view of an :class:`OverlayStack`: the base's extracted tree as the bottom lower directory
(read-only: the kept base is shared by every build on this machine), the upper
directories of the stage's earlier steps stacked above it, and an empty upper directory
for the step about to run. RUN's sandbox ``pivot_root``\\ s into the merged root (its bind
mounts and ``/proc`` live in the RUN's own mount namespace), COPY/ADD/WORKDIR write into
it, and afterwards :class:`OverlaySnapshotter` reads the step's changes from its upper
directory alone (:mod:`kaniko.snapshot.upperdiff`), judged against the previous view (the
lowers without the upper, mounted read-only when there is more than one). The layer is
written by the same tar writer as the metadata snapshotter's, so both give the same
layer for the same change set; it reads each entry from the upper directory when it is
there (the merged root shows the same), from the merged root otherwise.

Then the step's upper directory joins the lowers and the root is mounted again with a
new, empty upper directory (an upper directory that is still empty is simply kept).
When the lowers no longer fit one mount's options (hundreds of steps), the stage goes on
with the metadata snapshotter from that step on, over the mounted root as it is.
``--single-snapshot`` keeps one upper directory for the whole stage.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from kaniko.fs.diff import ChangeSet, SnapshotMode
from kaniko.fs.inventory import IgnoreFn
from kaniko.fs.overlaymount import TooManyLayers, mount_overlay, overlay_data, unmount
from kaniko.oci.image import FileLayer
from kaniko.snapshot.layer import LayerOptions, write_layer
from kaniko.snapshot.snapshotter import Snapshotter
from kaniko.snapshot.upperdiff import upper_changes

log = logging.getLogger(__name__)


class OverlayStack:
    """The overlay mounts of one stage root (see the module docs).

    ``directory`` holds the upper directories (``u1``, ``u2`` …), their mounts' work
    directories (``w1``, ``w2`` …) and the previous view's mount point; ``root`` is the
    merged mount point; ``base`` the base's lower directories, topmost first (an empty
    one for ``scratch``).
    """

    def __init__(self, directory: Path, root: Path, base: Sequence[str]) -> None:
        self.directory = directory
        self.root = root
        directory.mkdir(parents=True, exist_ok=True)
        if not base:
            (directory / "empty").mkdir(exist_ok=True)
            base = [str(directory / "empty")]
        self.base = list(base)
        self._fd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self._layers: list[str] = []  # upper directories of earlier steps, oldest first
        self._count = 0
        self._upper = ""
        self._mounted: list[Path] = []

    def _short(self, name: str) -> str:
        """``name`` in ``directory`` as a short path for mount options."""
        return f"/proc/self/fd/{self._fd}/{name}"

    @property
    def upper(self) -> Path:
        """The upper directory of the step running now."""
        return self.directory / self._upper

    def lowers(self) -> list[str]:
        """The lower directories, topmost first."""
        return [self._short(name) for name in reversed(self._layers)] + self.base

    def mount(self) -> None:
        """Mount the root with a new, empty upper directory."""
        self._count += 1
        name, work = f"u{self._count}", f"w{self._count}"  # a volatile mount's work
        (self.directory / name).mkdir()  # directory serves that mount alone
        (self.directory / work).mkdir()
        mount_overlay(str(self.root), self.lowers(), self._short(name), self._short(work))
        self._upper = name
        self._mounted.append(self.root)

    def advance(self) -> None:
        """The step is done: its upper directory becomes the topmost lower (if it holds
        anything) under a new upper directory. Raises :class:`TooManyLayers` (the root
        stays mounted as it was)."""
        with os.scandir(self.upper) as entries:
            if next(entries, None) is None:
                return  # nothing written: keep it for the next step
        # Check the options fit before unmounting, so a refusal leaves the root mounted.
        upcoming = [self._upper, *reversed(self._layers)]
        overlay_data(
            [self._short(n) for n in upcoming] + self.base,
            self._short(f"u{self._count + 1}"),
            self._short(f"w{self._count + 1}"),
        )
        self._unmount(self.root)
        self._layers.append(self._upper)
        self.mount()

    @contextlib.contextmanager
    def previous(self) -> Iterator[str]:
        """The root as it was before the running step: the lowers, read-only."""
        lowers = self.lowers()
        if len(lowers) == 1:
            yield lowers[0]
            return
        view = self.directory / "previous"
        view.mkdir(exist_ok=True)
        mount_overlay(str(view), lowers)
        self._mounted.append(view)
        try:
            yield str(view)
        finally:
            self._unmount(view)

    def _unmount(self, target: Path) -> None:
        try:
            unmount(str(target))
        except OSError:
            unmount(str(target), lazy=True)  # busy: detach it, it goes when released
        with contextlib.suppress(ValueError):
            self._mounted.remove(target)

    def close(self) -> None:
        """Unmount everything (the directories go with the workspace)."""
        for target in reversed(list(self._mounted)):
            with contextlib.suppress(OSError):
                self._unmount(target)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = -1


class OverlaySnapshotter:
    """The snapshotter of a stage root on an :class:`OverlayStack`: the same interface and
    the same layers as :class:`~kaniko.snapshot.snapshotter.Snapshotter`."""

    def __init__(
        self,
        stack: OverlayStack,
        *,
        ignore: IgnoreFn | None,
        mode: SnapshotMode,
        layer_options: LayerOptions,
        single_snapshot: bool = False,
    ) -> None:
        self.stack = stack
        self.root = str(stack.root)
        self.ignore = ignore
        self.mode = mode
        self.layer_options = layer_options
        self.single_snapshot = single_snapshot
        self._fallback: Snapshotter | None = None

    def init(self) -> None:
        """Nothing to take: the first upper directory is empty."""

    def after_step(
        self, paths: Iterable[str | os.PathLike[str]] | None = None, *, last: bool = False
    ) -> ChangeSet:
        """The changes of the step just run (``paths``: what a COPY/ADD/WORKDIR reported)."""
        if self._fallback is not None:
            return self._fallback.after_step(paths, last=last)
        if self.single_snapshot and not last:
            return ChangeSet()
        with self.stack.previous() as previous:
            return upper_changes(
                str(self.stack.upper),
                self.root,
                previous,
                mode=self.mode,
                ignore=self.ignore,
                reported=() if paths is None or self.single_snapshot else paths,
            )

    def absorb(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Take what was put into the root by something other than a step (layers a
        cache served, written to the upper directory) as part of the previous view: the
        upper directory joins the lowers, so no later layer holds it."""
        if self._fallback is not None:
            self._fallback.absorb(paths)
            return
        self._advance()

    def layer(self, changes: ChangeSet) -> FileLayer | None:
        """``changes`` as one spooled layer (None when empty); then the next upper."""
        upper = None if self._fallback is not None else str(self.stack.upper)
        layer = write_layer(self.root, changes, self.layer_options, upper=upper)
        if self._fallback is None and not self.single_snapshot:
            self._advance()
        return layer

    def _advance(self) -> None:
        try:
            self.stack.advance()
        except TooManyLayers as e:
            log.info("%s: snapshots go on by walking the root", e)
            self._fallback = self._metadata()

    def _metadata(self) -> Snapshotter:
        snapshotter = Snapshotter.with_layer_options(
            self.root,
            self.layer_options,
            ignore=self.ignore,
            mode=self.mode,
            single_snapshot=self.single_snapshot,
        )
        snapshotter.init()
        return snapshotter
