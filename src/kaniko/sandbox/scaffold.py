"""Entries created in a root only to serve one RUN, and removed again after it.

A mount needs an existing mount point, and a plain chroot needs device nodes in ``/dev``;
an image may have neither. Everything created for that is recorded here, and
:meth:`Scaffold.undo` takes exactly those entries away again (never one the RUN replaced or
filled), so the snapshot after the RUN sees none of them.

An entry is still "ours" when it is the same inode and, for files and directories, still
carries the random marker xattr given at creation (a file the RUN deleted and recreated
may get the same inode number, but not the marker). A file the RUN merely edited is still
ours and goes, as Docker discards edits of ``/etc/resolv.conf``. A created directory the
RUN filled stays, without the marker. Where xattrs are unsupported, the inode decides.

Removing an entry changes its directory's mtime; :meth:`Scaffold.undo` puts back the
times of every pre-existing directory it touched when that directory again lists exactly
what it listed before (so a directory the RUN itself changed keeps its new mtime). A
directory's ctime cannot be set from userspace and does move.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

MARKER = "user.kaniko.scaffold"
"""The xattr that marks an entry the scaffold created (removed with the entry)."""


@dataclass(frozen=True)
class _Created:
    path: Path
    is_dir: bool
    dev: int
    ino: int
    marked: bool
    claimed: bool = False  # not created: a device node mknod refused (see make_device)


@dataclass(frozen=True)
class _Parent:
    atime_ns: int
    mtime_ns: int
    names: frozenset[str]


class Scaffold:
    """Records what it creates below a root; :meth:`undo` removes it (see module docs)."""

    def __init__(self) -> None:
        self._created: list[_Created] = []
        self._parents: dict[Path, _Parent] = {}
        self._token = secrets.token_hex(8).encode()

    @property
    def created(self) -> tuple[Path, ...]:
        """The paths created so far, in creation order."""
        return tuple(c.path for c in self._created)

    def ensure_dir(self, path: Path, mode: int = 0o755) -> bool:
        """Make sure ``path`` is a directory (creating missing parents); False if it can't be."""
        try:
            st = os.lstat(path)
        except NotADirectoryError:
            return False
        except FileNotFoundError:
            if not self.ensure_dir(path.parent):
                return False
            self._before_create(path.parent)
            os.mkdir(path, mode)
            os.chmod(path, mode)
            self._record(path)
            return True
        return stat.S_ISDIR(st.st_mode)

    def ensure_file(self, path: Path, content: bytes = b"", mode: int = 0o644) -> bool:
        """Make sure ``path`` exists as a regular file; a new one gets ``content``.

        Returns False if it exists as something else or its directory can't be made.
        """
        try:
            st = os.lstat(path)
        except NotADirectoryError:
            return False
        except FileNotFoundError:
            if not self.ensure_dir(path.parent):
                return False
            self._before_create(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
            try:
                os.write(fd, content)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
            self._record(path)
            return True
        return stat.S_ISREG(st.st_mode)

    def make_device(self, path: Path, major: int, minor: int, mode: int = 0o666) -> bool:
        """Create character device ``path`` if missing; False if ``mknod`` is refused.

        When refused, a regular file the RUN leaves at ``path`` (``echo > /dev/null``
        creates one) is removed by :meth:`undo`.
        """
        try:
            return stat.S_ISCHR(os.lstat(path).st_mode)
        except NotADirectoryError:
            return False
        except FileNotFoundError:
            pass
        if not self.ensure_dir(path.parent):
            return False
        self._before_create(path.parent)
        try:
            os.mknod(path, stat.S_IFCHR | mode, os.makedev(major, minor))
        except OSError:
            # A RUN writing to the missing /dev/null would leave a regular file there.
            self._created.append(_Created(path, False, -1, -1, False, claimed=True))
            return False
        os.chmod(path, mode)
        self._record(path)
        return True

    def undo(self) -> None:
        """Remove what was created (newest first) and restore the touched directories' times."""
        for entry in reversed(self._created):
            with contextlib.suppress(OSError):
                if entry.claimed:
                    if stat.S_ISREG(os.lstat(entry.path).st_mode):
                        os.unlink(entry.path)
                    continue
                if not self._ours(entry):
                    continue  # the RUN replaced it
                try:
                    if entry.is_dir:
                        os.rmdir(entry.path)
                    else:
                        os.unlink(entry.path)
                except OSError:
                    # a directory the RUN put something in: it stays, unmarked
                    if entry.marked:
                        os.removexattr(entry.path, MARKER, follow_symlinks=False)
        for directory, before in self._parents.items():
            with contextlib.suppress(OSError):
                if frozenset(os.listdir(directory)) == before.names:
                    os.utime(
                        directory, ns=(before.atime_ns, before.mtime_ns), follow_symlinks=False
                    )
        self._created.clear()
        self._parents.clear()

    def watch(self, directory: Path) -> None:
        """Restore ``directory``'s times in :meth:`undo` (when it again lists what it lists
        now): for a caller about to add or rename entries there itself."""
        self._before_create(directory)

    def _ours(self, entry: _Created) -> bool:
        st = os.lstat(entry.path)
        if (st.st_dev, st.st_ino) != (entry.dev, entry.ino):
            return False
        if not entry.marked:
            return True
        try:
            return os.getxattr(entry.path, MARKER, follow_symlinks=False) == self._token
        except OSError:
            return False

    def _before_create(self, directory: Path) -> None:
        if directory in self._parents or any(c.path == directory for c in self._created):
            return
        st = os.lstat(directory)
        names = frozenset(os.listdir(directory))
        self._parents[directory] = _Parent(st.st_atime_ns, st.st_mtime_ns, names)

    def _record(self, path: Path) -> None:
        st = os.lstat(path)
        marked = False
        if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
            try:
                os.setxattr(path, MARKER, self._token, follow_symlinks=False)
                marked = True
            except OSError:
                pass  # no user xattrs on this file system: the inode alone decides
        entry = _Created(path, stat.S_ISDIR(st.st_mode), st.st_dev, st.st_ino, marked)
        self._created.append(entry)
