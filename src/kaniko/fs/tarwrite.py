"""Deterministic layer tars from a root directory and a list of changed paths.

:func:`write_layer_tar` is given root-relative paths and what happened to each: ``file``
(added or changed: emit what ``lstat`` shows, *not* recursively), ``whiteout`` (deleted:
emit ``.wh.NAME``) or ``opaque`` (a directory whose lower content is hidden: emit
``DIR/.wh..wh..opq``). Then:

* every parent directory of every entry is emitted once, before its children (the root
  itself never is), unless it is ignored; entries below ignored paths are dropped;
* entries are sorted by path components (byte-wise), so the order never depends on the
  caller or on the file system;
* members are PAX, with numeric uid/gid and empty user/group names, mode including
  setuid/setgid/sticky, every xattr (read by :func:`kaniko.fs.fileattrs.read_xattrs`, so
  not ``security.selinux``, a host label) as ``SCHILY.xattr.NAME``, and the mtime to the
  nanosecond in a PAX ``mtime`` record where it has a fraction; atime and ctime are never
  written;
* a non-directory with more than one link whose inode was already emitted becomes a hard
  link to the first path emitted (the first in sorted order);
* whiteouts are empty regular files, mode 0, owned by 0:0, mtime 0 (or the epoch);
* with ``reproducible=True`` every time is ``epoch`` (seconds; the CLI's
  ``SOURCE_DATE_EPOCH``, else 0). Same inputs, same bytes.

Paths must not go through symlinks: a parent that is not a directory is a
:class:`~kaniko.errors.FilesystemError` (resolve paths with :mod:`kaniko.fs.safepath` first).
File contents are streamed in 1 MiB chunks.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, NamedTuple, TypedDict

from kaniko.errors import FilesystemError
from kaniko.fs.fileattrs import Xattrs, read_xattrs
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.overlaymount import PRIVATE_XATTR_PREFIX, is_whiteout
from kaniko.fs.safepath import clean_relpath, full_path
from kaniko.fs.tarformat import (
    BLKTYPE,
    BLOCK,
    CHRTYPE,
    LNKTYPE,
    NS,
    REGTYPE,
    TYPEFLAGS,
    encode_header,
    padding,
)
from kaniko.iotools import CHUNK, Writable

EntryKind = Literal["file", "whiteout", "opaque"]
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


class _Owner(TypedDict):
    """The permission bits and numeric owner of a member."""

    mode: int
    uid: int
    gid: int


class TarEntry(NamedTuple):
    """One change to put in a layer: a root-relative path and what happened to it."""

    path: str
    kind: EntryKind = "file"


def _plan(
    entries: Iterable[TarEntry | tuple[str, str]], ignore: IgnoreList | None
) -> list[tuple[str, str]]:
    """Sorted (name, kind) pairs with every parent directory added as kind ``parent``."""
    items: dict[str, str] = {}
    for path, kind in entries:
        rel = clean_relpath(path)
        if ignore is not None and ignore.ignored_rel(rel):
            continue
        if kind == "file":
            if not rel:
                continue  # the root itself is never a member
            name, parent = rel, rel.rpartition("/")[0]
        elif kind == "whiteout":
            if not rel:
                raise FilesystemError("cannot write a whiteout for the root")
            parent, base = posixpath.split(rel)
            name = posixpath.join(parent, WHITEOUT_PREFIX + base)
        elif kind == "opaque":
            name, parent = posixpath.join(rel, OPAQUE_MARKER), rel
        else:
            raise ValueError(f"unknown layer entry kind {kind!r} for {path!r}")
        items[name] = kind
        while parent and parent not in items:
            items[parent] = "parent"
            parent = parent.rpartition("/")[0]
    # By components, byte-wise: the same order as the bytes with "/" below every byte.
    return sorted(items.items(), key=lambda item: os.fsencode(item[0]).replace(b"/", b"\0"))


class _LayerWriter:
    def __init__(self, root: str, out: Writable, clamp: int | None, upper: str | None) -> None:
        self.root = root
        self.upper = upper
        self.out = out
        self.clamp = clamp  # the epoch when reproducible
        self.dirs: set[str] = set()
        self.links: dict[tuple[int, int], str] = {}
        self.buffer = bytearray(CHUNK)
        # Headers and small files gather here and reach ``out`` a CHUNK at a time: one
        # write per member would cost more than the member (100 000 small files).
        self.pending = bytearray()

    def put(self, data: bytes | memoryview) -> None:
        self.pending += data
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.out.write(bytes(self.pending))
            self.pending.clear()

    def emit(self, name: str, kind: str) -> None:
        parent = name.rpartition("/")[0]
        if kind in ("whiteout", "opaque"):
            self.put(encode_header(name, REGTYPE, mtime_ns=(self.clamp or 0) * NS))
            return
        if parent and parent not in self.dirs:
            raise FilesystemError(f"{name}: parent {parent} is not a directory in the root")
        path, st = self._upper_entry(name)
        in_upper = st is not None
        if st is None:
            path = full_path(self.root, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                if kind == "parent":
                    return  # a deleted directory's whiteouts only: nothing to describe
                raise FilesystemError(f"{name}: no such file in the root") from None
        fmt = stat.S_IFMT(st.st_mode)
        if kind == "parent" and fmt != stat.S_IFDIR:
            raise FilesystemError(f"{name}: is a parent of layer entries but not a directory")
        typeflag = TYPEFLAGS.get(fmt)
        if typeflag is None:
            return  # a socket: cannot be archived; kaniko skips them too
        mtime = st.st_mtime_ns if self.clamp is None else self.clamp * NS
        common = _Owner(mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid)
        key = (st.st_dev, st.st_ino)
        if fmt != stat.S_IFDIR and st.st_nlink > 1:
            first = self.links.setdefault(key, name)
            if first != name:
                self.put(encode_header(name, LNKTYPE, mtime_ns=mtime, link=first, **common))
                return
        xattrs = read_xattrs(path)
        if in_upper:
            xattrs = tuple(x for x in xattrs if not x[0].startswith(PRIVATE_XATTR_PREFIX))
        if fmt == stat.S_IFREG:
            self._file(name, path, st, mtime, xattrs, common)
            return
        link = os.readlink(path) if fmt == stat.S_IFLNK else ""
        dev = (
            (os.major(st.st_rdev), os.minor(st.st_rdev))
            if typeflag in (CHRTYPE, BLKTYPE)
            else (0, 0)
        )
        header_name = name + "/" if fmt == stat.S_IFDIR else name
        self.put(
            encode_header(
                header_name, typeflag, mtime_ns=mtime, link=link, dev=dev, xattrs=xattrs, **common
            )
        )
        if fmt == stat.S_IFDIR:
            self.dirs.add(name)

    def _upper_entry(self, name: str) -> tuple[str, os.stat_result | None]:
        """``name`` in the overlay upper directory, if it is there (not as a whiteout).

        With ``redirect_dir`` and ``metacopy`` off, an upper entry is whole: its
        attributes and bytes are what the merged root shows, minus overlay's own xattrs,
        and reading it skips overlay's indirection (a quarter of the time at 100 000
        small files)."""
        if self.upper is None:
            return "", None
        path = full_path(self.upper, name)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return "", None
        return (path, st) if not is_whiteout(st) else ("", None)

    def _file(
        self,
        name: str,
        path: str,
        st: os.stat_result,
        mtime: int,
        xattrs: Xattrs,
        common: _Owner,
    ) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                raise FilesystemError(f"{name}: replaced while writing the layer")
            size = now.st_size
            self.put(
                encode_header(name, REGTYPE, size=size, mtime_ns=mtime, xattrs=xattrs, **common)
            )
            if size >= CHUNK:
                self.flush()  # a large file goes to ``out`` straight from the read buffer
            view, left = memoryview(self.buffer), size
            while left:
                n = os.readv(fd, [view[: min(left, CHUNK)]])
                if n == 0:
                    raise FilesystemError(f"{name}: shrank while writing the layer")
                if size >= CHUNK:
                    self.out.write(view[:n])
                else:
                    self.pending += view[:n]
                left -= n
            self.put(padding(size))
        finally:
            os.close(fd)


def write_layer_tar(
    root: Path | str,
    entries: Iterable[TarEntry | tuple[str, str]],
    out: Writable,
    *,
    reproducible: bool = False,
    epoch: int = 0,
    ignore: IgnoreList | None = None,
    upper: str | None = None,
) -> None:
    """Write the layer tar of ``entries`` under ``root`` to ``out`` (see the module doc).

    ``epoch`` only matters with ``reproducible``. ``out`` is not closed. ``upper``: when
    ``root`` is an overlay mount, its upper directory, where entries are read from when
    they are there (the same bytes, faster).
    """
    clamp = epoch if reproducible else None
    plan = _plan(entries, ignore)
    writer = _LayerWriter(os.fspath(root), out, clamp, upper)
    name = ""
    try:
        for name, kind in plan:
            writer.emit(name, kind)
        writer.put(b"\0" * (2 * BLOCK))  # end of archive
        writer.flush()
    except OSError as e:
        raise FilesystemError(f"{name}: {e.strerror or e}") from e
