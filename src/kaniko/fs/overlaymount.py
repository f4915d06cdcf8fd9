"""Overlay mounts for stage roots: mount, unmount, and what the kernel refuses.

A stage root with overlay snapshots (:mod:`kaniko.snapshot.overlay`) is an overlay of
read-only lower directories (the kept base, earlier steps' upper directories) and one
writable upper directory. The mount options fix the behaviour the snapshotter relies on:

- ``redirect_dir=off``: renaming a lower directory fails with ``EXDEV`` and tools copy
  instead, so everything a step changed is in its upper directory (a redirect would
  show lower content that the upper directory does not hold);
- ``metacopy=off``: a chmod copies the whole file up, as every other change does;
- ``index=off``, ``xino=off``: no inode index shared between mounts of the same lowers
  (the kept base is the lower of many builds at once);
- ``volatile`` (Linux 5.10 on; dropped where the kernel does not know it): no sync ever
  reaches the upper file system. A stage root is scratch that a crash throws away, yet
  without it every unmount syncs the whole upper file system (seconds after a step that
  wrote 400 MB) and every ``fsync`` in a RUN (dpkg makes thousands) waits for the disk.
  A volatile mount marks its work directory, so each mount needs a fresh one.

Lower directories are named relative to an ``O_PATH`` descriptor of their parent
(``/proc/self/fd/N/...``): the mount data is limited to one page, and short names fit
hundreds of lowers in it. :func:`mount_overlay` raises :class:`OverlayRefused` when the
kernel says no (no ``CAP_SYS_ADMIN``, an upper file system that cannot hold overlay
whiteouts, no overlay module); callers fall back to the metadata snapshotter.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from collections.abc import Sequence

PRIVATE_XATTR_PREFIX = "trusted.overlay."
"""Overlay's own xattrs on upper entries (opaque, origin, impure): the merged view hides them."""

MNT_DETACH = 0x2
MS_RDONLY = 0x1
PAGE_LIMIT = 4000  # mount(2) copies one page of options; keep a margin
OPTIONS = "redirect_dir=off,metacopy=off,index=off,xino=off"

_libc = ctypes.CDLL(None, use_errno=True)
_mount = _libc.mount
_mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                   ctypes.c_char_p]  # fmt: skip
_mount.restype = ctypes.c_int
_umount2 = _libc.umount2
_umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_umount2.restype = ctypes.c_int


def is_whiteout(st: os.stat_result) -> bool:
    """Whether ``st`` is an overlay whiteout: a character device numbered 0/0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


class OverlayRefused(OSError):
    """The kernel refused an overlay mount here (the caller falls back)."""


class TooManyLayers(ValueError):
    """The lower directories do not fit one mount's options."""


_volatile = True  # until a kernel refuses it


def overlay_data(
    lowers: Sequence[str],
    upper: str | None = None,
    work: str | None = None,
    *,
    volatile: bool = True,
) -> str:
    """The mount data of an overlay of ``lowers`` (topmost first) and ``upper``."""
    data = f"lowerdir={':'.join(_escape(p) for p in lowers)}"
    if upper is not None and work is not None:
        data += f",upperdir={_escape(upper)},workdir={_escape(work)}"
        if volatile:
            data += ",volatile"
    data += "," + OPTIONS
    if len(data.encode()) > PAGE_LIMIT:
        raise TooManyLayers(f"{len(lowers)} lower directories do not fit one overlay mount")
    return data


def _escape(path: str) -> str:
    """A path as overlay's option parser reads it (``,`` ``:`` and ``\\`` escaped)."""
    return path.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:")


def mount_overlay(
    target: str, lowers: Sequence[str], upper: str | None = None, work: str | None = None
) -> None:
    """Mount an overlay at ``target``; without ``upper`` it is read-only. ``work`` must be
    a work directory no other mount has used (see ``volatile`` above)."""
    global _volatile
    flags = 0 if upper is not None else MS_RDONLY
    data = overlay_data(lowers, upper, work, volatile=_volatile)
    failed = _mount(b"overlay", os.fsencode(target), b"overlay", flags, data.encode()) != 0
    err = ctypes.get_errno() if failed else 0
    if err == errno.EINVAL and upper is not None and _volatile:  # a kernel before 5.10?
        data = overlay_data(lowers, upper, work, volatile=False)
        if _mount(b"overlay", os.fsencode(target), b"overlay", flags, data.encode()) == 0:
            _volatile = False
            return
        err = ctypes.get_errno()
    if err:
        message = f"overlay mount at {target}: {os.strerror(err)}"
        if err in (errno.EPERM, errno.EACCES, errno.EINVAL, errno.ENODEV, errno.EOPNOTSUPP):
            raise OverlayRefused(err, message)
        raise OSError(err, message)


def unmount(target: str, *, lazy: bool = False) -> None:
    """Unmount ``target`` (``lazy``: detach it even while busy)."""
    if _umount2(os.fsencode(target), MNT_DETACH if lazy else 0) != 0:
        err = ctypes.get_errno()
        if err == errno.EINVAL:  # not a mount point (any more)
            return
        raise OSError(err, f"unmount {target}: {os.strerror(err)}")


def mounts_below(directory: str, mountinfo: str | None = None) -> list[str]:
    """Mount points at or below ``directory``, deepest first (for unmounting)."""
    if mountinfo is None:
        try:
            with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
                mountinfo = f.read()
        except OSError:
            return []
    base = os.path.realpath(directory).rstrip("/")
    found = []
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            point = fields[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
            if point == base or point.startswith(base + "/"):
                found.append(point)
    return sorted(found, key=lambda p: p.count("/"), reverse=True)
