"""What a step changed, read from its overlay upper directory: O(changed), no walk of the root.

A step ran in an overlay whose writable upper directory started empty, so the upper
directory holds exactly what the step touched: new and copied-up entries, overlay
whiteouts (character devices 0/0) for deletions of lower entries, and opaque directories
(``trusted.overlay.opaque`` or, with ``userxattr``, ``user.overlay.opaque`` set to ``y``)
for lower directories removed and made again. :func:`upper_changes` turns that into the
:class:`~kaniko.fs.diff.ChangeSet` the metadata snapshotter would have found for the same
step, judged against the *previous* view (the lowers alone, as the root was before the
step) and the *merged* view (the root now):

- a whiteout is a deleted path; an opaque directory hides every lower child it does not
  list again, and each of those is a deleted path too (the metadata snapshotter never
  writes opaque markers: a deleted tree is whited out at its top, one entry per child);
- a non-directory in the upper directory that was not in the previous view is added;
  one that was is modified by the rules of the snapshot mode: in ``full`` mode always
  (overlay copies a file up only to change it, as a moved ctime says in the metadata
  snapshotter), in ``redo`` mode when mode, mtime, size, owner differ, in ``time`` mode
  when the mtime does (a type change always counts);
- a directory is judged by its own metadata only, as :mod:`kaniko.fs.diff` does: in the
  upper directory because a child changed, it is a layer entry only when its mode or
  owner changed (``full`` and ``redo``), or in ``full`` mode its ctime moved and it has
  xattrs a layer keeps;
- paths a COPY/ADD/WORKDIR reported are in the change set whenever they exist, as
  ``take_paths`` has them (:mod:`kaniko.snapshot.paths`);
- ignored paths (and everything below) are left out; whiteouts of them too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from kaniko.fs.diff import ChangeSet, SnapshotMode, has_layer_xattrs, is_ignored
from kaniko.fs.inventory import IgnoreFn
from kaniko.fs.overlaymount import is_whiteout
from kaniko.snapshot.paths import normalize

OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")


def is_opaque(path: str) -> bool:
    """Whether the upper directory ``path`` hides its lower counterpart's children."""
    for name in OPAQUE_XATTRS:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _under_directories(root: str, rel: str) -> bool:
    """Whether every parent of ``rel`` is a real directory below ``root`` (no symlink)."""
    parts = rel.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        st = _lstat(os.path.join(root, *parts[:i]))
        if st is None or not stat.S_ISDIR(st.st_mode):
            return False
    return True


class _Diff:
    def __init__(
        self, upper: str, merged: str, previous: str, mode: SnapshotMode, ignore: IgnoreFn | None
    ) -> None:
        self.upper = upper
        self.merged = merged
        self.previous = previous
        self.mode = mode
        self.ignore = ignore
        self.added: list[str] = []
        self.modified: list[str] = []
        self.deleted: list[str] = []

    def walk(self) -> None:
        # (relative directory, opaque: its lower children are hidden, new: not in previous)
        stack: list[tuple[str, bool, bool]] = [("", False, False)]
        while stack:
            rel, opaque, new = stack.pop()
            here = os.path.join(self.upper, rel) if rel else self.upper
            names: set[str] = set()
            with os.scandir(here) as entries:
                for entry in entries:
                    child = f"{rel}/{entry.name}" if rel else entry.name
                    if self.ignore is not None and self.ignore(child):
                        names.add(entry.name)  # an ignored entry never gets a whiteout
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        names.add(entry.name)
                        stack.append(self._directory(child, entry.path, opaque, new))
                    elif not self._other(child, entry, new):
                        names.add(entry.name)
            if opaque and not new:
                self._hidden(rel, names)

    def _directory(self, rel: str, path: str, opaque: bool, new: bool) -> tuple[str, bool, bool]:
        before = None if new else _lstat(os.path.join(self.previous, rel))
        if before is None:
            self.added.append(rel)
            return rel, False, True
        if not stat.S_ISDIR(before.st_mode):
            self.modified.append(rel)  # a lower non-directory replaced: nothing to hide
            return rel, False, True
        now = os.lstat(os.path.join(self.merged, rel))
        if self._directory_modified(before, now, rel):
            self.modified.append(rel)
        return rel, opaque or is_opaque(path), False

    def _directory_modified(self, before: os.stat_result, now: os.stat_result, rel: str) -> bool:
        if self.mode == "time":
            return False
        if (before.st_mode, before.st_uid, before.st_gid) != (now.st_mode, now.st_uid, now.st_gid):
            return True
        if self.mode == "redo" or before.st_ctime_ns == now.st_ctime_ns:
            return False
        return has_layer_xattrs(os.path.join(self.merged, rel))

    def _other(self, rel: str, entry: os.DirEntry[str], new: bool) -> bool:
        """Judge a non-directory; true when it is a whiteout."""
        if entry.is_symlink() or entry.is_file(follow_symlinks=False):
            st = None  # no lstat needed to know it is no whiteout
        else:
            st = entry.stat(follow_symlinks=False)
            if is_whiteout(st):
                if not new and _lstat(os.path.join(self.previous, rel)) is not None:
                    self.deleted.append(rel)
                return True
        before = None if new else _lstat(os.path.join(self.previous, rel))
        if before is None:
            self.added.append(rel)
        elif self._file_modified(before, rel):
            self.modified.append(rel)
        return False

    def _file_modified(self, before: os.stat_result, rel: str) -> bool:
        now = os.lstat(os.path.join(self.merged, rel))
        if stat.S_IFMT(before.st_mode) != stat.S_IFMT(now.st_mode) or self.mode == "full":
            return True
        if self.mode == "time":
            return before.st_mtime_ns != now.st_mtime_ns
        fields = ("st_mode", "st_mtime_ns", "st_size", "st_uid", "st_gid")
        return any(getattr(before, f) != getattr(now, f) for f in fields)

    def _hidden(self, rel: str, listed: set[str]) -> None:
        """Children of the previous ``rel`` that an opaque directory no longer shows."""
        try:
            names = os.listdir(os.path.join(self.previous, rel) if rel else self.previous)
        except (FileNotFoundError, NotADirectoryError):
            return
        for name in names:
            if name not in listed:
                child = f"{rel}/{name}" if rel else name
                if self.ignore is None or not self.ignore(child):
                    self.deleted.append(child)


def upper_changes(
    upper: str,
    merged: str,
    previous: str,
    *,
    mode: SnapshotMode = "full",
    ignore: IgnoreFn | None = None,
    reported: Iterable[str | os.PathLike[str]] = (),
) -> ChangeSet:
    """The changes of one step (see the module docs); ``previous`` is the root before it."""
    diff = _Diff(upper, merged, previous, mode, ignore)
    diff.walk()
    added, modified = set(diff.added), set(diff.modified)
    for path in reported:
        rel = normalize(path)
        if not rel or rel in added or rel in modified:
            continue
        if ignore is not None and is_ignored(rel, ignore):
            continue
        if _under_directories(merged, rel) and _lstat(os.path.join(merged, rel)) is not None:
            before = _under_directories(previous, rel) and _lstat(os.path.join(previous, rel))
            if not before:
                added.add(rel)
            else:
                modified.add(rel)
    return ChangeSet(
        tuple(sorted(added)), tuple(sorted(modified - added)), tuple(sorted(diff.deleted))
    )
