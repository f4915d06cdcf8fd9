"""RPM packages: the SQLite rpm database (Fedora 33+, RHEL/UBI/Rocky/Alma 9, Amazon Linux 2023).

The database (``/var/lib/rpm/rpmdb.sqlite`` or ``/usr/lib/sysimage/rpm/rpmdb.sqlite``) is
read with Python's own ``sqlite3``, opened read-only and immutable so the image's file is
never written (no journal, no lock). Each row of the ``Packages`` table is an RPM header
blob: a count of index entries and a data length (big-endian 32-bit), then the entries
(tag, type, offset, count), then the data they point into (see rpm's ``lib/header.c``,
"headerImport"). Only string and 32-bit integer tags are read.

Older databases (Berkeley DB ``Packages``, SUSE's ``Packages.db``) have no maintained
Python reader: they are reported in the log and not listed.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
from collections.abc import Iterator

from kaniko.attest.packages import Package, purl
from kaniko.attest.scan.distro import Distro
from kaniko.attest.tree import RootTree

log = logging.getLogger(__name__)

SQLITE_DBS = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
OLD_DBS = ("/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db", "/usr/lib/sysimage/rpm/Packages.db")

NAME, VERSION, RELEASE, EPOCH, SUMMARY = 1000, 1001, 1002, 1003, 1004
VENDOR, LICENSE, PACKAGER, URL, ARCH, SOURCERPM = 1011, 1014, 1015, 1020, 1022, 1044
_INT32, _STRING, _STRING_ARRAY, _I18NSTRING = 4, 6, 8, 9
_MAX_ENTRIES = 1 << 16


class HeaderError(ValueError):
    """An RPM header blob that does not parse."""


def parse_header(blob: bytes) -> dict[int, str | int]:
    """The string and int32 tags of an RPM header blob (as stored in rpmdb.sqlite)."""
    if len(blob) < 8:
        raise HeaderError("header shorter than 8 bytes")
    count, data_len = struct.unpack_from(">ii", blob, 0)
    start = 8 + 16 * count
    if not 0 < count <= _MAX_ENTRIES or data_len < 0 or start + data_len > len(blob):
        raise HeaderError(f"header of {count} entries and {data_len} data bytes is truncated")
    data = blob[start : start + data_len]
    tags: dict[int, str | int] = {}
    for i in range(count):
        tag, kind, offset, n = struct.unpack_from(">iiii", blob, 8 + 16 * i)
        if offset < 0 or offset >= data_len or n < 1:
            continue
        if kind == _INT32 and offset + 4 <= data_len:
            tags[tag] = struct.unpack_from(">i", data, offset)[0]
        elif kind in (_STRING, _STRING_ARRAY, _I18NSTRING):
            end = data.find(b"\0", offset)
            if end < 0:
                continue
            tags[tag] = data[offset:end].decode("utf-8", "replace")
    return tags


def _rows(tree: RootTree, path: str) -> Iterator[bytes]:
    import sqlite3  # the executor image carries it for this reader only

    data = tree.read(path)
    if data is None:
        return
    # A copy: the database is opened by name, and the image's file must stay untouched.
    with tempfile.TemporaryDirectory(prefix="kaniko-rpmdb-") as tmp:
        copy = os.path.join(tmp, "rpmdb.sqlite")
        with open(copy, "wb") as f:
            f.write(data)
        conn = sqlite3.connect(f"file:{copy}?mode=ro&immutable=1", uri=True)
        try:
            yield from (bytes(row[0]) for row in conn.execute("SELECT blob FROM Packages"))
        finally:
            conn.close()


def _package(tags: dict[int, str | int], path: str, distro: Distro) -> Package | None:
    name = str(tags.get(NAME, ""))
    if not name or name == "gpg-pubkey":  # imported signing keys, not software
        return None
    version, release = str(tags.get(VERSION, "")), str(tags.get(RELEASE, ""))
    epoch = tags.get(EPOCH)
    full = f"{version}-{release}" if release else version
    shown = f"{epoch}:{full}" if epoch is not None else full
    arch = str(tags.get(ARCH, ""))
    qualifiers = {
        "arch": arch,
        "epoch": str(epoch) if epoch is not None else "",
        "distro": distro.qualifier,
        "upstream": str(tags.get(SOURCERPM, "")),
    }
    license_text = str(tags.get(LICENSE, ""))
    return Package(
        name=name,
        version=shown,
        type="rpm",
        purl=purl("rpm", name, full, namespace=distro.id or "rpm", qualifiers=qualifiers),
        licenses=(license_text,) if license_text else (),
        locations=(path,),
        supplier=str(tags.get(VENDOR, "") or tags.get(PACKAGER, "")),
        description=str(tags.get(SUMMARY, "")),
        homepage=str(tags.get(URL, "")),
        found_by="rpm database",
        properties={"architecture": arch} if arch else {},
    )


def scan_rpm(tree: RootTree, distro: Distro) -> list[Package]:
    """The packages of the rpm database of ``tree``."""
    found: list[Package] = []
    for path in SQLITE_DBS:
        try:
            rows = list(_rows(tree, path))
        except ImportError:
            log.warning("sbom: %s not read: this Python has no sqlite3", path)
            return []
        except Exception as exc:  # sqlite3.Error and friends: a damaged database
            log.warning("sbom: cannot read the rpm database %s: %s", path, exc)
            continue
        for blob in rows:
            try:
                package = _package(parse_header(blob), path, distro)
            except HeaderError as exc:
                log.warning("sbom: %s: skipping a package header: %s", path, exc)
                continue
            if package is not None:
                found.append(package)
        if rows:
            return found
    for path in OLD_DBS:
        if tree.host_path(path) is not None and tree.read(path, 1) is not None:
            log.warning(
                "sbom: %s is a Berkeley DB/NDB rpm database, which is not read: "
                "its packages are not listed", path
            )  # fmt: skip
    return found
