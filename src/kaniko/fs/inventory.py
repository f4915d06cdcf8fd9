"""An inventory of a root filesystem: relative path → :class:`FileRecord`.

One iterative ``os.scandir`` walk (never ``os.walk``, never following a symlink) records each
entry's ``lstat`` metadata. Ignored trees are skipped at their top: the predicate sees each
entry's path relative to the root (``etc/hosts``), never the root itself. Records are
named tuples (no per-entry dicts), so 100 000 entries cost tens of megabytes.

Suspects and the coarse clock: a file's ctime comes from the kernel's coarse clock (one
tick, 4 ms at HZ=250; whole seconds on some filesystems), so a file rewritten with the same
size within the tick in which it was recorded can keep every stat field. An entry whose
ctime falls within :func:`suspect_window_ns` of the walk's start (or after it) is a
*suspect*: with ``digests=True`` it also gets an xattr digest and, for a regular file, a
content digest, which :mod:`kaniko.fs.diff` compares when its metadata did not change. Any
entry older than that window cannot keep its ctime across a later write, because the write
happens after the walk started. xattrs are only read for suspects: setting one bumps ctime,
and a ``listxattr`` on every entry would add about a fifth to the walk (measured).
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

from kaniko.errors import FilesystemError
from kaniko.fs.fileattrs import read_xattrs

IgnoreFn = Callable[[str], bool]
"""Predicate on a path relative to the root (``"var/run"``): true to skip it and its tree."""

_SECOND = 1_000_000_000
_CLOCK_REALTIME_COARSE = 5  # Linux clock id; Python does not export a name for it.


class FileRecord(NamedTuple):
    """One entry's metadata. The first :data:`META_FIELDS` fields are what ``full`` compares."""

    mode: int  # st_mode: file type and permission bits
    uid: int
    gid: int
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    dev: int
    nlink: int
    rdev: int  # device number of a char/block device, else 0
    link: str | None  # symlink target
    xattrs: bytes | None  # digest of sorted xattr names and values; suspects only
    content: bytes | None  # digest of a suspect regular file's bytes

    @property
    def type(self) -> str:
        """``file``, ``dir``, ``symlink``, ``fifo``, ``char``, ``block`` or ``socket``."""
        return _TYPE_NAMES.get(stat.S_IFMT(self.mode), "unknown")

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    @property
    def suspect(self) -> bool:
        """Recorded within the clock window: metadata alone cannot prove it unchanged."""
        return self.xattrs is not None


META_FIELDS = 11
"""Number of leading :class:`FileRecord` fields that are stat metadata (through ``link``)."""

_TYPE_NAMES = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "fifo",
    stat.S_IFCHR: "char",
    stat.S_IFBLK: "block",
    stat.S_IFSOCK: "socket",
}


@functools.cache
def suspect_window_ns() -> int:
    """How far before a walk's start a ctime can be and still collide with a later write.

    Twice the coarse clock's resolution, and never under 20 ms (HZ=100 ticks are 10 ms).
    """
    try:
        res_ns = int(time.clock_getres(_CLOCK_REALTIME_COARSE) * _SECOND)
    except (OSError, AttributeError):
        res_ns = 10_000_000
    return max(2 * res_ns, 20_000_000)


def is_suspect(ctime_ns: int, started_ns: int, window_ns: int | None = None) -> bool:
    """Whether a ctime is too close to (or after) a walk's start to prove a file unchanged.

    A whole-second ctime comes from a filesystem with 1 s granularity: its window is a
    second wider.
    """
    floor = started_ns - (suspect_window_ns() if window_ns is None else window_ns)
    return _is_suspect(ctime_ns, floor, floor - _SECOND)


def _is_suspect(ctime_ns: int, floor_ns: int, floor_s_ns: int) -> bool:
    return ctime_ns >= floor_s_ns and (ctime_ns >= floor_ns or ctime_ns % _SECOND == 0)


class Inventory:
    """The records of one walk of ``root``, started at ``started_ns`` (``time.time_ns()``)."""

    __slots__ = ("records", "root", "started_ns")

    def __init__(self, root: str, records: dict[str, FileRecord], started_ns: int) -> None:
        self.root = root
        self.records = records
        self.started_ns = started_ns

    @classmethod
    def take(
        cls, root: str | os.PathLike[str], *, ignore: IgnoreFn | None = None, digests: bool = True
    ) -> Inventory:
        """Walk ``root`` once; with ``digests``, suspects get xattr and content digests."""
        root = os.fspath(root)
        started = time.time_ns()
        records = scan(root, "", ignore=ignore, started_ns=started, digests=digests)
        return cls(root, records, started)

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, rel: object) -> bool:
        return rel in self.records

    def __getitem__(self, rel: str) -> FileRecord:
        return self.records[rel]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records)

    def get(self, rel: str) -> FileRecord | None:
        return self.records.get(rel)


def scan(
    root: str,
    rel_dir: str,
    *,
    ignore: IgnoreFn | None,
    started_ns: int,
    digests: bool,
) -> dict[str, FileRecord]:
    """Records of every entry below ``root/rel_dir`` (not ``rel_dir`` itself).

    ``rel_dir`` is ``""`` for the whole root. Entries that vanish during the walk are left
    out; any other error reading the tree is a :class:`FilesystemError`.
    """
    window = suspect_window_ns()
    floor, floor_s = started_ns - window, started_ns - window - _SECOND
    records: dict[str, FileRecord] = {}
    suspects: list[str] = []
    top = os.path.join(root, rel_dir) if rel_dir else root
    stack = [(top, f"{rel_dir}/" if rel_dir else "")]
    pop, push = stack.pop, stack.append
    make, readlink = tuple.__new__, os.readlink
    isdir, islnk = stat.S_ISDIR, stat.S_ISLNK
    while stack:
        dir_path, prefix = pop()
        try:
            entries = os.scandir(dir_path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as err:
            raise FilesystemError(f"snapshot: cannot read {dir_path}: {err.strerror}") from err
        with entries:
            for entry in entries:
                rel = prefix + entry.name
                if ignore is not None and ignore(rel):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                    mode = st.st_mode
                    link = None
                    if isdir(mode):
                        push((entry.path, rel + "/"))
                    elif islnk(mode):
                        link = readlink(entry.path)
                except FileNotFoundError:
                    continue
                except OSError as err:
                    raise FilesystemError(
                        f"snapshot: cannot stat {entry.path}: {err.strerror}"
                    ) from err
                ctime = st.st_ctime_ns
                records[rel] = make(
                    FileRecord,
                    (
                        mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, ctime,
                        st.st_ino, st.st_dev, st.st_nlink, st.st_rdev, link, None, None,
                    ),
                )  # fmt: skip
                if ctime >= floor_s and _is_suspect(ctime, floor, floor_s):
                    suspects.append(rel)
    if digests:
        for rel in suspects:
            records[rel] = with_digests(root, rel, records[rel])
    return records


def record_of(root: str, rel: str, *, started_ns: int, digests: bool) -> FileRecord | None:
    """The record of one path (``lstat``), or ``None`` when it does not exist."""
    path = os.path.join(root, rel)
    try:
        st = os.lstat(path)
        link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        raise FilesystemError(f"snapshot: cannot stat {path}: {err.strerror}") from err
    rec = FileRecord(
        st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
        st.st_ino, st.st_dev, st.st_nlink, st.st_rdev, link, None, None,
    )  # fmt: skip
    if digests and is_suspect(rec.ctime_ns, started_ns):
        rec = with_digests(root, rel, rec)
    return rec


def with_digests(root: str, rel: str, rec: FileRecord) -> FileRecord:
    """``rec`` with its xattr digest and, for a regular file, its content digest filled in.

    An entry that cannot be read gets a random digest, so it never compares equal and is
    reported as changed rather than silently missed.
    """
    path = os.path.join(root, rel)
    try:
        xattrs = xattrs_digest(path)
        content = file_digest(path) if stat.S_ISREG(rec.mode) else b""
    except OSError:
        xattrs = content = os.urandom(16)
    return rec._replace(xattrs=xattrs, content=content)


def xattrs_digest(path: str) -> bytes:
    """Digest of ``path``'s extended attributes (names sorted), without following symlinks.

    Read by :func:`kaniko.fs.fileattrs.read_xattrs`: the xattrs a layer would carry.
    """
    h = hashlib.sha256()
    for name, value in read_xattrs(path):
        raw = name.encode("utf-8", "surrogateescape")
        h.update(len(raw).to_bytes(4, "big") + raw + len(value).to_bytes(8, "big") + value)
    return h.digest()


def file_digest(path: str) -> bytes:
    """sha256 of a regular file's bytes (opened without following a final symlink)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").digest()
