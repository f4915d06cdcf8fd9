"""Applying one tar member of a layer to a root directory, safely.

Where an entry goes: its name is cleaned lexically (a ``..`` that climbs out is refused,
a leading ``/`` is dropped); its *parent* is resolved inside the root as a chroot would
(:func:`kaniko.fs.safepath.resolve_rel`), missing directories are created (0755, 0:0);
the final component is never followed: whatever is there is unlinked (or, for a directory
entry over a directory, kept) and the new entry is created with ``O_EXCL``/``O_NOFOLLOW``
semantics. Hard link targets are resolved inside the root too, without following their
final symlink. The root itself may only be a directory entry (its metadata is applied).

Metadata order per entry: content, owner, mode, xattrs, times; directory modes and times
when the layer ends (:mod:`kaniko.fs.entrymeta`), all set through
:mod:`kaniko.fs.fileattrs`. Device nodes that cannot be created here
(no privilege) are skipped with one warning per extraction.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from typing import IO

from kaniko.errors import FilesystemError, ImageError
from kaniko.fs.entrymeta import Metadata, UnpackStats
from kaniko.fs.fileattrs import Notices
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.safepath import clean_relpath, full_path, resolve_rel
from kaniko.fs.whiteout import (
    META_PREFIX,
    OPAQUE_MARKER,
    WHITEOUT_PREFIX,
    Upper,
    prune,
    remove_tree,
)
from kaniko.iotools import CHUNK, write_all

_ZEROS = bytes(CHUNK)
_HOLE_MIN = 4096  # smallest all-zero chunk turned into a hole


class _Refused(Exception):
    """An entry that is not applied; the caller names the entry."""


class LayerApplier:
    """Applies the members of one layer, in order, to ``root``."""

    def __init__(
        self,
        root: str,
        ignore: IgnoreList | None,
        stats: UnpackStats,
        notices: Notices,
        *,
        whiteouts: bool = True,
    ) -> None:
        self.root = root
        self.whiteouts = whiteouts  # False: ``.wh.`` names are ordinary entries (a context)
        self.ignore = ignore
        self.stats = stats
        self.notices = notices
        self.upper = Upper()
        self._parents: dict[str, str] = {}  # lexical parent -> resolved, existing directory
        self.meta = Metadata(stats, notices)

    # -- dispatch ------------------------------------------------------------------------

    def apply(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        """Apply one member; any failure is a :class:`FilesystemError` naming it."""
        try:
            self._apply(tar, member)
        except _Refused as e:
            raise FilesystemError(f"{self.label} entry {member.name!r}: {e}") from None
        except (ImageError, tarfile.TarError) as e:
            raise FilesystemError(f"{self.label} entry {member.name!r}: {e}") from e
        except OSError as e:
            reason = e.strerror or str(e)
            raise FilesystemError(f"{self.label} entry {member.name!r}: {reason}") from e

    @property
    def label(self) -> str:
        return "layer" if self.whiteouts else "archive"

    def _apply(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        rel = self._clean(member.name)
        parent_lex, base = posixpath.split(rel)
        if self.whiteouts and base.startswith(WHITEOUT_PREFIX):
            self._whiteout(parent_lex, base)
            return
        if not rel:
            if not member.isdir():
                raise _Refused("only a directory may stand for the root")
            self._directory(member, "")
            return
        parent = self._parents.get(parent_lex)
        if parent is None:
            parent = self._resolve(parent_lex, follow_final=True)
        real = posixpath.join(parent, base) if parent else base
        if self._ignored(rel) or self._ignored(real):
            self.stats.ignored += 1
            return
        if parent_lex not in self._parents:
            self._make_dirs(parent)
            self._parents[parent_lex] = parent
        if member.isreg():
            self._file(tar, member, real)
        elif member.isdir():
            self._directory(member, real)
        elif member.issym():
            self._symlink(member, real)
        elif member.islnk():
            if not self._hardlink(member, real):
                return
        elif member.isfifo() or member.ischr() or member.isblk():
            if not self._special(member, real):
                return
        else:
            kind = member.type.decode("latin-1")
            self.notices.once(f"type:{kind}", "skipping tar entries of type %r", kind)
            return
        self.upper.add(real)

    # -- paths ---------------------------------------------------------------------------

    @staticmethod
    def _clean(name: str) -> str:
        try:
            return clean_relpath(name)
        except FilesystemError:
            raise _Refused("path escapes the root") from None

    def _resolve(self, path: str, *, follow_final: bool) -> str:
        try:
            return resolve_rel(self.root, path, follow_final=follow_final)
        except FilesystemError:
            raise _Refused(f"too many levels of symbolic links resolving {path!r}") from None

    def _ignored(self, rel: str) -> bool:
        return self.ignore is not None and self.ignore.ignored_rel(rel)

    def _make_dirs(self, rel: str) -> None:
        current = ""
        for comp in rel.split("/") if rel else ():
            current = posixpath.join(current, comp)
            path = full_path(self.root, current)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path, 0o755)
                os.chmod(path, 0o755)  # whatever the umask
                continue
            if not stat.S_ISDIR(st.st_mode):
                raise _Refused(f"parent {current!r} is not a directory")

    def _clear(self, real: str, *, want_dir: bool) -> bool:
        """Make room for a new entry at ``real``; True if an existing directory is kept."""
        path = full_path(self.root, real)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            if want_dir:
                return True
            if self.ignore is not None and self.ignore.has_ignored_below_rel(real):
                raise _Refused(f"cannot replace directory {real!r}: it holds ignored paths")
            remove_tree(self.root, real, self.ignore)
            self._parents.clear()
        else:
            os.unlink(path)
            if stat.S_ISLNK(st.st_mode):
                self._parents.clear()
        return False

    # -- entry types ---------------------------------------------------------------------

    def _file(self, tar: tarfile.TarFile, member: tarfile.TarInfo, real: str) -> None:
        self._clear(real, want_dir=False)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(full_path(self.root, real), flags, 0o600)
        try:
            src = tar.extractfile(member)
            if src is None:
                raise _Refused("no content for a regular file")
            written = self._copy(src, fd)
            if written != member.size:
                raise _Refused(f"content ended after {written} of {member.size} bytes")
            self.stats.bytes += written
            self.meta.apply(fd, member)
        finally:
            os.close(fd)
        self.stats.files += 1

    @staticmethod
    def _copy(src: IO[bytes], fd: int) -> int:
        """Copy in chunks; all-zero chunks become holes, so sparse files stay sparse."""
        total, hole = 0, False
        while chunk := src.read(CHUNK):
            n = len(chunk)
            if n >= _HOLE_MIN and chunk == (_ZEROS if n == CHUNK else bytes(n)):
                os.lseek(fd, n, os.SEEK_CUR)
                hole = True
            else:
                write_all(fd, chunk)
                hole = False
            total += n
        if hole:
            os.ftruncate(fd, total)
        return total

    def _directory(self, member: tarfile.TarInfo, real: str) -> None:
        path = full_path(self.root, real)
        kept = self._clear(real, want_dir=True) if real else True
        if kept:
            self.meta.drop_stale_xattrs(path, member)
        else:
            os.mkdir(path, 0o700)
        self.meta.apply(path, member, mode=False, times=False)
        self.meta.defer_dir(real, member)
        self.stats.dirs += 1

    def _symlink(self, member: tarfile.TarInfo, real: str) -> None:
        self._clear(real, want_dir=False)
        path = full_path(self.root, real)
        os.symlink(member.linkname, path)
        self.meta.apply(path, member, mode=False)
        self.stats.symlinks += 1

    def _hardlink(self, member: tarfile.TarInfo, real: str) -> bool:
        target_lex = self._clean(member.linkname)
        target = self._resolve(target_lex, follow_final=False)
        if not target:
            raise _Refused("hard link to the root")
        if self._ignored(target_lex) or self._ignored(target):
            self.notices.once("link", "skipping hard links into ignored paths (first: /%s)", target)
            self.stats.ignored += 1
            return False
        try:
            st = os.lstat(full_path(self.root, target))
        except FileNotFoundError:
            raise _Refused(f"hard link target {member.linkname!r} does not exist") from None
        if stat.S_ISDIR(st.st_mode):
            raise _Refused(f"hard link to directory {member.linkname!r}")
        if target != real:
            self._clear(real, want_dir=False)
            path = full_path(self.root, real)
            os.link(full_path(self.root, target), path, follow_symlinks=False)
        self.stats.hardlinks += 1
        return True

    def _special(self, member: tarfile.TarInfo, real: str) -> bool:
        path = full_path(self.root, real)
        if member.isfifo():
            self._clear(real, want_dir=False)
            os.mkfifo(path, 0o600)
        else:
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            if "mknod" in self.notices.seen:
                self.stats.devices_skipped += 1
                return False
            self._clear(real, want_dir=False)
            try:
                os.mknod(path, 0o600 | kind, os.makedev(member.devmajor, member.devminor))
            except PermissionError:
                self.notices.once("mknod", "cannot create device nodes here; skipping them")
                self.stats.devices_skipped += 1
                return False
        self.meta.apply(path, member)  # a node just made: not a symlink
        self.stats.specials += 1
        return True

    # -- whiteouts -----------------------------------------------------------------------

    def _whiteout(self, parent_lex: str, base: str) -> None:
        if base == OPAQUE_MARKER:
            victim = None
        elif base.startswith(META_PREFIX):
            return  # aufs bookkeeping, not content
        else:
            victim = base[len(WHITEOUT_PREFIX) :]
            if victim in ("", ".", ".."):
                raise _Refused("malformed whiteout")
        self.stats.whiteouts += 1
        lexical = parent_lex if victim is None else posixpath.join(parent_lex, victim)
        if self._ignored(lexical):
            return
        parent = self._resolve(parent_lex, follow_final=True)
        try:
            if not stat.S_ISDIR(os.lstat(full_path(self.root, parent)).st_mode):
                return
        except (FileNotFoundError, NotADirectoryError):
            return  # nothing below to hide
        target = parent if victim is None else posixpath.join(parent, victim)
        if target and self._ignored(target):
            return
        prune(self.root, target, self.upper, self.ignore, include_self=victim is not None)
        self._parents.clear()

    def finish(self) -> None:
        """Apply directory modes and times, now that their children are written."""
        self.meta.apply_dirs(self.root)
