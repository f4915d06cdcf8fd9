"""Metadata of extracted entries: what a tar member says, and deferred directory metadata.

A member's times (to the nanosecond where PAX records have them) and ``SCHILY.xattr.*``
records are read here; they are set through :mod:`kaniko.fs.fileattrs`, which owns the
order (owner, mode, xattrs, times), the refused-errno policy and the once-only notices.
Directory modes and times wait for the end of the layer (:meth:`Metadata.defer_dir`,
:meth:`Metadata.apply_dirs`): writing a child changes its parent's mtime, and a read-only
directory would refuse children. A directory replaced by a symlink later in the layer is
skipped, never followed.
"""

from __future__ import annotations

import logging
import tarfile
from dataclasses import dataclass

from kaniko.fs import fileattrs
from kaniko.fs.fileattrs import Notices

log = logging.getLogger("kaniko.fs.unpack")

_NS = 1_000_000_000
_XATTR_PREFIX = "SCHILY.xattr."


def unpack_notices() -> Notices:
    """The notices of one extraction (logged as ``kaniko.fs.unpack``)."""
    return Notices(log)


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

    def apply(
        self, target: int | str, member: tarfile.TarInfo, *, mode: bool = True, times: bool = True
    ) -> None:
        """Give a descriptor or (not followed) path the member's numeric owner, then its mode
        (unless ``mode`` is false: symlinks, directories), xattrs and times (unless
        ``times`` is false: directories, whose times wait for :meth:`apply_dirs`)."""
        self.stats.xattrs_skipped += fileattrs.apply(
            target,
            uid=member.uid,
            gid=member.gid,
            mode=member.mode if mode else None,
            xattrs=member_xattrs(member),
            times=member_times(member) if times else None,
            notices=self.notices,
        )

    def drop_stale_xattrs(self, path: str, member: tarfile.TarInfo) -> None:
        """A directory entry over an existing directory replaces its xattrs too."""
        keep = [name for name, _ in member_xattrs(member)]
        self.stats.xattrs_skipped += fileattrs.drop_xattrs(path, keep)

    def defer_dir(self, rel: str, member: tarfile.TarInfo) -> None:
        """Remember a directory's mode and times for :meth:`apply_dirs`."""
        atime, mtime = member_times(member)
        self._dirs[rel] = (member.mode & 0o7777, atime, mtime)

    def apply_dirs(self, root: str) -> None:
        """Apply the deferred directory modes and times under ``root``."""
        for rel, (mode, atime, mtime) in self._dirs.items():
            fileattrs.set_dir_mode_times(root, rel, mode, atime, mtime)
