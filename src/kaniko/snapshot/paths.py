"""Snapshots of reported paths: the ``take_paths`` of steps that know what they wrote.

``COPY`` and ``ADD`` report the paths they wrote, so no walk of the root is needed: each
reported path is ``lstat``-ed, its parent directories too, and a reported directory's own
tree is scanned. The inventory is updated in place for exactly those paths.

- A reported path that exists is always in the change set (the step wrote it), as in Go
  kaniko's ``TakeSnapshot(files)``; entries found below a reported directory and the parent
  directories are only when their metadata changed.
- A reported path that no longer exists gets a whiteout when it was known (or when there is
  no baseline yet, where a whiteout of a missing lower path is harmless).
- A path under a symlinked or missing parent is not in the tree as reported: it is skipped
  with a warning (the step must report resolved paths).
"""

from __future__ import annotations

import bisect
import logging
import os
import stat
from collections.abc import Container, Iterable

from kaniko.fs.diff import ChangeSet, SnapshotMode, is_ignored, is_modified, whiteouts
from kaniko.fs.inventory import FileRecord, IgnoreFn, record_of, scan

log = logging.getLogger(__name__)


def normalize(path: str | os.PathLike[str]) -> str:
    """An image path (``/app/x``, ``app/x``, ``./app//x/``) as a root-relative path.

    ``""`` is the root itself. ``..`` stops at the root, as it does in a chroot.
    """
    norm = os.path.normpath("/" + os.fspath(path).lstrip("/")).lstrip("/")
    return "" if norm == "." else norm


def update_paths(
    root: str,
    records: dict[str, FileRecord],
    paths: Iterable[str | os.PathLike[str]],
    *,
    started_ns: int,
    mode: SnapshotMode,
    ignore: IgnoreFn | None,
    baseline: bool,
) -> ChangeSet:
    """Refresh ``records`` for ``paths`` (and parents, and reported directories' trees).

    ``baseline`` says whether ``records`` is a full inventory; without one every reported
    path and every parent counts as added.
    """
    targets = sorted({normalize(p) for p in paths})
    if ignore is not None:
        targets = [t for t in targets if not (t and is_ignored(t, ignore))]
    update = _Update(
        root, records, started_ns=started_ns, mode=mode, ignore=ignore, baseline=baseline
    )
    return update.run(targets)


class _Update:
    """The state of one ``update_paths`` call."""

    def __init__(
        self,
        root: str,
        records: dict[str, FileRecord],
        *,
        started_ns: int,
        mode: SnapshotMode,
        ignore: IgnoreFn | None,
        baseline: bool,
    ) -> None:
        self.root = root
        self.records = records
        self.started_ns = started_ns
        self.mode = mode
        self.digests = mode == "full"
        self.ignore = ignore
        self.baseline = baseline
        self.added: set[str] = set()
        self.modified: set[str] = set()
        self.gone: set[str] = set()
        self.dirs: dict[str, bool] = {}  # parent path → is an existing directory
        self.known: list[str] | None = None  # sorted paths of records, built on demand

    def run(self, targets: list[str]) -> ChangeSet:
        scanned: str | None = None  # the last reported directory whose tree was scanned
        for rel in targets:  # sorted, so a directory comes before anything below it
            if scanned is not None and (scanned == "" or rel.startswith(scanned + "/")):
                if rel in self.records and rel not in self.added:
                    self.modified.add(rel)  # reported, so in the layer even if unchanged
                continue
            if self._parents_ok(rel) and self._path(rel):
                scanned = rel
        self.gone -= self.records.keys()
        return ChangeSet(
            tuple(sorted(self.added)),
            tuple(sorted(self.modified - self.added)),
            tuple(whiteouts(self.gone, self.records, ignore=self.ignore)),
        )

    def _record(self, rel: str) -> FileRecord | None:
        return record_of(self.root, rel, started_ns=self.started_ns, digests=self.digests)

    def _refresh(self, rel: str, rec: FileRecord, *, always: bool) -> None:
        old = self.records.get(rel)
        self.records[rel] = rec
        if old is None:
            self.added.add(rel)
        elif always or is_modified(old, rec, mode=self.mode, root=self.root, rel=rel):
            self.modified.add(rel)
            if old.is_dir and not rec.is_dir:
                self._drop_below(rel, keep=())  # replaced by a non-directory

    def _vanished(self, rel: str) -> None:
        old = self.records.pop(rel, None)
        if old is not None or not self.baseline:
            self.gone.add(rel)
        if old is not None and old.is_dir:
            self._drop_below(rel, keep=())

    def _drop_below(self, rel: str, keep: Container[str]) -> None:
        """Forget the known entries below ``rel`` that are not in ``keep``: they are gone."""
        if not rel:
            below = list(self.records)
        else:
            # The paths known before this call, sorted once: those below ``rel`` are the
            # contiguous run from "rel/" up to "rel0" ("0" sorts right after "/").
            if self.known is None:
                self.known = sorted(self.records)
            lo = bisect.bisect_left(self.known, rel + "/")
            below = self.known[lo : bisect.bisect_left(self.known, rel + "0", lo)]
        for k in below:
            if k not in keep and self.records.pop(k, None) is not None:
                self.gone.add(k)

    def _path(self, rel: str) -> bool:
        """Refresh one reported path; true when its tree was scanned."""
        old = self.records.get(rel)
        if rel:
            rec = self._record(rel)
            if rec is None:
                self._vanished(rel)
                return False
            self._refresh(rel, rec, always=True)
            if not rec.is_dir:
                return False
        fresh = scan(
            self.root, rel, ignore=self.ignore, started_ns=self.started_ns, digests=self.digests
        )
        if not rel or (old is not None and old.is_dir):
            self._drop_below(rel, keep=fresh)
        for k, rec in fresh.items():
            self._refresh(k, rec, always=False)
        return True

    def _parents_ok(self, rel: str) -> bool:
        """Refresh ``rel``'s parents; false when one is missing or not a directory."""
        parts = rel.split("/")[:-1]
        for i in range(len(parts)):
            parent = "/".join(parts[: i + 1])
            ok = self.dirs.get(parent)
            if ok is None:
                rec = self._record(parent)
                ok = self.dirs[parent] = rec is not None and stat.S_ISDIR(rec.mode)
                if rec is None:
                    self._vanished(parent)
                else:
                    self._refresh(parent, rec, always=False)
                    if not ok:
                        log.warning("snapshot: skipping /%s: /%s is not a directory", rel, parent)
            if not ok:
                return False
        return True
