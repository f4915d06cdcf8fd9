"""Read any image from a registry into a comparable model, independently of kaniko.

``flatten(ref)`` fetches the image byte for byte (``skopeo copy … dir:``, which never
converts formats) and applies its layers in order, in memory, with the standard library's
``tarfile``: whiteouts (``.wh.NAME``) and opaque markers (``.wh..wh..opq``) hide what lower
layers hold, a non-directory replaces a directory with its whole subtree, hardlinks share
one identity, devices and fifos are metadata. Nothing is extracted to disk, so kaniko's own
unpacker is never its own oracle. (zstd layers, which the standard library cannot read,
go through the ``zstandard`` module.)

What a :class:`Tree` holds, per absolute path: type, permission bits with setuid/setgid/
sticky, numeric ids, size and sha256 of regular files, link targets, device numbers,
xattrs and the group of paths hardlinked together. **Mtimes are deliberately left out**:
two builders legitimately stamp files at different times. The root directory itself is
left out too (builders disagree on whether a layer carries an entry for it).

``compare_trees`` and ``compare_configs`` turn two images into readable differences.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import io
import json
import posixpath
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from tests.lab.tools import require_tool

FILE, DIR, SYMLINK, CHAR, BLOCK, FIFO = "file", "dir", "symlink", "char", "block", "fifo"
INLINE_LIMIT = 512  # regular files up to this size keep their bytes (for readable diffs)
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_TYPES = {
    **dict.fromkeys((tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE), FILE),
    **{tarfile.GNUTYPE_SPARSE: FILE, tarfile.DIRTYPE: DIR, tarfile.SYMTYPE: SYMLINK},
    **{tarfile.CHRTYPE: CHAR, tarfile.BLKTYPE: BLOCK, tarfile.FIFOTYPE: FIFO},
}


class LabToolError(RuntimeError):
    """An external tool of the lab (skopeo, buildah, umoci, crun …) failed."""


def run_tool(
    argv: Sequence[str],
    *,
    timeout: float,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> subprocess.CompletedProcess:
    """Run a lab tool; on failure raise :class:`LabToolError` with its output's tail."""
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
            env=env,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabToolError(f"{what}: timed out after {timeout:.0f}s: {' '.join(argv)}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + "\n" + done.stderr).strip().splitlines()[-40:])
        raise LabToolError(f"{what} exited {done.returncode}: {' '.join(argv)}\n{tail}")
    return done


@dataclass(frozen=True)
class Entry:
    """One path of a flattened image. Compared fields are listed in ``COMPARED``."""

    type: str
    mode: int  # permission bits incl. setuid/setgid/sticky (mode & 0o7777)
    uid: int
    gid: int
    size: int = 0  # regular files only
    sha256: str = ""  # regular files only
    linkname: str = ""  # symlink target, as stored
    device: tuple[int, int] | None = None  # (major, minor) for char/block devices
    xattrs: Mapping[str, bytes] = field(default_factory=dict)
    hardlinks: tuple[str, ...] = ()  # every path sharing this inode (incl. this one), or ()
    data: bytes | None = field(default=None, compare=False, repr=False)  # small files only
    inode: int = field(default=0, compare=False, repr=False)


COMPARED = ("type", "mode", "uid", "gid", "size", "sha256", "linkname", "device", "xattrs")


class Tree(Mapping[str, Entry]):
    """A flattened filesystem: absolute path -> :class:`Entry` (the root excluded)."""

    def __init__(self, entries: Mapping[str, Entry]) -> None:
        self._entries = dict(sorted(entries.items()))

    def __getitem__(self, path: str) -> Entry:
        return self._entries[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def without(self, paths: Iterable[str]) -> Tree:
        """A copy without ``paths`` (each removed with its subtree)."""
        prefixes = tuple(path + "/" for path in paths)
        builder = _Builder()  # recomputes hardlink groups without the removed paths
        builder.entries = {
            p: e for p, e in self._entries.items() if not (p + "/").startswith(prefixes)
        }
        return builder.tree()


# -- reading images ----------------------------------------------------------------------


def fetch(ref: str, directory: Path) -> tuple[dict, dict, list[Path]]:
    """Copy ``ref`` into ``directory`` unchanged; return (manifest, config, layer files)."""
    skopeo = require_tool("skopeo")
    run_tool(
        [skopeo, "--insecure-policy", "copy", "-q", "--src-tls-verify=false",
         f"docker://{ref}", f"dir:{directory}"],
        timeout=300,
        what="skopeo copy",
    )  # fmt: skip
    manifest = json.loads((directory / "manifest.json").read_bytes())
    config_hex = manifest["config"]["digest"].split(":", 1)[1]
    config_document = json.loads((directory / config_hex).read_bytes())
    layers = [directory / layer["digest"].split(":", 1)[1] for layer in manifest["layers"]]
    return manifest, config_document, layers


def image_config(ref: str) -> dict:
    """The whole image config document of ``ref`` (what the manifest's config names)."""
    skopeo = require_tool("skopeo")
    done = run_tool(
        [skopeo, "inspect", "--config", "--raw", "--tls-verify=false", f"docker://{ref}"],
        timeout=60,
        what="skopeo inspect",
    )
    return json.loads(done.stdout)


def config(ref: str) -> dict:
    """The ``config`` section of ``ref``'s image config (Env, Cmd, Entrypoint …)."""
    return image_config(ref).get("config") or {}


def history(ref: str) -> list[dict]:
    """The ``history`` list of ``ref``'s image config."""
    return image_config(ref).get("history") or []


def flatten(ref: str) -> Tree:
    """Fetch ``ref`` from its registry and flatten its layers."""
    with tempfile.TemporaryDirectory(prefix="kaniko-flatten-") as tmp:
        _, _, layers = fetch(ref, Path(tmp) / "image")
        return flatten_layers(layers)


def flatten_layers(layers: Iterable[Path | bytes]) -> Tree:
    """Apply layer blobs (files or bytes; gzip, zstd or plain tar) bottom-up."""
    builder = _Builder()
    for layer in layers:
        if isinstance(layer, bytes):
            builder.apply(_read_layer(io.BytesIO(layer)))
        else:
            with open(layer, "rb") as raw:
                builder.apply(_read_layer(raw))
    return builder.tree()


def _decompressed(raw: BinaryIO) -> BinaryIO:
    magic = raw.read(4)
    raw.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]  # reads as one
    if magic == b"\x28\xb5\x2f\xfd":
        import zstandard  # not in the standard library; an implementation kaniko does not own

        return zstandard.ZstdDecompressor().stream_reader(raw)
    return raw


def _clean(name: str) -> str:
    if ".." in name.split("/"):
        raise ValueError(f"layer entry escapes the root: {name!r}")
    return posixpath.normpath("/" + name.lstrip("/"))


@dataclass
class _Layer:
    whiteouts: list[str] = field(default_factory=list)
    opaques: list[str] = field(default_factory=list)
    items: list[tuple[str, Entry | str]] = field(default_factory=list)  # str: hardlink target


def _xattrs(member: tarfile.TarInfo) -> dict[str, bytes]:
    prefix = "SCHILY.xattr."  # values are bytes; tarfile hands them over surrogate-escaped
    return {
        key[len(prefix) :]: value.encode("utf-8", "surrogateescape")
        for key, value in member.pax_headers.items()
        if key.startswith(prefix)
    }


def _read_layer(raw: BinaryIO) -> _Layer:
    layer = _Layer()
    with tarfile.open(fileobj=_decompressed(raw), mode="r|", errors="surrogateescape") as tar:
        for member in tar:
            path = _clean(member.name)
            base = posixpath.basename(path)
            if base == OPAQUE:
                layer.opaques.append(posixpath.dirname(path))
                continue
            if base.startswith(WHITEOUT):
                if not base.startswith(WHITEOUT + WHITEOUT):  # .wh..wh.* is AUFS metadata
                    layer.whiteouts.append(posixpath.join(posixpath.dirname(path), base[4:]))
                continue
            if member.islnk():
                layer.items.append((path, _clean(member.linkname)))
                continue
            kind = _TYPES.get(member.type)
            if kind is None:
                raise ValueError(f"unsupported tar entry type {member.type!r} for {path}")
            entry = Entry(
                kind, member.mode & 0o7777, member.uid, member.gid, xattrs=_xattrs(member)
            )
            if kind == FILE:
                entry = _with_content(entry, tar, member)
            elif kind == SYMLINK:
                entry = replace(entry, linkname=member.linkname)
            elif kind in (CHAR, BLOCK):
                entry = replace(entry, device=(member.devmajor, member.devminor))
            layer.items.append((path, entry))
    return layer


def _with_content(entry: Entry, tar: tarfile.TarFile, member: tarfile.TarInfo) -> Entry:
    digest = hashlib.sha256()
    stream = tar.extractfile(member)
    assert stream is not None
    size = 0
    head = b""
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        if size < INLINE_LIMIT:
            head += chunk[: INLINE_LIMIT + 1 - size]
        size += len(chunk)
    data = head if size <= INLINE_LIMIT else None
    return replace(entry, size=size, sha256=digest.hexdigest(), data=data)


class _Builder:
    """The tree under construction, with a children index for fast subtree removal."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.children: dict[str, set[str]] = {}
        self._inodes = 0

    def remove(self, path: str) -> None:
        for child in self.children.pop(path, set()):
            self.remove(child)
        if self.entries.pop(path, None) is not None:
            self.children.get(posixpath.dirname(path), set()).discard(path)

    def add(self, path: str, entry: Entry) -> None:
        parent = posixpath.dirname(path)
        if parent != "/" and self.entries.get(parent, Entry(FILE, 0, 0, 0)).type != DIR:
            self.add(parent, Entry(DIR, 0o755, 0, 0))  # implicit parent, as runtimes do
        old = self.entries.get(path)
        if old is not None and (old.type != DIR or entry.type != DIR):
            self.remove(path)  # a non-directory replaces what was there, subtree and all
        self._inodes += 1
        self.entries[path] = replace(entry, inode=entry.inode or self._inodes)
        self.children.setdefault(parent, set()).add(path)

    def apply(self, layer: _Layer) -> None:
        # Whiteouts and opaque markers hide lower layers only, never their own layer.
        for path in layer.whiteouts:
            self.remove(path)
        for directory in layer.opaques:
            for child in list(self.children.get(directory, ())):
                self.remove(child)
        for path, item in layer.items:
            if path == "/":
                continue
            if isinstance(item, str):
                target = self.entries.get(item)
                if target is None:
                    raise ValueError(f"hardlink {path} -> {item}: target not in the image")
                self.add(path, target)  # same inode: the link shares the target's identity
            else:
                self.add(path, item)

    def tree(self) -> Tree:
        groups: dict[int, list[str]] = {}
        for path, entry in self.entries.items():
            if entry.type != DIR:
                groups.setdefault(entry.inode, []).append(path)
        linked = {path: tuple(sorted(g)) for g in groups.values() if len(g) > 1 for path in g}
        return Tree(
            {
                path: replace(entry, hardlinks=linked.get(path, ()))
                for path, entry in self.entries.items()
            }
        )


# -- comparing ---------------------------------------------------------------------------

CONFIG_FIELDS = (
    "Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels",
    "StopSignal", "Healthcheck", "Shell", "OnBuild",
)  # fmt: skip


def _entry_differences(path: str, a: Entry, b: Entry, keep: Callable[[str], bool]) -> list[str]:
    found = []
    for name in COMPARED:
        av, bv = getattr(a, name), getattr(b, name)
        if av == bv or (name == "size" and a.sha256 != b.sha256):
            continue  # a size difference is reported with the content
        if name == "sha256" and a.data is not None and b.data is not None:
            found.append(f"{path}: content {a.data!r} != {b.data!r}")
        elif name == "sha256":
            found.append(f"{path}: content differs (size {a.size} != {b.size})")
        else:
            show = oct if name == "mode" else repr
            found.append(f"{path}: {name} {show(av)} != {show(bv)}")
    links_a = [p for p in a.hardlinks if keep(p)]
    links_b = [p for p in b.hardlinks if keep(p)]
    links_a, links_b = (x if len(x) > 1 else [] for x in (links_a, links_b))  # alone: no link
    if links_a != links_b:
        found.append(f"{path}: hardlinked with {links_a} != {links_b}")
    return found


def compare_trees(
    a: Tree,
    b: Tree,
    *,
    allow: Mapping[str, str] | None = None,
    labels: tuple[str, str] = ("a", "b"),
) -> list[str]:
    """Readable differences between two trees; [] when they match.

    ``allow`` maps glob patterns (``fnmatch``: ``*`` also crosses ``/``) of paths that may
    differ to the reason why. A directory present on one side only is reported once, with
    the number of entries under it. Mtimes are not compared (see the module docstring).
    """
    patterns = list(allow or {})

    def keep(path: str) -> bool:
        return not any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)

    found: list[str] = []
    skip_under = ""
    skipped = 0
    for path in sorted(set(a) | set(b), key=lambda p: p.split("/")):  # a dir, then its tree
        if skip_under and path.startswith(skip_under):
            skipped += 1
            continue
        if skipped:
            found[-1] += f" (and {skipped} entries under it)"
        skip_under, skipped = "", 0
        if not keep(path):
            continue
        if path not in b or path not in a:
            side, entry = (labels[0], a[path]) if path in a else (labels[1], b[path])
            found.append(f"{path}: only in {side} ({entry.type})")
            if entry.type == DIR:
                skip_under = path + "/"
            continue
        found.extend(_entry_differences(path, a[path], b[path], keep))
    if skipped:
        found[-1] += f" (and {skipped} entries under it)"
    return found


def _normal(name: str, value: object) -> object:
    """Absent, null, "", [] and {} mean the same; so do zero and absent Healthcheck fields."""
    if name == "Healthcheck" and isinstance(value, dict):
        value = {k: v for k, v in value.items() if v not in (None, "", [], 0)}
    return None if value in ("", [], {}) else value


def compare_configs(
    a: Mapping[str, object],
    b: Mapping[str, object],
    fields: Iterable[str] = CONFIG_FIELDS,
    *,
    labels: tuple[str, str] = ("a", "b"),
) -> list[str]:
    """Readable differences between two image ``config`` sections over ``fields``.

    Missing, null and empty values are equal (``Entrypoint: []`` runs like no entrypoint),
    and zero durations inside Healthcheck equal absent ones (both mean the default).
    """
    found = []
    for name in fields:
        av, bv = _normal(name, a.get(name)), _normal(name, b.get(name))
        if av != bv:
            found.append(
                f"{name}: {json.dumps(av, sort_keys=True)} ({labels[0]}) != "
                f"{json.dumps(bv, sort_keys=True)} ({labels[1]})"
            )
    return found
