"""A replica of a file or directory tree, metadata included, with hard links where asked.

Where a RUN step's mounts cannot be real mounts (:mod:`kaniko.sandbox.placement`), their
content is placed in the root: a read-only source on the same file system as hard links
(no byte copied), anything else as a copy. Either way the replica keeps what the source
shows a process: types, modes, owners, times, symlink targets, xattrs, device numbers.
Nothing is followed: a symlink is replicated as a symlink. Sockets are skipped (a tar
cannot hold them and nothing of the source can be listening there).

:func:`state` describes a tree (every entry's identity and metadata) so that a caller can
tell afterwards whether anything in it was added, removed or changed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from pathlib import Path


def clone(source: Path, dest: Path, *, link: bool) -> None:
    """Replicate ``source`` (a file, symlink or directory tree) as ``dest``, which must not
    exist; with ``link``, regular files are hard links of the source's where the file
    system allows."""
    _entry(source, dest, os.lstat(source), link)


State = dict[str, tuple[int, ...]]


def state(path: Path) -> State:
    """Every entry at or below ``path`` (relative names) with its type, mode, owner, size,
    mtime and inode: equal states mean nothing was added, removed or written."""
    found: State = {}
    pending = [("", path)]
    while pending:
        rel, current = pending.pop()
        st = os.lstat(current)
        size, mtime = (0, 0) if stat.S_ISDIR(st.st_mode) else (st.st_size, st.st_mtime_ns)
        found[rel] = (st.st_mode, st.st_uid, st.st_gid, size, mtime, st.st_ino)
        if stat.S_ISDIR(st.st_mode):
            with os.scandir(current) as entries:
                pending += [(f"{rel}/{e.name}", Path(e.path)) for e in entries]
    return found


def _entry(src: Path, dst: Path, st: os.stat_result, link: bool) -> None:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        os.mkdir(dst, 0o700)
        with os.scandir(src) as entries:
            children = sorted(entries, key=lambda e: e.name)
        for child in children:
            _entry(src / child.name, dst / child.name, child.stat(follow_symlinks=False), link)
        _metadata(src, dst, st)
    elif stat.S_ISREG(mode):
        if link and _hard_link(src, dst):
            return
        shutil.copyfile(src, dst, follow_symlinks=False)
        _metadata(src, dst, st)
    elif stat.S_ISLNK(mode):
        os.symlink(os.readlink(src), dst)
        _metadata(src, dst, st)
    elif stat.S_ISSOCK(mode):
        return
    else:  # fifos and device nodes
        os.mknod(dst, mode, st.st_rdev)
        _metadata(src, dst, st)


def _hard_link(src: Path, dst: Path) -> bool:
    try:
        os.link(src, dst, follow_symlinks=False)
        return True
    except OSError as e:
        if e.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES):
            return False
        raise


def _metadata(src: Path, dst: Path, st: os.stat_result) -> None:
    """Owner, xattrs, mode and times of ``src`` on ``dst`` (a symlink's own, not its
    target's; the mode after the owner, so set-id bits survive ``chown``)."""
    is_link = stat.S_ISLNK(st.st_mode)
    with contextlib.suppress(PermissionError):  # not root: the replica stays ours
        os.lchown(dst, st.st_uid, st.st_gid)
    if not is_link:
        shutil.copystat(src, dst, follow_symlinks=False)
        os.chmod(dst, stat.S_IMODE(st.st_mode))
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
