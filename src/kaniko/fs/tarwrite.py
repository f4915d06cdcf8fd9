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

import functools
import os
import posixpath
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, NamedTuple, TypedDict

from kaniko.errors import FilesystemError
from kaniko.fs.fileattrs import Xattrs, read_xattrs
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.overlaymount import PRIVATE_XATTR_PREFIX, is_whiteout
from kaniko.fs.safepath import clean_relpath, full_path
from kaniko.iotools import CHUNK, Writable

EntryKind = Literal["file", "whiteout", "opaque"]
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_NS = 1_000_000_000
_FS_ENCODING = sys.getfilesystemencoding()


class _Owner(TypedDict):
    """The permission bits and numeric owner of a member."""

    mode: int
    uid: int
    gid: int


class TarEntry(NamedTuple):
    """One change to put in a layer: a root-relative path and what happened to it."""

    path: str
    kind: EntryKind = "file"


def pax_time(ns: int) -> str:
    """A nanosecond timestamp as a PAX time record value (``"1700000000.5"``)."""
    sign = "-" if ns < 0 else ""
    sec, frac = divmod(abs(ns), _NS)
    return f"{sign}{sec}.{frac:09d}".rstrip("0").rstrip(".")


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


# -- the tar format ---------------------------------------------------------------------
# A POSIX ustar header block, then PAX extended records where ustar cannot say it all.
# (tarfile builds headers ten times slower, and its output could change with Python.)

_BLOCK = 512
_MAGIC = b"ustar\x0000"  # POSIX magic and version
_FIXED_SUM = 8 * ord(" ") + sum(_MAGIC)
_PAX_NAME = b"././@PaxHeader"
REGTYPE, LNKTYPE, SYMTYPE, CHRTYPE = b"0", b"1", b"2", b"3"
BLKTYPE, DIRTYPE, FIFOTYPE = b"4", b"5", b"6"


_MAX8 = 1 << 21  # what an 8-byte octal field holds (7 digits)
_MAX12 = 1 << 33  # what a 12-byte octal field holds (11 digits)


def _fits(value: int, width: int) -> bool:
    """Whether ``value`` fits an octal field of ``width`` bytes (one is the terminator)."""
    return 0 <= value < 1 << 3 * (width - 1)


_NO_DEV = b"%07o\0%07o\0" % (0, 0)
_NO_DEV_SUM = sum(_NO_DEV)
_NAMES = _MAGIC + bytes(64)  # magic and version, then empty user and group names
_TAIL = bytes(167)  # prefix (unused: long names go to PAX) and padding


def _ustar(
    name: bytes,
    typeflag: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    link: bytes = b"",
    dev: tuple[int, int] = (0, 0),
) -> bytes:
    numbers = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode, uid, gid, size, mtime)
    if dev == (0, 0):
        devices, dev_sum = _NO_DEV, _NO_DEV_SUM
    else:
        devices = b"%07o\0%07o\0" % dev
        dev_sum = sum(devices)
    # the checksum counts its own field as spaces; only the variable parts need summing
    checksum = _FIXED_SUM + sum(name) + sum(numbers) + typeflag[0] + dev_sum
    if link:
        checksum += sum(link)
    return b"".join(
        (
            name.ljust(100, b"\0"),
            numbers,
            b"%06o\0 " % checksum,
            typeflag,
            link.ljust(100, b"\0"),
            _NAMES,
            devices,
            _TAIL,
        )
    )


@functools.lru_cache(maxsize=1024)
def _pax_header(size: int) -> bytes:
    """The ustar header of a PAX extended header of ``size`` bytes (few sizes recur)."""
    return _ustar(_PAX_NAME, b"x", 0o644, 0, 0, size, 0)


def _pax(records: list[tuple[bytes, bytes]]) -> bytes:
    """PAX records ``"LEN KEY=VALUE\\n"``, where LEN counts the whole record."""
    out = []
    for key, value in records:
        body = b" %s=%s\n" % (key, value)
        length = len(body) + len(str(len(body)))
        if len(str(length)) + len(body) != length:
            length += 1  # adding the length's digits carried it over to one more digit
        out.append(b"%d%s" % (length, body))
    return b"".join(out)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % _BLOCK)


def encode_header(
    name: str,
    typeflag: bytes,
    *,
    mode: int = 0,
    uid: int = 0,
    gid: int = 0,
    size: int = 0,
    mtime_ns: int = 0,
    link: str = "",
    dev: tuple[int, int] = (0, 0),
    xattrs: Iterable[tuple[str, bytes]] = (),
) -> bytes:
    """The header block(s) of one member: a PAX extended header first where needed.

    Names and link targets longer than the ustar fields or not ASCII go in ``path`` and
    ``linkpath`` records, ids and sizes too large in ``uid``/``gid``/``size``, the mtime in
    ``mtime`` when it is negative, too large or has a fraction of a second.
    """
    if (
        not link
        and xattrs == ()
        and len(name) <= 100
        and name.isascii()
        and 0 <= uid < _MAX8
        and 0 <= gid < _MAX8
        and 0 <= size < _MAX12
        and 0 <= mtime_ns < _MAX12 * _NS
    ):  # most members: at most an mtime record, built without the general machinery
        seconds, fraction = divmod(mtime_ns, _NS)
        out = _ustar(name.encode("ascii"), typeflag, mode, uid, gid, size, seconds, b"", dev)
        if not fraction:
            return out
        body = _pax([(b"mtime", (b"%d.%09d" % (seconds, fraction)).rstrip(b"0"))])
        return _pax_header(len(body)) + body + _padding(len(body)) + out
    raw_name = name.encode(_FS_ENCODING, "surrogateescape")  # os.fsencode, without its checks
    raw_link = link.encode(_FS_ENCODING, "surrogateescape") if link else b""
    records: list[tuple[bytes, bytes]] = []
    plain_name = len(raw_name) <= 100 and raw_name.isascii()
    if not plain_name:
        records.append((b"path", raw_name))
    plain_link = len(raw_link) <= 100 and raw_link.isascii()
    if not plain_link:
        records.append((b"linkpath", raw_link))
    seconds = mtime_ns // _NS
    small = uid < _MAX8 and gid < _MAX8 and size < _MAX12 and min(uid, gid, size) >= 0
    if not small:
        for field, number, width in ((b"uid", uid, 8), (b"gid", gid, 8), (b"size", size, 12)):
            if not _fits(number, width):
                records.append((field, b"%d" % number))
    if mtime_ns % _NS or not 0 <= seconds < _MAX12:
        records.append((b"mtime", pax_time(mtime_ns).encode()))
    for xattr, content in xattrs:
        records.append((b"SCHILY.xattr." + os.fsencode(xattr), content))
    out = b""
    if records:
        try:
            raw_name.decode("utf-8")
            raw_link.decode("utf-8")
        except UnicodeDecodeError:
            records.insert(0, (b"hdrcharset", b"BINARY"))  # names are raw bytes, not UTF-8
        body = _pax(records)
        out = _pax_header(len(body)) + body + _padding(len(body))

    if not small:
        uid, gid, size = (v if _fits(v, w) else 0 for v, w in ((uid, 8), (gid, 8), (size, 12)))
    return out + _ustar(
        raw_name if plain_name else _ascii(raw_name),
        typeflag,
        mode,
        uid,
        gid,
        size,
        seconds if 0 <= seconds < _MAX12 else 0,
        raw_link if plain_link else _ascii(raw_link),
        dev,
    )


def _ascii(raw: bytes) -> bytes:
    """A ustar name field: the real value, or an ASCII stand-in when PAX carries it."""
    if len(raw) <= 100 and raw.isascii():
        return raw
    return bytes(c if c < 128 else ord("?") for c in raw[:100])


_TYPEFLAGS = {
    stat.S_IFDIR: DIRTYPE,
    stat.S_IFLNK: SYMTYPE,
    stat.S_IFREG: REGTYPE,
    stat.S_IFIFO: FIFOTYPE,
    stat.S_IFCHR: CHRTYPE,
    stat.S_IFBLK: BLKTYPE,
}


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
            self.put(encode_header(name, REGTYPE, mtime_ns=(self.clamp or 0) * _NS))
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
        typeflag = _TYPEFLAGS.get(fmt)
        if typeflag is None:
            return  # a socket: cannot be archived; kaniko skips them too
        mtime = st.st_mtime_ns if self.clamp is None else self.clamp * _NS
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
            self.put(_padding(size))
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
        writer.put(b"\0" * (2 * _BLOCK))  # end of archive
        writer.flush()
    except OSError as e:
        raise FilesystemError(f"{name}: {e.strerror or e}") from e
