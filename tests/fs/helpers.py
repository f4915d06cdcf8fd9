"""Helpers shared by the extraction and layer-writing tests (this module holds no tests).

Layers are built here with :mod:`tarfile`, member by member, so each test states exactly
which headers a hostile or unusual layer carries. :func:`tree` describes a directory the
way the round-trip tests compare trees: type, mode, ids, content, link target, xattrs and
mtime per path.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from kaniko.fs.unpack import UnpackStats, apply_layer
from kaniko.oci.compress import compressor

MTIME = 1_600_000_000

_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
}


@dataclass
class M:
    """A tar member to put in a test layer."""

    name: str
    kind: str = "file"
    data: bytes = b""
    mode: int | None = None
    uid: int = 0
    gid: int = 0
    link: str = ""
    mtime: int = MTIME
    pax: dict[str, str] = field(default_factory=dict)
    dev: tuple[int, int] = (0, 0)

    def info(self) -> tarfile.TarInfo:
        info = tarfile.TarInfo(self.name)
        info.type = _TYPES[self.kind]
        default_mode = 0o755 if self.kind == "dir" else 0o644
        info.mode = default_mode if self.mode is None else self.mode
        info.uid, info.gid, info.mtime = self.uid, self.gid, self.mtime
        info.linkname = self.link
        info.size = len(self.data) if self.kind == "file" else 0
        info.devmajor, info.devminor = self.dev
        info.pax_headers = dict(self.pax)
        return info


def layer(*members: M, compression: str = "none") -> bytes:
    """The bytes of a layer made of ``members`` (PAX), compressed as asked."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            info = m.info()
            tar.addfile(info, io.BytesIO(m.data) if m.kind == "file" else None)
    comp = compressor(compression)
    return comp.compress(raw.getvalue()) + comp.flush()


def apply(root: Path, *members: M, **kwargs: object) -> UnpackStats:
    """Apply a layer of ``members`` to ``root``."""
    return apply_layer(io.BytesIO(layer(*members)), root, **kwargs)


def xattrs_of(path: str) -> dict[str, bytes]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    return {
        n: os.getxattr(path, n, follow_symlinks=False) for n in names if n != "security.selinux"
    }


def describe(path: str, *, times: bool = True) -> tuple[object, ...]:
    """What the round-trip tests compare for one path."""
    st = os.lstat(path)
    fmt = stat.S_IFMT(st.st_mode)
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as f:
            payload: object = f.read()
    elif stat.S_ISLNK(st.st_mode):
        payload = os.readlink(path)
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        payload = (os.major(st.st_rdev), os.minor(st.st_rdev))
    else:
        payload = None
    mtime = st.st_mtime_ns if times else None
    nlink = None if stat.S_ISDIR(st.st_mode) else st.st_nlink
    ids = (st.st_uid, st.st_gid)
    return (fmt, stat.S_IMODE(st.st_mode), ids, nlink, payload, xattrs_of(path), mtime)


def tree(root: Path, *, times: bool = True) -> dict[str, tuple[object, ...]]:
    """Every path below ``root`` (relative, as bytes-safe str) described by :func:`describe`."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = describe(full, times=times)
    return out


def snapshot_outside(base: Path, root: Path) -> dict[str, tuple[object, ...]]:
    """Everything under ``base`` except ``root``'s own tree: what a hostile layer must not touch."""
    inside = root.name + "/"
    return {k: v for k, v in tree(base).items() if k != root.name and not k.startswith(inside)}
