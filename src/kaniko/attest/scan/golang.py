"""Go modules compiled into binaries: the build info Go 1.18+ embeds in every executable.

The linker writes a 32-byte header (``\\xff Go buildinf:``, pointer size, flags) into the
``.go.buildinfo`` data; with the "inline strings" flag (Go 1.18+) two varint-prefixed
strings follow: the Go version and the module info (``path``, ``mod``, ``dep``, ``=>``
and ``build`` lines between 16-byte sentinels), the text ``go version -m`` prints (see
Go's ``debug/buildinfo``). The header is found by streaming the file, so no ELF/Mach-O/PE
parsing is needed; binaries from Go before 1.18 (pointers instead of inline strings) are
skipped. Each ``dep`` becomes a package (a ``=>`` replacement wins), the main module
one too unless it is ``(devel)``, and the Go standard library one (``stdlib``).
"""

from __future__ import annotations

import logging

from kaniko.attest.packages import Package, purl
from kaniko.attest.tree import Entry, RootTree

log = logging.getLogger(__name__)

MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_FLAG_INLINE = 0x2
_CHUNK = 1 << 20
_MAX_BINARY = 2 << 30
_MAX_INFO = 1 << 20
_ELF = b"\x7fELF"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("truncated varint")


def parse_buildinfo(block: bytes) -> tuple[str, str] | None:
    """(Go version, module info) from bytes that start at the build info header."""
    if not block.startswith(MAGIC) or len(block) < _HEADER or not block[15] & _FLAG_INLINE:
        return None
    try:
        size, pos = _varint(block, _HEADER)
        version = block[pos : pos + size].decode("utf-8", "replace")
        size, pos = _varint(block, pos + size)
        modinfo = block[pos : pos + size]
    except ValueError:
        return None
    if len(modinfo) >= 33 and modinfo[-17] == 0x0A:
        modinfo = modinfo[16:-16]  # the sentinels around the text
    return version, modinfo.decode("utf-8", "replace")


def _find(tree: RootTree, path: str) -> bytes | None:
    with tree.open(path) as f:
        if f.read(4) != _ELF:
            return None
        f.seek(0)
        offset, tail = 0, b""
        while chunk := f.read(_CHUNK):
            data = tail + chunk
            hit = data.find(MAGIC)
            if hit >= 0:
                f.seek(offset - len(tail) + hit)
                return f.read(_HEADER + _MAX_INFO)
            tail = data[-(len(MAGIC) - 1) :]
            offset += len(chunk)
    return None


def _local(path: str) -> bool:
    return path.startswith(("./", "../", "/"))


def modules(version: str, modinfo: str, where: str) -> list[Package]:
    """The packages of one binary's build info."""
    found: list[Package] = []
    main: tuple[str, str] | None = None
    deps: list[list[str]] = []
    for line in modinfo.splitlines():
        fields = line.split("\t")
        if fields[0] == "mod" and len(fields) >= 3:
            main = (fields[1], fields[2])
        elif fields[0] == "dep" and len(fields) >= 3:
            deps.append(fields[1:3])
        elif fields[0] == "=>" and len(fields) >= 3 and deps and not _local(fields[1]):
            deps[-1] = fields[1:3]  # replaced by another module (a local directory is not)
    entries = [d for d in (*deps, *([list(main)] if main else [])) if d[1] != "(devel)"]
    for path, mod_version in entries:
        namespace, _, name = path.rpartition("/")
        if not name:
            continue
        found.append(
            Package(path, mod_version, "go-module",
                    purl("golang", name, mod_version, namespace=namespace),
                    locations=(where,), found_by="go module build info")
        )  # fmt: skip
    go = version.removeprefix("go")
    if go:
        found.append(
            Package("stdlib", go, "go-module", purl("golang", "stdlib", go),
                    licenses=("BSD-3-Clause",), locations=(where,),
                    found_by="go module build info")
        )  # fmt: skip
    return found


def scan_binary(tree: RootTree, entry: Entry) -> list[Package]:
    """The Go modules built into executable ``entry`` (none if it is not a Go binary)."""
    if not entry.executable or entry.size < _HEADER or entry.size > _MAX_BINARY:
        return []
    try:
        block = _find(tree, entry.path)
    except OSError:
        return []
    parsed = parse_buildinfo(block) if block else None
    if parsed is None:
        return []
    return modules(*parsed, entry.path)
