"""Moving a whole root filesystem between ``/`` and a directory, by renames.

An in-place build keeps a finished stage that a later stage needs by moving the content
of ``/`` into ``<kaniko dir>/stages/<index>``, and may move it back for a later
``FROM <stage>``. Both directions are :func:`move_tree`: each top-level entry is one
``rename(2)`` (same file system, so the cost is the number of entries, not the bytes),
except where that cannot be:

* an ignored path (``/proc``, a mount point, the kaniko directory, ...) never moves;
* a directory with an ignored path below it (``/etc`` holding the mounted
  ``/etc/resolv.conf``) stays where it is: a directory of the same name and metadata is
  made at the destination and its other children are moved one by one;
* a directory the destination already has (one kept for ignored children) is merged into
  the same way;
* a directory overlayfs refuses to rename (``EXDEV``: it comes from a lower layer and the
  mount has no ``redirect_dir``) is moved child by child too.

Ignored paths are in the coordinates of the tree being moved (``etc/hosts``), which are
the same on both sides. Nothing follows a symlink.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat

from kaniko.errors import FilesystemError
from kaniko.fs import fileattrs
from kaniko.fs.ignore import IgnoreList

log = logging.getLogger(__name__)


def same_filesystem(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether directories ``a`` and ``b`` are on one file system (a rename can join them)."""
    return os.stat(a).st_dev == os.stat(b).st_dev


def move_tree(src: str | os.PathLike[str], dst: str | os.PathLike[str], ignore: IgnoreList) -> int:
    """Move every entry of directory ``src`` into directory ``dst`` except ignored ones.

    Returns the number of renames done. Raises :class:`FilesystemError` when an entry can
    move neither by rename nor child by child (a file over a directory, another device).
    """
    return _move_children(os.fspath(src), os.fspath(dst), "", ignore, fileattrs.Notices(log))


def _move_children(
    src: str, dst: str, rel: str, ignore: IgnoreList, notices: fileattrs.Notices
) -> int:
    moved = 0
    source_dir = os.path.join(src, rel) if rel else src
    for name in sorted(os.listdir(source_dir)):
        child = f"{rel}/{name}" if rel else name
        if ignore.ignored_rel(child):
            continue
        source, target = os.path.join(src, child), os.path.join(dst, child)
        st = os.lstat(source)
        if stat.S_ISDIR(st.st_mode):
            if ignore.has_ignored_below_rel(child) or _is_dir(target):
                moved += _merge(src, dst, child, st, ignore, notices)
                continue
            try:
                os.rename(source, target)
            except OSError as error:
                if error.errno != errno.EXDEV:
                    raise _failure(child, error) from error
                moved += _merge(src, dst, child, st, ignore, notices)
                continue
        else:
            try:
                os.rename(source, target)
            except OSError as error:
                raise _failure(child, error) from error
        moved += 1
    return moved


def _merge(
    src: str, dst: str, rel: str, st: os.stat_result, ignore: IgnoreList, notices: fileattrs.Notices
) -> int:
    """Move ``rel``'s children one by one, then give the target ``rel``'s metadata."""
    target = os.path.join(dst, rel)
    if not _is_dir(target):
        try:
            os.mkdir(target, 0o700)
        except OSError as error:
            raise _failure(rel, error) from error
    moved = _move_children(src, dst, rel, ignore, notices)
    copy_metadata(os.path.join(src, rel), target, st, notices)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.join(src, rel))  # stays while it holds ignored paths
    return moved


def copy_metadata(source: str, target: str, st: os.stat_result, notices: fileattrs.Notices) -> None:
    """Give directory ``target`` the owner, mode, xattrs and times ``source`` had (``st``)."""
    fileattrs.apply(
        target,
        uid=st.st_uid,
        gid=st.st_gid,
        mode=stat.S_IMODE(st.st_mode),
        xattrs=fileattrs.read_xattrs(source),
        times=(st.st_atime_ns, st.st_mtime_ns),
        notices=notices,
    )


def _is_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _failure(rel: str, error: OSError) -> FilesystemError:
    return FilesystemError(f"moving /{rel} between the root and a saved stage: {error.strerror}")
