"""Writing COPY/ADD results into a stage's root filesystem: safely, atomically, recorded.

:class:`Dest` is the only code of the COPY/ADD step that modifies the root. Paths given to
it are relative to the root (``"usr/bin/x"``) and already resolved by the caller where a
symlink should be followed; an entry that replaces another is created under a temporary
name in its final directory and renamed into place, a regular file where nothing was is
created at its name exclusively and removed if it cannot be completed, so a failure never
leaves a half-written file. Each entry gets its content, then owner, mode, xattrs and
times (directories get mode and times at :meth:`Dest.finish`, after their contents,
through a descriptor walk that refuses symlinks). What was created or changed is
recorded; :meth:`Dest.finish` returns it as absolute in-image paths.

Collisions follow BuildKit: a file or symlink replaces a non-directory; replacing a
directory by a non-directory, or writing a directory over a file, is an error (with
``replace=True``, for archives as Docker extracts them, the new entry replaces it). A
directory written over a symlink that resolves (inside the root) to a directory goes
through it, leaving the symlink and the target's metadata alone (what buildah does, and
what merged-``/usr`` images need). With ``--link`` (``link=True``) nothing is followed:
the entry replaces whatever is there, as the linked layer would in the final image.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import posixpath
import secrets
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from kaniko.errors import BuildError, FilesystemError
from kaniko.executor.steps.entry_meta import Meta, Policy
from kaniko.fs import fileattrs
from kaniko.fs.fileattrs import Notices
from kaniko.fs.safepath import full_path, resolve_rel
from kaniko.iotools import CHUNK, write_all

log = logging.getLogger(__name__)

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class _Shared:
    written: set[str] = field(default_factory=set)
    deferred: list[tuple[str, int | None, int, int]] = field(default_factory=list)
    inodes: dict[tuple[int, int], str] = field(default_factory=dict)
    notices: Notices = field(default_factory=lambda: Notices(log))


class Dest:
    """Writes entries under ``root`` with one :class:`Policy` (see the module docstring)."""

    def __init__(
        self,
        root: str,
        policy: Policy,
        *,
        link: bool = False,
        replace: bool = False,
        shared: _Shared | None = None,
    ) -> None:
        self.root = os.path.abspath(root)
        self.policy = policy
        self.link = link
        self.replace = replace or link  # collisions replace instead of failing
        self._shared = shared or _Shared()

    def derive(self, policy: Policy, *, replace: bool = False) -> Dest:
        """A writer with another policy, recording into the same step."""
        return Dest(self.root, policy, link=self.link, replace=replace, shared=self._shared)

    def full(self, rel: str) -> str:
        return full_path(self.root, rel)

    def next_source(self) -> None:
        """Start the next source argument of the step: as in BuildKit, where each source
        is a copy of its own, files are hard-linked only to others of the same source."""
        self._shared.inodes.clear()

    # -- paths -----------------------------------------------------------------------

    def resolve(self, path: str) -> str:
        """``path`` (in-image, absolute) as a root-relative path to write at.

        Symlinks are followed inside the root, the last one too; with ``--link`` none are
        followed: those among the parent directories are replaced by directories.
        """
        if not self.link:
            try:
                return resolve_rel(self.root, path)
            except FilesystemError as e:
                raise BuildError(str(e)) from None
        parts = [p for p in posixpath.normpath("/" + path).split("/") if p]
        for depth in range(1, len(parts)):
            rel = "/".join(parts[:depth])
            if os.path.islink(self.full(rel)):
                os.unlink(self.full(rel))
                self._mkdir(rel)
        return "/".join(parts)

    def is_dir(self, rel: str) -> bool:
        """Whether ``rel`` is a directory (with ``--link``, a symlink to one is not)."""
        full = self.full(rel)
        return os.path.isdir(full) and not (self.link and os.path.islink(full))

    def make_parents(self, rel: str) -> None:
        """Create the missing directories of ``rel`` (0755, the step's directory owner)."""
        current = ""
        for comp in rel.split("/") if rel else ():
            current = posixpath.join(current, comp)
            try:
                st = os.lstat(self.full(current))
            except FileNotFoundError:
                self._mkdir(current)
                continue
            if stat.S_ISLNK(st.st_mode) and self.link:
                os.unlink(self.full(current))
                self._mkdir(current)
            elif not stat.S_ISDIR(st.st_mode):
                raise BuildError(f"cannot create directory /{current}: a file is in the way")

    def _mkdir(self, rel: str) -> None:
        os.mkdir(self.full(rel), 0o755)
        os.chmod(self.full(rel), 0o755)  # whatever the umask
        fileattrs.set_owner(self.full(rel), *self.policy.dir_owner, self._shared.notices)
        self._shared.written.add(rel)

    # -- entries ---------------------------------------------------------------------

    def file(self, rel: str, meta: Meta, fill: Callable[[int], None]) -> None:
        """A regular file whose content ``fill`` writes to the descriptor it is given.

        Where nothing is at ``rel`` (the common case: a COPY into a new directory) the file
        is created there directly, exclusively, and removed again if anything fails; only
        an existing entry is replaced through a temporary name and a rename. Either way
        no half-written file is left behind, and a new file costs no ``lstat``, temporary
        name or ``rename`` (each a path lookup through every layer of an overlay root).
        """
        try:
            fd = os.open(self.full(rel), _CREATE, 0o600)
        except FileExistsError:
            self._make_room(rel)
            tmp = self._tmp(rel)
            self._fill(os.open(self.full(tmp), _CREATE, 0o600), tmp, meta, fill)
            try:
                os.rename(self.full(tmp), self.full(rel))
            except BaseException:
                _unlink_quietly(self.full(tmp))
                raise
        else:
            self._fill(fd, rel, meta, fill)
        self._shared.written.add(rel)

    def _fill(self, fd: int, rel: str, meta: Meta, fill: Callable[[int], None]) -> None:
        """Give the new file ``fd`` (at ``rel``) its content and metadata, and close it;
        on failure remove it."""
        try:
            try:
                fill(fd)
                self._apply(fd, self.policy.final(meta))
            finally:
                os.close(fd)
        except BaseException:
            _unlink_quietly(self.full(rel))
            raise

    def copy_file(self, rel: str, src: str, meta: Meta, key: tuple[int, int] | None) -> None:
        """Copy host file ``src``; a second name of an inode (``key``) becomes a hard link."""
        if key is not None and key in self._shared.inodes:
            self.hardlink(rel, self._shared.inodes[key])
            return

        def fill(fd: int) -> None:
            source = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _copy_fd(source, fd)
            finally:
                os.close(source)

        self.file(rel, meta, fill)
        if key is not None:
            self._shared.inodes[key] = rel

    def hardlink(self, rel: str, existing: str) -> None:
        """A second name for the non-directory already at root-relative ``existing``."""
        if rel == existing:
            return
        self._make_room(rel)
        tmp = self._tmp(rel)
        os.link(self.full(existing), self.full(tmp), follow_symlinks=False)
        try:
            os.rename(self.full(tmp), self.full(rel))
        finally:
            _unlink_quietly(self.full(tmp))  # rename is a no-op onto the same inode
        self._shared.written.add(rel)

    def symlink(self, rel: str, target: str, meta: Meta) -> None:
        self._make_room(rel)
        tmp = self._tmp(rel)
        os.symlink(target, self.full(tmp))
        try:
            self._apply(self.full(tmp), self.policy.final(meta), mode=False)
            os.rename(self.full(tmp), self.full(rel))
        except BaseException:
            _unlink_quietly(self.full(tmp))
            raise
        self._shared.written.add(rel)

    def special(self, rel: str, meta: Meta) -> None:
        """A fifo, socket or device node (skipped, with one warning, where refused)."""
        self._make_room(rel)
        tmp = self._tmp(rel)
        kind = stat.S_IFMT(meta.mode)
        try:
            if kind == stat.S_IFIFO:
                os.mkfifo(self.full(tmp), 0o600)
            else:
                os.mknod(self.full(tmp), kind | 0o600, meta.rdev)
        except PermissionError:
            self._shared.notices.once(
                "mknod", "cannot create device nodes or sockets here; skipping them"
            )
            return
        try:
            self._apply(self.full(tmp), self.policy.final(meta))
            os.rename(self.full(tmp), self.full(rel))
        except BaseException:
            _unlink_quietly(self.full(tmp))
            raise
        self._shared.written.add(rel)

    def directory(self, rel: str, meta: Meta | None, *, top: bool = False) -> str:
        """Make ``rel`` a directory; return where its contents go (root-relative).

        A new directory takes ``meta`` (mode and times when the step finishes). An existing
        one takes it too, except the ``top`` one, the destination of a directory copy,
        which keeps its owner and mode and only takes the source's times, as BuildKit does.
        Without ``meta`` (an archive's destination) an existing directory is left alone.
        """
        full = self.full(rel)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISDIR(st.st_mode):
            if stat.S_ISLNK(st.st_mode) and not self.link:
                through = resolve_rel(self.root, rel)
                if os.path.isdir(self.full(through)) and not os.path.islink(self.full(through)):
                    return through
            if not self.replace:
                raise BuildError(f"cannot copy a directory onto non-directory /{rel}")
            os.unlink(full)
            st = None
        if st is None:
            if top or meta is None:
                self._mkdir(rel)
            else:
                os.mkdir(full, 0o700)
        if meta is None:
            return rel
        if top:
            self._shared.deferred.append((rel, None, meta.atime_ns, meta.mtime_ns))
        else:
            meta = self.policy.final(meta)
            self._apply(full, meta, mode=False, times=False)
            perm = stat.S_IMODE(meta.mode)
            self._shared.deferred.append((rel, perm, meta.atime_ns, meta.mtime_ns))
        self._shared.written.add(rel)
        return rel

    def finish(self) -> list[str]:
        """Apply deferred directory metadata; the in-image paths written, sorted."""
        for rel, mode, atime, mtime in reversed(self._shared.deferred):
            # skipped when replaced later in the step
            fileattrs.set_dir_mode_times(self.root, rel, mode, atime, mtime)
        self._shared.deferred.clear()
        return sorted("/" + rel for rel in self._shared.written)

    # -- helpers ---------------------------------------------------------------------

    def _make_room(self, rel: str) -> None:
        try:
            st = os.lstat(self.full(rel))
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            if not self.replace:
                raise BuildError(f"cannot replace directory /{rel} with a non-directory")
            shutil.rmtree(self.full(rel))

    @staticmethod
    def _tmp(rel: str) -> str:
        return posixpath.join(posixpath.dirname(rel), f".kaniko-{secrets.token_hex(6)}")

    def _apply(
        self, target: int | str, meta: Meta, *, mode: bool = True, times: bool = True
    ) -> None:
        """Owner, mode (unless ``mode`` is false), xattrs and times (unless ``times`` is
        false) of ``meta``, through :func:`kaniko.fs.fileattrs.apply`."""
        fileattrs.apply(
            target,
            uid=meta.uid,
            gid=meta.gid,
            mode=stat.S_IMODE(meta.mode) if mode else None,
            xattrs=meta.xattrs,
            times=(meta.atime_ns, meta.mtime_ns) if times else None,
            notices=self._shared.notices,
        )


def _copy_fd(src: int, dst: int) -> None:
    """Copy all of ``src`` to ``dst`` (in kernel where the platform allows)."""
    try:
        while os.sendfile(dst, src, None, 1 << 30):
            pass
        return
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.EXDEV):
            raise
    while chunk := os.read(src, CHUNK):
        write_all(dst, chunk)


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
