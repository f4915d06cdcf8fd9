"""The snapshotter: what each build step changed in a root filesystem, and its layer.

Usage, per stage (mirroring Go kaniko's executor)::

    snap = Snapshotter(root, ignore=ignore_list.ignored_rel, mode="full", spool_dir=...)
    snap.init()                       # stage start: the baseline inventory
    changes = snap.after_step()       # take(): walk and diff against the last inventory
    changes = snap.after_step(paths)  # take_paths(paths): COPY/ADD, no walk
    layer = snap.layer(changes)       # None for an empty diff

With ``single_snapshot=True`` ``after_step`` returns empty change sets until
``after_step(last=True)``, whose one walk finds the whole stage's changes against the
baseline: one layer per stage, as ``--single-snapshot``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from kaniko.errors import UsageError
from kaniko.fs.diff import SNAPSHOT_MODES, ChangeSet, SnapshotMode, diff
from kaniko.fs.inventory import IgnoreFn, Inventory
from kaniko.oci.image import FileLayer
from kaniko.oci.mediatypes import Compression
from kaniko.oci.streams import WatchFactory
from kaniko.snapshot.layer import LayerOptions, write_layer
from kaniko.snapshot.paths import update_paths


class Snapshotter:
    """Inventories of ``root`` and the change sets and layers between them."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        ignore: IgnoreFn | None = None,
        mode: SnapshotMode = "full",
        spool_dir: str | os.PathLike[str] | None = None,
        compression: Compression = "gzip",
        level: int | None = None,
        reproducible: bool = False,
        oci: bool = False,
        epoch: int = 0,
        single_snapshot: bool = False,
        watch: WatchFactory | None = None,
    ) -> None:
        if mode not in SNAPSHOT_MODES:
            raise UsageError(f"--snapshot-mode: unknown mode {mode!r} (want full, redo or time)")
        self.root = os.fspath(root)
        self.ignore = ignore
        self.mode = mode
        self.single_snapshot = single_snapshot
        self.layer_options = LayerOptions(
            None if spool_dir is None else os.fspath(spool_dir),
            compression=compression,
            level=level,
            oci=oci,
            reproducible=reproducible,
            epoch=epoch,
            watch=watch,
        )
        self._inventory: Inventory | None = None

    @classmethod
    def with_layer_options(
        cls,
        root: str | os.PathLike[str],
        layer_options: LayerOptions,
        *,
        ignore: IgnoreFn | None = None,
        mode: SnapshotMode = "full",
        single_snapshot: bool = False,
    ) -> Snapshotter:
        """A snapshotter whose layers are written with ``layer_options`` as they are."""
        snapshotter = cls(root, ignore=ignore, mode=mode, single_snapshot=single_snapshot)
        snapshotter.layer_options = layer_options
        return snapshotter

    @property
    def inventory(self) -> Inventory | None:
        """The current inventory (``None`` before ``init``)."""
        return self._inventory

    @property
    def initialized(self) -> bool:
        return self._inventory is not None

    def init(self) -> None:
        """Take the first inventory (again, if called twice): the baseline of the next take."""
        self._inventory = self._walk()

    def take(self) -> ChangeSet:
        """Walk the root, diff against the last inventory and make the new one current."""
        old = self._inventory
        if old is None:
            raise RuntimeError("Snapshotter.take() before init()")
        new = self._walk()
        changes = diff(old.records, new.records, mode=self.mode, root=self.root, ignore=self.ignore)
        self._inventory = new
        return changes

    def take_paths(self, paths: Iterable[str | os.PathLike[str]]) -> ChangeSet:
        """The changes of a step that reports what it wrote (image paths, ``/app/x``).

        No walk: the reported paths, their parents and reported directories' trees are
        refreshed in the current inventory. Before ``init`` every reported path is added.
        """
        inv = self._inventory
        return update_paths(
            self.root,
            inv.records if inv is not None else {},
            paths,
            started_ns=time.time_ns(),
            mode=self.mode,
            ignore=self.ignore,
            baseline=inv is not None,
        )

    def after_step(
        self, paths: Iterable[str | os.PathLike[str]] | None = None, *, last: bool = False
    ) -> ChangeSet:
        """The changes of the step just run: ``take_paths(paths)``, or ``take()`` for None.

        With ``single_snapshot`` only the stage's last step (``last=True``) is snapshotted,
        by a walk, whatever it reported; earlier steps give an empty change set.
        """
        if self.single_snapshot:
            return self.take() if last else ChangeSet()
        return self.take() if paths is None else self.take_paths(paths)

    def absorb(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Take ``paths``, put into the root by something other than a step (layers a
        cache served), as part of the root: no later layer holds them for that."""
        self.take_paths(paths)

    def layer(self, changes: ChangeSet) -> FileLayer | None:
        """``changes`` written as one spooled layer, or ``None`` for an empty change set."""
        return write_layer(self.root, changes, self.layer_options)

    def _walk(self) -> Inventory:
        return Inventory.take(self.root, ignore=self.ignore, digests=self.mode == "full")
