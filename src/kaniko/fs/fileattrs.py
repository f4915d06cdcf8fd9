"""File metadata, set and read in one place: owner, mode, times and extended attributes.

Layer extraction (:mod:`kaniko.fs.entries`), COPY/ADD (:mod:`kaniko.executor.steps.dest`)
and the in-place root mover (:mod:`kaniko.executor.rootmove`) set metadata through here;
the tar writer, the inventory and COPY read xattrs through here. One policy holds for all:

* Order: owner, then mode, then xattrs, then times. ``chown`` clears the set-id bits and
  the file capability (``security.capability``), so those must come after it.
* Refused: where the environment refuses a change (``chown`` without privilege, a file
  system without some xattr namespace, xattrs on a symlink), the errno is one of
  :data:`REFUSED`; the entry is kept as it is and a warning is given once per
  :class:`Notices` (one extraction, one step). Any other error is raised.
* :data:`EXCLUDED_XATTRS`: ``security.selinux`` is a label the host's policy assigns, not
  image content. It is never read (so never put in a layer, an inventory digest or a
  copy) and never removed.
* Reading xattrs: a file system without them has none, an attribute removed between
  listing and reading is skipped; any other error is raised for the caller to judge (the
  tar writer names the file, the inventory reports the entry as changed).
* Paths are never followed (``lchown``, ``lsetxattr``, ``lutimes``); a descriptor is the
  file it was opened on. Directory modes and times are set last (children change their
  parent's mtime, and a read-only directory would refuse them) through a descriptor walk
  that refuses a symlink anywhere below the root (:func:`set_dir_mode_times`).
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterable

log = logging.getLogger(__name__)

Xattrs = tuple[tuple[str, bytes], ...]
"""Extended attributes as (name, raw value) pairs, sorted by name."""

REFUSED = frozenset({errno.EPERM, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES})
"""Errnos that mean "not allowed here" for ``chown`` and ``setxattr``: skip with a notice."""

EXCLUDED_XATTRS = frozenset({"security.selinux"})
"""xattrs that belong to the host, not to an image: never read, copied or removed."""

_NO_XATTRS = frozenset({errno.ENOTSUP, errno.EOPNOTSUPP})
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def _follow(target: int | str) -> bool:
    """``follow_symlinks`` for ``target``: a path is never followed; a descriptor must be
    passed with the default (True), which for it means the file it was opened on."""
    return isinstance(target, int)


class Notices:
    """Warnings given once each (per extraction, per step), keyed by what was refused."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.seen: set[str] = set()
        self._log = logger or log

    def once(self, key: str, message: str, *args: object) -> None:
        if key not in self.seen:
            self.seen.add(key)
            self._log.warning(message, *args)


def set_owner(target: int | str, uid: int, gid: int, notices: Notices) -> bool:
    """``fchown`` a descriptor or ``lchown`` a path; False (and a notice) where refused."""
    try:
        os.chown(target, uid, gid, follow_symlinks=_follow(target))
    except OSError as e:
        if e.errno not in REFUSED:
            raise
        notices.once("chown", "cannot set file ownership here (%s); keeping ours", e)
        return False
    return True


def set_xattrs(target: int | str, xattrs: Iterable[tuple[str, bytes]], notices: Notices) -> int:
    """Set each xattr on a descriptor or (not followed) path; return how many were refused."""
    refused = 0
    for name, value in xattrs:
        try:
            os.setxattr(target, name, value, follow_symlinks=_follow(target))
        except OSError as e:
            if e.errno not in REFUSED:
                raise
            refused += 1
            space = name.partition(".")[0]
            notices.once(f"xattr:{space}", "cannot set %s.* xattrs here: %s", space, e)
    return refused


def set_times(target: int | str, atime_ns: int, mtime_ns: int) -> None:
    """Set access and modification times of a descriptor or (not followed) path."""
    os.utime(target, ns=(atime_ns, mtime_ns), follow_symlinks=_follow(target))


def apply(
    target: int | str,
    *,
    uid: int,
    gid: int,
    mode: int | None,
    xattrs: Iterable[tuple[str, bytes]],
    times: tuple[int, int] | None,
    notices: Notices,
) -> int:
    """Owner, mode (permission bits; None for a symlink or a directory whose mode waits),
    xattrs and times (None: later), in that order; returns the number of refused xattrs."""
    set_owner(target, uid, gid, notices)
    if mode is not None:
        os.chmod(target, mode & 0o7777)  # after chown, which clears set-id bits
    refused = set_xattrs(target, xattrs, notices)
    if times is not None:
        set_times(target, *times)
    return refused


def read_xattrs(path: str) -> Xattrs:
    """The xattrs of ``path`` (not followed), sorted by name, without the excluded ones."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in _NO_XATTRS:
            return ()
        raise
    found = []
    for name in sorted(names):
        if name in EXCLUDED_XATTRS:
            continue
        try:
            found.append((name, os.getxattr(path, name, follow_symlinks=False)))
        except OSError as e:
            if e.errno != errno.ENODATA:  # removed since it was listed
                raise
    return tuple(found)


def drop_xattrs(path: str, keep: Iterable[str]) -> int:
    """Remove the xattrs of ``path`` (not followed) not named in ``keep`` (nor excluded);
    return how many could not be removed."""
    wanted = set(keep) | EXCLUDED_XATTRS
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return 0
    failed = 0
    for name in names:
        if name not in wanted:
            try:
                os.removexattr(path, name, follow_symlinks=False)
            except OSError:
                failed += 1
    return failed


def open_dir(root: str, rel: str) -> int | None:
    """A descriptor of directory ``rel`` under ``root``, or None if any component of
    ``rel`` is not a directory (a symlink included) or is gone."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for comp in rel.split("/") if rel else ():
            child = os.open(comp, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        return None
    return fd


def set_dir_mode_times(root: str, rel: str, mode: int | None, atime_ns: int, mtime_ns: int) -> bool:
    """Give directory ``rel`` under ``root`` its mode (unless None) and times, through
    :func:`open_dir`; False when it is no longer a directory reached without symlinks."""
    fd = open_dir(root, rel)
    if fd is None:
        return False
    try:
        if mode is not None:
            os.chmod(fd, mode & 0o7777)
        os.utime(fd, ns=(atime_ns, mtime_ns))
    finally:
        os.close(fd)
    return True
