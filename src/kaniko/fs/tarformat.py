"""The tar format of layers: a POSIX ustar header block, then PAX extended records where
ustar cannot say it all.

:func:`encode_header` gives a member's header block(s) byte for byte: numeric ids, empty
user and group names, the mtime to the nanosecond in a PAX ``mtime`` record where it has
a fraction, xattrs as ``SCHILY.xattr.NAME`` records, long or non-ASCII names in ``path``
and ``linkpath`` records (``hdrcharset=BINARY`` when they are not UTF-8). ``tarfile``
builds headers ten times slower, and its output could change with Python.
"""

from __future__ import annotations

import functools
import os
import stat
import sys
from collections.abc import Iterable

NS = 1_000_000_000
BLOCK = 512
_FS_ENCODING = sys.getfilesystemencoding()


def pax_time(ns: int) -> str:
    """A nanosecond timestamp as a PAX time record value (``"1700000000.5"``)."""
    sign = "-" if ns < 0 else ""
    sec, frac = divmod(abs(ns), NS)
    return f"{sign}{sec}.{frac:09d}".rstrip("0").rstrip(".")


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


def padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


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
        and 0 <= mtime_ns < _MAX12 * NS
    ):  # most members: at most an mtime record, built without the general machinery
        seconds, fraction = divmod(mtime_ns, NS)
        out = _ustar(name.encode("ascii"), typeflag, mode, uid, gid, size, seconds, b"", dev)
        if not fraction:
            return out
        body = _pax([(b"mtime", (b"%d.%09d" % (seconds, fraction)).rstrip(b"0"))])
        return _pax_header(len(body)) + body + padding(len(body)) + out
    raw_name = name.encode(_FS_ENCODING, "surrogateescape")  # os.fsencode, without its checks
    raw_link = link.encode(_FS_ENCODING, "surrogateescape") if link else b""
    records: list[tuple[bytes, bytes]] = []
    plain_name = len(raw_name) <= 100 and raw_name.isascii()
    if not plain_name:
        records.append((b"path", raw_name))
    plain_link = len(raw_link) <= 100 and raw_link.isascii()
    if not plain_link:
        records.append((b"linkpath", raw_link))
    seconds = mtime_ns // NS
    small = uid < _MAX8 and gid < _MAX8 and size < _MAX12 and min(uid, gid, size) >= 0
    if not small:
        for field, number, width in ((b"uid", uid, 8), (b"gid", gid, 8), (b"size", size, 12)):
            if not _fits(number, width):
                records.append((field, b"%d" % number))
    if mtime_ns % NS or not 0 <= seconds < _MAX12:
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
        out = _pax_header(len(body)) + body + padding(len(body))

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


TYPEFLAGS = {
    stat.S_IFDIR: DIRTYPE,
    stat.S_IFLNK: SYMTYPE,
    stat.S_IFREG: REGTYPE,
    stat.S_IFIFO: FIFOTYPE,
    stat.S_IFCHR: CHRTYPE,
    stat.S_IFBLK: BLKTYPE,
}
