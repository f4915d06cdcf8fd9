"""Metadata of extracted entries: owner, xattrs, times, and deferred directory metadata.

Owner changes (``lchown``) clear setuid/setgid bits and file capabilities, so callers set
the owner first, then the mode, then xattrs, then times. Directory modes and times wait for
the end of the layer (:class:`Metadata.defer_dir`, :meth:`Metadata.apply_dirs`): writing a
child changes its parent's mtime, and a read-only directory would refuse children. They are
applied through a descriptor walk that refuses symlinks (``O_NOFOLLOW`` on every
component), so a directory replaced by a symlink later in the layer is skipped, never
followed.

Where the environment refuses (no privilege for ``chown``, a file system without some
xattr namespace), the entry is kept with one warning per extraction (:class:`Notices`).
"""

from __future__ import annotations

import errno
import logging
import os
import tarfile
from dataclasses import dataclass

log = logging.getLogger("kaniko.fs.unpack")

_NS = 1_000_000_000
_REFUSED_XATTR = {errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES}
_REFUSED_OWNER = {errno.EPERM, errno.EINVAL}
_XATTR_PREFIX = "SCHILY.xattr."


@dataclass
class UnpackStats:
    """What one layer's extraction did."""

    entries: int = 0
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    hardlinks: int = 0
    specials: int = 0  # fifos and device nodes created
    whiteouts: int = 0
    ignored: int = 0  # entries skipped because they fall in the ignore list
    devices_skipped: int = 0
    xattrs_skipped: int = 0
    bytes: int = 0  # regular file content written


class Notices:
    """Warnings that are given once per extraction."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def once(self, key: str, message: str, *args: object) -> None:
        if key not in self.seen:
            self.seen.add(key)
            log.warning(message, *args)


def member_times(member: tarfile.TarInfo) -> tuple[int, int]:
    """(atime_ns, mtime_ns), to the nanosecond where PAX records have them."""
    mtime = _pax_ns(member.pax_headers.get("mtime"))
    if mtime is None:
        mtime = int(member.mtime) * _NS
    atime = _pax_ns(member.pax_headers.get("atime"))
    return (mtime if atime is None else atime), mtime


def _pax_ns(raw: str | None) -> int | None:
    if not raw:
        return None
    sign = -1 if raw.startswith("-") else 1
    whole, _, frac = raw.lstrip("+-").partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return None
    return sign * (int(whole) * _NS + int((frac + "000000000")[:9]))


def member_xattrs(member: tarfile.TarInfo) -> list[tuple[str, bytes]]:
    """The member's ``SCHILY.xattr.*`` PAX records as (name, raw value) pairs."""
    return [
        (key[len(_XATTR_PREFIX) :], value.encode("utf-8", "surrogateescape"))
        for key, value in member.pax_headers.items()
        if key.startswith(_XATTR_PREFIX)
    ]


class Metadata:
    """Sets entry metadata for one layer; keeps directory metadata for its end."""

    def __init__(self, stats: UnpackStats, notices: Notices) -> None:
        self.stats = stats
        self.notices = notices
        self._dirs: dict[str, tuple[int, int, int]] = {}  # rel -> mode, atime, mtime

    def owner(self, target: int | str, member: tarfile.TarInfo) -> None:
        """``fchown`` a descriptor or ``lchown`` a path to the member's numeric ids."""
        try:
            if isinstance(target, int):
                os.chown(target, member.uid, member.gid)
            else:
                os.chown(target, member.uid, member.gid, follow_symlinks=False)
        except OSError as e:
            if e.errno not in _REFUSED_OWNER:
                raise
            self.notices.once("chown", "cannot set file ownership here (%s); keeping ours", e)

    def xattrs(self, target: int | str, member: tarfile.TarInfo, *, follow: bool) -> None:
        """Set the member's xattrs on a descriptor or path (``follow`` only for descriptors)."""
        for name, value in member_xattrs(member):
            try:
                os.setxattr(target, name, value, follow_symlinks=follow)
            except OSError as e:
                if e.errno not in _REFUSED_XATTR:
                    raise
                self.stats.xattrs_skipped += 1
                space = name.partition(".")[0]
                self.notices.once(f"xattr:{space}", "cannot set %s.* xattrs here: %s", space, e)

    def drop_stale_xattrs(self, path: str, member: tarfile.TarInfo) -> None:
        """A directory entry over an existing directory replaces its xattrs too."""
        wanted = {name for name, _ in member_xattrs(member)}
        try:
            names = os.listxattr(path, follow_symlinks=False)
        except OSError:
            return
        for name in names:
            if name not in wanted and name != "security.selinux":
                try:
                    os.removexattr(path, name, follow_symlinks=False)
                except OSError:
                    self.stats.xattrs_skipped += 1

    def defer_dir(self, rel: str, member: tarfile.TarInfo) -> None:
        """Remember a directory's mode and times for :meth:`apply_dirs`."""
        atime, mtime = member_times(member)
        self._dirs[rel] = (member.mode & 0o7777, atime, mtime)

    def apply_dirs(self, root: str) -> None:
        """Apply the deferred directory modes and times under ``root``."""
        for rel, (mode, atime, mtime) in self._dirs.items():
            fd = _open_dir(root, rel)
            if fd is None:
                continue  # replaced or removed later in the layer
            try:
                os.chmod(fd, mode)
                os.utime(fd, ns=(atime, mtime))
            finally:
                os.close(fd)


def _open_dir(root: str, rel: str) -> int | None:
    """A descriptor of directory ``rel`` under ``root``, or None if any component is not one."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    fd = os.open(root, flags)
    try:
        for comp in rel.split("/") if rel else ():
            child = os.open(comp, flags | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        return None
    return fd
