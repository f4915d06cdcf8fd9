"""Removing lower content during extraction: whiteouts, opaque directories, type changes.

A layer's whiteouts hide what *lower* layers put there and never what the same layer adds
(OCI image spec, "Whiteouts"). :class:`Upper` records, per layer, every path the layer has
written and every ancestor of one. :func:`prune` then removes lower content only: a path the
layer wrote is kept (and, if a directory, its lower children are pruned), an ancestor of
one is kept and pruned into, anything else goes. Whether a whiteout comes before or after
the entries it is next to, the result is the same: a whiteout first removes the lower
content and the layer's entries are then written; a whiteout second spares them.

Ignored paths are never removed, and a directory that holds one stays (with its other
content removed), as Go kaniko does. Nothing here follows a symlink: a directory is only
entered after ``lstat`` says it is one.
"""

from __future__ import annotations

import os
import posixpath
import stat

from kaniko.fs.ignore import IgnoreList
from kaniko.fs.safepath import full_path

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
META_PREFIX = ".wh..wh."  # aufs bookkeeping (.wh..wh.plnk ...): never extracted


class Upper:
    """The paths (relative to the root, symlinks resolved) one layer has written so far."""

    __slots__ = ("added", "ancestors")

    def __init__(self) -> None:
        self.added: set[str] = set()
        self.ancestors: set[str] = set()

    def add(self, rel: str) -> None:
        self.added.add(rel)
        parent = posixpath.dirname(rel)
        while parent and parent not in self.ancestors:
            self.ancestors.add(parent)
            parent = posixpath.dirname(parent)

    def keeps(self, rel: str) -> bool:
        return rel in self.added or rel in self.ancestors


def _rmtree(path: str) -> None:
    """Remove a real directory and its content, depth first, iteratively, no symlink followed."""
    stack = [(path, False)]
    while stack:
        current, emptied = stack.pop()
        if emptied:
            os.rmdir(current)
            continue
        stack.append((current, True))
        with os.scandir(current) as it:
            children = [(entry.path, entry.is_dir(follow_symlinks=False)) for entry in it]
        for child, is_dir in children:
            if is_dir:
                stack.append((child, False))
            else:
                os.unlink(child)


def remove_tree(root: str, rel: str, ignore: IgnoreList | None) -> None:
    """Remove ``rel`` (whatever it is) except ignored paths below it and their parents."""
    path = full_path(root, rel)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
    elif ignore is None or not ignore.has_ignored_below_rel(rel):
        _rmtree(path)
    else:
        for name in os.listdir(path):
            child = posixpath.join(rel, name)
            if not ignore.ignored_rel(child):
                remove_tree(root, child, ignore)


def prune(
    root: str, rel: str, upper: Upper, ignore: IgnoreList | None, *, include_self: bool
) -> None:
    """Remove lower content at ``rel`` (``include_self``) or below it (see the module doc)."""
    stack = [(rel, include_self)]
    while stack:
        current, with_self = stack.pop()
        if current and ignore is not None and ignore.ignored_rel(current):
            continue
        if with_self and not upper.keeps(current):
            remove_tree(root, current, ignore)
            continue
        path = full_path(root, current)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue  # a kept file, or a symlink this layer wrote: never entered
        stack.extend((posixpath.join(current, name), True) for name in os.listdir(path))


def wipe_root(root: str | os.PathLike[str], *, ignore: IgnoreList | None = None) -> None:
    """Empty ``root`` (which stays) except for ignored paths and the directories above them."""
    prune(os.fspath(root), "", Upper(), ignore, include_self=False)
