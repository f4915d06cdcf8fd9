"""What an image's layers hold, path by path, known from tar headers alone.

A step the cache cannot serve, after steps it did serve, must run against the image built
so far. A RUN needs that whole filesystem; a COPY, ADD or WORKDIR only needs a few of its
entries: the destination's parent directories (symlinks followed, as the step follows
them), what already lies at the destination, and ``/etc/passwd`` and ``/etc/group`` when
a user is named. :class:`ImageView` answers those questions from the layers' headers, so
a rebuild whose last COPY changed never extracts the base, nor the cached RUN layers.

:class:`LayerIndex` is one layer's headers (no content, except ``/etc/passwd`` and
``/etc/group``, kept for user lookups): entries, whiteouts and opaque directories. Reading
one means reading the whole layer blob, so indexes are kept by blob digest in
:class:`IndexStore` (in memory, and on disk when it is given a writable directory), and a
rebuild reads none of its base's layers again.

:class:`ImageView` stacks indexes as a runtime stacks layers: an entry of an upper layer
hides the same path below, a whiteout hides the path and its tree, an opaque directory
hides what lower layers have below it, and a non-directory hides a lower tree at its path.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import posixpath
import tarfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from kaniko.errors import FilesystemError, ImageError
from kaniko.fs.atomic import write_atomic
from kaniko.fs.whiteout import META_PREFIX, OPAQUE_MARKER, WHITEOUT_PREFIX
from kaniko.oci.compress import DecompressionError, open_decompressed
from kaniko.oci.image import Layer

log = logging.getLogger(__name__)

INDEX_VERSION = 1
KEPT_CONTENT = frozenset({"etc/passwd", "etc/group"})
MAX_KEPT = 1 << 20  # bytes of a kept file
MAX_LINKS = 40  # symlinks followed in one path, as Linux allows

Opener = Callable[[Layer], AbstractContextManager[BinaryIO]]

# One entry, as stored: (type, mode, uid, gid, mtime, size, linkname, devmajor, devminor,
# pax records, kept content or None)
Record = tuple[str, int, int, int, int, int, str, int, int, dict[str, str], str | None]


def _clean(name: str) -> str:
    norm = posixpath.normpath("/" + name).lstrip("/")
    return "" if norm == "." else norm


def _parents(path: str) -> Iterator[str]:
    """The ancestors of ``path`` (root excluded), nearest last."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        yield "/".join(parts[:depth])


@dataclass
class LayerIndex:
    """The headers of one layer (see the module docs)."""

    entries: dict[str, Record] = field(default_factory=dict)
    whiteouts: set[str] = field(default_factory=set)
    opaques: set[str] = field(default_factory=set)
    _sorted: list[str] | None = None

    @classmethod
    def read(cls, layer: Layer, opener: Opener | None = None) -> LayerIndex:
        """Index ``layer`` by reading its blob (headers, and the kept files' content),
        opened by ``opener`` (default: the layer's own ``open_compressed``)."""
        index = cls()
        blob = (opener or (lambda x: x.open_compressed()))(layer)
        try:
            with (
                blob as compressed,
                open_decompressed(compressed, layer.media_type) as stream,
                tarfile.open(
                    fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape"
                ) as tar,
            ):
                for member in tar:
                    index._add(tar, member)
                    tar.members.clear()  # type: ignore[attr-defined]
        except tarfile.ReadError as e:
            if str(e) != "empty file":
                raise ImageError(f"layer {layer.digest}: cannot read its headers: {e}") from e
        except (tarfile.TarError, OSError, DecompressionError) as e:
            raise ImageError(f"layer {layer.digest}: cannot read its headers: {e}") from e
        return index

    def _add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        path = _clean(member.name)
        parent, base = posixpath.split(path)
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                self.opaques.add(parent)
            elif not base.startswith(META_PREFIX):
                self.whiteouts.add(posixpath.join(parent, base[len(WHITEOUT_PREFIX) :]))
            return
        kept = None
        if path in KEPT_CONTENT and member.isreg() and member.size <= MAX_KEPT:
            data = tar.extractfile(member)
            kept = data.read().decode("utf-8", "surrogateescape") if data else None
        self.entries[path] = (
            member.type.decode("latin-1"),
            member.mode,
            member.uid,
            member.gid,
            int(member.mtime),
            member.size,
            member.linkname,
            member.devmajor,
            member.devminor,
            dict(member.pax_headers),
            kept,
        )

    @property
    def paths(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.entries)
        return self._sorted

    def below(self, directory: str) -> list[str]:
        """The paths of this layer strictly below ``directory``."""
        paths = self.paths
        if not directory:
            return [p for p in paths if p]
        lo = bisect.bisect_left(paths, directory + "/")
        hi = bisect.bisect_left(paths, directory + "0", lo)  # "0" sorts right after "/"
        return paths[lo:hi]

    def hides_below(self, path: str) -> bool:
        """Whether this layer hides what lower layers have at ``path``."""
        if path in self.whiteouts or path in self.entries:
            return True
        for parent in _parents(path):
            if parent in self.whiteouts or parent in self.opaques:
                return True
            rec = self.entries.get(parent)
            if rec is not None and rec[0] != tarfile.DIRTYPE.decode():
                return True
        return "" in self.opaques and bool(path)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": INDEX_VERSION,
                "entries": self.entries,
                "whiteouts": sorted(self.whiteouts),
                "opaques": sorted(self.opaques),
            },
            separators=(",", ":"),
        ).encode("utf-8", "surrogatepass")

    @classmethod
    def from_json(cls, data: bytes) -> LayerIndex:
        obj: Any = json.loads(data.decode("utf-8", "surrogatepass"))
        if not isinstance(obj, dict) or obj.get("version") != INDEX_VERSION:
            raise ValueError("not a layer index of this version")
        entries = {path: tuple(rec) for path, rec in obj["entries"].items()}
        return cls(entries, set(obj["whiteouts"]), set(obj["opaques"]))


class IndexStore:
    """Layer indexes by blob digest: in memory, and in ``directory`` when it is writable.
    Blobs are opened with ``opener`` (the build's blob cache) when one is given.

    Stages built at once ask for indexes from their own threads, often of the same base
    layers: each layer is read by one of them while the others wait for its index (a
    layer not in the blob cache yet would otherwise be pulled once per stage)."""

    def __init__(self, directory: Path | None = None, opener: Opener | None = None) -> None:
        self.directory = directory
        self.opener = opener
        self._memory: dict[str, LayerIndex] = {}
        self._lock = threading.Lock()  # guards the two dicts
        self._reading: dict[str, threading.Lock] = {}  # one reader per digest

    def index(self, layer: Layer, *, keep: bool = True) -> LayerIndex:
        """The index of ``layer``; ``keep``: worth keeping on disk (a base's or a cached
        layer, which later builds meet again; not one this build has just made)."""
        key = str(layer.digest)
        with self._lock:
            found = self._memory.get(key)
            reading = self._reading.setdefault(key, threading.Lock())
        if found is not None:
            return found
        with reading:
            with self._lock:
                found = self._memory.get(key)
            if found is not None:  # read by the stage this one waited for
                return found
            found = self._load(key) if keep else None
            if found is None:
                found = LayerIndex.read(layer, self.opener)
                if keep:
                    self._save(key, found)
            with self._lock:
                self._memory[key] = found
            return found

    def _file(self, key: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / (key.replace(":", "-") + ".json")

    def _load(self, key: str) -> LayerIndex | None:
        path = self._file(key)
        if path is None:
            return None
        try:
            return LayerIndex.from_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.debug("layer index %s unusable (%s); reading the layer", path, e)
            return None

    def _save(self, key: str, index: LayerIndex) -> None:
        path = self._file(key)
        if path is None:
            return
        try:
            os.makedirs(path.parent, exist_ok=True)
            write_atomic(str(path), index.to_json())
        except (OSError, FilesystemError) as e:
            log.debug("cannot keep the layer index %s: %s", path, e)


class ViewTooLarge(Exception):
    """More entries are needed than a partial root is worth; extract the image instead."""


class ImageView:
    """The filesystem of stacked layer indexes (bottom first; see the module docs)."""

    def __init__(self, layers: list[LayerIndex]) -> None:
        self.layers = layers

    def _visible_from(self, path: str, top: int) -> bool:
        """Whether no layer above ``top`` hides ``path``."""
        return not any(self.layers[i].hides_below(path) for i in range(top + 1, len(self.layers)))

    def get(self, path: str) -> Record | None:
        """The entry at ``path`` (root-relative, no symlink followed), or None."""
        for top in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[top]
            rec = layer.entries.get(path)
            if rec is not None:
                return rec
            if layer.hides_below(path):
                return None
        return None

    def tree(self, directory: str) -> dict[str, Record]:
        """Every visible entry strictly below ``directory``."""
        found: dict[str, Record] = {}
        for top in range(len(self.layers) - 1, -1, -1):
            for path in self.layers[top].below(directory):
                if path not in found and self._visible_from(path, top):
                    found[path] = self.layers[top].entries[path]
        return found

    def resolve(self, path: str, visited: dict[str, Record]) -> str:
        """``path`` with symlinks followed inside the root, as a chroot would; every entry
        passed through is added to ``visited``. Missing components end the walk."""
        parts = [p for p in path.split("/") if p]
        current = ""
        hops = 0
        while parts:
            name = parts.pop(0)
            if name == "..":
                current = posixpath.dirname(current)
                continue
            candidate = posixpath.join(current, name) if current else name
            rec = self.get(candidate)
            if rec is None:
                return "/".join([candidate, *parts])
            visited[candidate] = rec
            if rec[0] == tarfile.SYMTYPE.decode():
                hops += 1
                if hops > MAX_LINKS:
                    return "/".join([candidate, *parts])
                target = rec[6]
                if target.startswith("/"):
                    current = ""
                parts = [p for p in target.split("/") if p and p != "."] + parts
                continue
            current = candidate
        return current
