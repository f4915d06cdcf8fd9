"""The scanners on root filesystems laid out by the tests."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import struct
import zipfile
from pathlib import Path

from kaniko.attest.scan import scan
from kaniko.attest.scan.golang import MAGIC
from kaniko.attest.tree import RootTree

DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: demo

Files: *
Copyright: someone
License: GPL-2+
 The text.

Files: lib/*
License: BSD-3-clause
"""


def _write(root: Path, path: str, data: str | bytes, mode: int = 0o644) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode() if isinstance(data, str) else data)
    target.chmod(mode)
    return target


def _found(root: Path, kind: str) -> dict[str, object]:
    return {p.name: p for p in scan(RootTree(root)).packages if p.type == kind}


def test_dpkg_lists_installed_packages_with_licenses_and_purls(tmp_path) -> None:
    _write(tmp_path, "/etc/os-release", 'ID=debian\nVERSION_ID="12"\n')
    _write(
        tmp_path,
        "/var/lib/dpkg/status",
        "Package: demo\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n"
        "Source: demo-src (1.0-0)\nMaintainer: Jane <jane@example.org>\nDescription: a demo\n"
        " longer text\n\n"
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 2\n\n"
        "Package: purged\nStatus: purge ok not-installed\n\n"
        "Package: half\nStatus: install reinstreq half-installed\nVersion: 3\n",
    )
    _write(tmp_path, "/var/lib/dpkg/status.d/extra", "Package: extra\nVersion: 9\n")
    _write(tmp_path, "/usr/share/doc/demo/copyright", DEP5)
    found = _found(tmp_path, "deb")
    assert sorted(found) == ["demo", "extra", "half"]
    demo = found["demo"]
    assert demo.licenses == ("GPL-2+", "BSD-3-clause")
    assert demo.purl == (
        "pkg:deb/debian/demo@1.0-1?arch=amd64&distro=debian-12&upstream=demo-src%401.0-0"
    )
    assert demo.description == "a demo" and demo.supplier == "Jane <jane@example.org>"


def test_apk_database(tmp_path) -> None:
    _write(tmp_path, "/etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")
    _write(
        tmp_path,
        "/lib/apk/db/installed",
        "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\nT:the C library\no:musl\n"
        "F:lib\nR:ld-musl-x86_64.so.1\n\n"
        "P:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n"
        "P:ssl_client\nV:1.36.1-r15\nL:GPL-2.0-only MIT\no:busybox\n",
    )
    found = _found(tmp_path, "apk")
    assert sorted(found) == ["busybox", "musl", "ssl_client"]
    assert found["musl"].purl == "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1"
    assert found["ssl_client"].licenses == ("GPL-2.0-only", "MIT")
    assert "upstream=busybox" in found["ssl_client"].purl


def _rpm_header(tags: dict[int, str | int]) -> bytes:
    """An RPM header blob as rpm's headerExport writes one (big-endian index + store)."""
    index, store = b"", b""
    for tag, value in sorted(tags.items()):
        if isinstance(value, int):
            store += b"\0" * (-len(store) % 4)
            index += struct.pack(">iiii", tag, 4, len(store), 1)
            store += struct.pack(">i", value)
        else:
            index += struct.pack(">iiii", tag, 6, len(store), 1)
            store += value.encode() + b"\0"
    return struct.pack(">ii", len(tags), len(store)) + index + store


def test_rpm_sqlite_database(tmp_path) -> None:
    _write(tmp_path, "/etc/os-release", "ID=fedora\nVERSION_ID=39\n")
    db = tmp_path / "var/lib/rpm/rpmdb.sqlite"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB)")
    rows = [
        {1000: "bash", 1001: "5.2.26", 1002: "1.fc39", 1022: "x86_64", 1014: "GPL-3.0-or-later",
         1011: "Fedora Project", 1044: "bash-5.2.26-1.fc39.src.rpm"},
        {1000: "shadow-utils", 1001: "4.14.0", 1002: "2.fc39", 1003: 2, 1022: "x86_64"},
        {1000: "gpg-pubkey", 1001: "18b8e74c", 1002: "62f2920f"},
    ]  # fmt: skip
    for tags in rows:
        conn.execute("INSERT INTO Packages (blob) VALUES (?)", (_rpm_header(tags),))
    conn.commit()
    conn.close()
    before = db.read_bytes()
    found = _found(tmp_path, "rpm")
    assert sorted(found) == ["bash", "shadow-utils"]
    assert found["bash"].version == "5.2.26-1.fc39"
    assert found["bash"].purl == (
        "pkg:rpm/fedora/bash@5.2.26-1.fc39?arch=x86_64&distro=fedora-39"
        "&upstream=bash-5.2.26-1.fc39.src.rpm"
    )
    assert found["shadow-utils"].version == "2:4.14.0-2.fc39"
    assert "epoch=2" in found["shadow-utils"].purl
    assert db.read_bytes() == before  # read, never written


def test_python_distributions(tmp_path) -> None:
    site = "/usr/lib/python3/dist-packages"
    _write(tmp_path, f"{site}/Foo_Bar-1.0.dist-info/METADATA",
           "Metadata-Version: 2.4\nName: Foo_Bar\nVersion: 1.0\n"
           "License-Expression: MIT OR Apache-2.0\n")  # fmt: skip
    _write(tmp_path, f"{site}/old-2.0.egg-info",
           "Metadata-Version: 1.1\nName: old\nVersion: 2.0\nLicense: UNKNOWN\n"
           "Classifier: License :: OSI Approved :: BSD License\n")  # fmt: skip
    _write(tmp_path, f"{site}/eggy-3.0.egg-info/PKG-INFO", "Name: eggy\nVersion: 3.0\n")
    _write(tmp_path, f"{site}/broken-1.dist-info/METADATA", "Name: broken\n")
    found = _found(tmp_path, "python")
    assert sorted(found) == ["Foo_Bar", "eggy", "old"]
    assert found["Foo_Bar"].purl == "pkg:pypi/foo-bar@1.0"
    assert found["Foo_Bar"].licenses == ("MIT OR Apache-2.0",)
    assert found["old"].licenses == ("BSD License",)


def test_npm_packages_only_under_node_modules(tmp_path) -> None:
    _write(tmp_path, "/app/package.json", json.dumps({"name": "app", "version": "1.0.0"}))
    _write(tmp_path, "/app/node_modules/a/package.json",
           json.dumps({"name": "a", "version": "1.0.0", "license": {"type": "MIT"}}))  # fmt: skip
    b = {"name": "b", "version": "2.0.0", "licenses": [{"type": "ISC"}]}
    _write(tmp_path, "/app/node_modules/a/node_modules/b/package.json", json.dumps(b))
    _write(tmp_path, "/app/node_modules/@s/c/package.json",
           json.dumps({"name": "@s/c", "version": "3.0.0"}))  # fmt: skip
    _write(
        tmp_path, "/app/node_modules/a/lib/package.json", json.dumps({"name": "x", "version": "9"})
    )
    _write(
        tmp_path, "/app/node_modules/.bin/package.json", json.dumps({"name": "y", "version": "9"})
    )
    found = _found(tmp_path, "npm")
    assert sorted(found) == ["@s/c", "a", "b"]
    assert found["@s/c"].purl == "pkg:npm/%40s/c@3.0.0"
    assert found["a"].licenses == ("MIT",) and found["b"].licenses == ("ISC",)


def _go_binary(modinfo: str, version: str = "go1.21.5") -> bytes:
    def varint(n: int) -> bytes:
        out = b""
        while n >= 0x80:
            out += bytes([n & 0x7F | 0x80])
            n >>= 7
        return out + bytes([n])

    sentinel_start = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
    sentinel_end = bytes.fromhex("f932433186182072008242104116d8f2")
    info = sentinel_start + modinfo.encode() + sentinel_end
    header = MAGIC + bytes([8, 2]) + b"\0" * 16
    body = header + varint(len(version)) + version.encode() + varint(len(info)) + info
    return b"\x7fELF" + b"\0" * 4092 + body + b"\0" * 100


def test_go_build_info(tmp_path) -> None:
    modinfo = (
        "path\texample.com/cmd/tool\n"
        "mod\texample.com/tool\tv1.2.3\th1:abc=\n"
        "dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=\n"
        "dep\tgolang.org/x/sys\tv0.1.0\th1:ghi=\n"
        "=>\tgolang.org/x/sys\tv0.2.0\th1:jkl=\n"
        "dep\texample.com/local\tv0.0.0\n"
        "=>\t./local\t\n"
        "build\tGOOS=linux\n"
    )
    _write(tmp_path, "/usr/bin/tool", _go_binary(modinfo), 0o755)
    _write(tmp_path, "/usr/bin/not-exec", _go_binary(modinfo), 0o644)
    found = {(p.name, p.version, p.purl) for p in scan(RootTree(tmp_path)).packages}
    assert found == {
        ("example.com/tool", "v1.2.3", "pkg:golang/example.com/tool@v1.2.3"),
        ("github.com/pkg/errors", "v0.9.1", "pkg:golang/github.com/pkg/errors@v0.9.1"),
        ("golang.org/x/sys", "v0.2.0", "pkg:golang/golang.org/x/sys@v0.2.0"),
        ("example.com/local", "v0.0.0", "pkg:golang/example.com/local@v0.0.0"),
        ("stdlib", "1.21.5", "pkg:golang/stdlib@1.21.5"),
    }


def _zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_java_archives(tmp_path) -> None:
    pom = "META-INF/maven/{g}/{a}/pom.properties"
    lib = _zip({pom.format(g="org.x", a="inner"): "groupId=org.x\nartifactId=inner\nversion=1\n"})
    _write(tmp_path, "/opt/app.war", _zip({
        pom.format(g="org.x", a="app"): "#c\ngroupId=org.x\nartifactId=app\nversion=3.1\n",
        "WEB-INF/lib/inner.jar": lib,
    }))  # fmt: skip
    _write(tmp_path, "/opt/plain.jar", _zip({
        "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\nImplementation-Title: plain\n"
        "Implementation-Version: 0.9\nBundle-License: Apache-2.0\n",
    }))  # fmt: skip
    _write(tmp_path, "/opt/broken.jar", b"not a zip")
    found = {(p.name, p.version, p.purl) for p in scan(RootTree(tmp_path)).packages}
    assert found == {
        ("app", "3.1", "pkg:maven/org.x/app@3.1"),
        ("inner", "1", "pkg:maven/org.x/inner@1"),
        ("plain", "0.9", "pkg:maven/plain@0.9"),
    }


def test_reads_never_leave_the_root(tmp_path) -> None:
    outside = tmp_path / "outside"
    _write(outside, "/status", "Package: host-secret\nVersion: 1\n")
    root = tmp_path / "root"
    (root / "var/lib/dpkg").mkdir(parents=True)
    os.symlink(str(outside / "status"), root / "var/lib/dpkg/status")  # absolute: re-rooted
    (root / "usr/lib").mkdir(parents=True)
    os.symlink(str(outside), root / "usr/lib/escape")  # never followed by the walk
    _write(outside, "/m-1.dist-info/METADATA", "Name: m\nVersion: 1\n")
    assert scan(RootTree(root)).packages == []


def test_ignored_paths_are_not_scanned(tmp_path) -> None:
    _write(tmp_path, "/proc/x/node_modules/a/package.json", '{"name":"a","version":"1"}')
    _write(tmp_path, "/srv/node_modules/b/package.json", '{"name":"b","version":"1"}')
    tree = RootTree(tmp_path, ignore=lambda rel: rel.split("/")[0] == "proc")
    assert [p.name for p in scan(tree).packages] == ["b"]
