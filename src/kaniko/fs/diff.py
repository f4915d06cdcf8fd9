"""Diff two inventories into a :class:`ChangeSet`: what a build step added, modified, deleted.

Change detection reads metadata only, per snapshot mode (kaniko's ``--snapshot-mode``):

- ``full``: mode, uid, gid, size, mtime, ctime, inode, device, link count, rdev and symlink
  target. ctime cannot be set from userspace, so any write, chmod, chown, xattr change or
  rename-over is seen without reading a byte. The coarse clock is the one gap: a *suspect*
  record (see :mod:`kaniko.fs.inventory`) carries content and xattr digests, and when its
  metadata is unchanged the current file is hashed and compared.
- ``redo``: mode (type included), mtime, size, uid and gid, as kaniko's redo hasher.
- ``time``: mtime only, as kaniko's, plus the file type: a type change is always a change,
  since a layer that left it out would be wrong.

Directories are judged by their own metadata only, as BuildKit's and containerd's differs
do (``sameDirent``: mode, owner, device and ``security.capability``; never times, size or
link count): adding or removing an entry moves a directory's mtime and ctime, and the tar
writer emits every parent of a layer entry anyway. So a step that creates and removes a
temporary file (or a RUN whose sandbox makes and removes mount points in ``/etc``) leaves
no directory entry behind. A directory's mode, uid and gid count in ``full`` and ``redo``
mode; in ``full`` mode a moved ctime (an xattr change moves nothing else) also counts
when the directory carries xattrs a layer would keep (or, for a suspect record, when
their digest changed). In ``time`` mode only a type change makes a directory modified.

Deletions: a deleted tree gives one whiteout, at its top. A deleted path gets a whiteout only
when its parent is still a directory: when the parent became a file or symlink, the layer's
entry for the parent replaces the whole lower directory (Docker's and containerd's appliers
remove an existing path unless both it and the new entry are directories, and overlayfs
hides a lower directory under an upper non-directory), as Go kaniko's
``parentPathIncludesNonDirectory`` also skips them. Paths now ignored never get a whiteout,
so a path that joins the ignore list mid-build is left alone.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from kaniko.fs.fileattrs import EXCLUDED_XATTRS
from kaniko.fs.inventory import META_FIELDS, FileRecord, IgnoreFn, with_digests

SnapshotMode = Literal["full", "redo", "time"]
"""How changes are found (``--snapshot-mode``): see the module docstring."""
SNAPSHOT_MODES: tuple[SnapshotMode, ...] = get_args(SnapshotMode)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Sorted relative paths: ``added`` and ``modified`` go in a layer, ``deleted`` are
    whiteouts (tops of deleted trees only)."""

    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.deleted)

    def __len__(self) -> int:
        return len(self.added) + len(self.modified) + len(self.deleted)

    @property
    def changed(self) -> tuple[str, ...]:
        """Added and modified paths together, sorted: the entries a layer carries."""
        return tuple(sorted(self.added + self.modified))


def is_modified(
    old: FileRecord,
    new: FileRecord,
    *,
    mode: SnapshotMode = "full",
    root: str | None = None,
    rel: str = "",
) -> bool:
    """Whether ``new`` differs from ``old`` under ``mode``.

    In ``full`` mode a suspect ``old`` with unchanged metadata is settled by digests: those of
    ``new`` when it has them, else the file under ``root/rel`` is hashed now. Without a
    ``root`` such a record counts as modified, so a change is never missed.
    """
    if old == new:
        return False
    if stat.S_IFMT(old.mode) != stat.S_IFMT(new.mode):
        return True
    if stat.S_ISDIR(new.mode):
        return _directory_modified(old, new, mode, root, rel)
    if mode == "time":
        return old.mtime_ns != new.mtime_ns
    if mode == "redo":
        return (old.mode, old.mtime_ns, old.size, old.uid, old.gid) != (
            new.mode,
            new.mtime_ns,
            new.size,
            new.uid,
            new.gid,
        )
    if old[:META_FIELDS] != new[:META_FIELDS]:
        return True
    if old.xattrs is None:
        return False  # recorded outside the clock window: metadata is conclusive
    if new.xattrs is None:
        if root is None:
            return True
        new = with_digests(root, rel, new)
    return (old.xattrs, old.content) != (new.xattrs, new.content)


def _directory_modified(
    old: FileRecord, new: FileRecord, mode: SnapshotMode, root: str | None, rel: str
) -> bool:
    """Whether a directory changed itself (see the module docstring), not only its entries."""
    if mode == "time":
        return False
    if (old.mode, old.uid, old.gid) != (new.mode, new.uid, new.gid):
        return True
    if mode == "redo":
        return False
    if old.xattrs is not None:  # a suspect: its xattr digest is known
        if new.xattrs is None:
            if root is None:
                return True
            new = with_digests(root, rel, new)
        return old.xattrs != new.xattrs
    if old.ctime_ns == new.ctime_ns:
        return False
    return root is None or has_layer_xattrs(os.path.join(root, rel))


def has_layer_xattrs(path: str) -> bool:
    """Whether ``path`` has an extended attribute that a layer would carry."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return False
    return any(name not in EXCLUDED_XATTRS for name in names)


def diff(
    old: Mapping[str, FileRecord],
    new: Mapping[str, FileRecord],
    *,
    mode: SnapshotMode = "full",
    root: str | None = None,
    ignore: IgnoreFn | None = None,
) -> ChangeSet:
    """The changes from ``old`` to ``new`` (both relative path → record).

    ``root`` is where ``new`` was taken (needed to re-hash suspects in ``full`` mode);
    ``ignore`` filters whiteouts (a path or any of its ancestors ignored ⇒ none).
    """
    if mode not in SNAPSHOT_MODES:
        raise ValueError(f"unknown snapshot mode {mode!r}")
    get = old.get
    differ = [rel for rel, rec in new.items() if get(rel) != rec]  # new ones included
    added: list[str] = []
    modified: list[str] = []
    for rel in differ:
        before = get(rel)
        if before is None:
            added.append(rel)
        elif is_modified(before, new[rel], mode=mode, root=root, rel=rel):
            modified.append(rel)
    deleted = whiteouts(old.keys() - new.keys(), new, ignore=ignore)
    return ChangeSet(tuple(sorted(added)), tuple(sorted(modified)), tuple(deleted))


def whiteouts(
    gone: Iterable[str], present: Mapping[str, FileRecord], *, ignore: IgnoreFn | None = None
) -> list[str]:
    """The sorted paths needing a whiteout among ``gone``, given what is ``present`` now.

    A path is kept when its parent is the root or is still a directory in ``present``; a
    child of a deleted directory, or of one replaced by a non-directory, is covered by it.
    """
    out = []
    for rel in gone:
        parent = rel.rpartition("/")[0]
        if parent:
            rec = present.get(parent)
            if rec is None or not stat.S_ISDIR(rec.mode):
                continue
        if ignore is not None and is_ignored(rel, ignore):
            continue
        out.append(rel)
    out.sort()
    return out


def is_ignored(rel: str, ignore: IgnoreFn) -> bool:
    """Whether ``rel`` or any of its ancestors is ignored."""
    while rel:
        if ignore(rel):
            return True
        rel = rel.rpartition("/")[0]
    return False
