"""A COPY, ADD or WORKDIR the cache could not serve, run on a partial root.

After cache hits a stage's root does not exist: its base was never extracted, its cached
layers never applied. A RUN that misses needs all of it; a COPY, ADD or WORKDIR only needs
what it reads of the destination image, and :func:`needed_entries` finds that in the
:class:`~kaniko.cache.view.ImageView` of the image built so far:

* the destination path's components, with every symlink on the way and what it leads to
  (the step follows them as a chroot would; with ``--link`` it follows none, so the
  path as written);
* what already lies at the destination, its whole tree (a directory being copied into
  keeps its owner and mode, a file in the way is replaced or refused), and the trees that
  symlinks in it lead to;
* ``/etc/passwd`` and ``/etc/group`` when a ``--chown`` or the USER (for WORKDIR) names
  a user or group;
* every parent directory of those, with its metadata, since a layer records each
  entry's parents.

:class:`PartialRoot` writes these entries (regular files as empty placeholders, but the
two user files with their content) into a fresh directory, through the same extraction as
any layer, so each entry has exactly the metadata a full extraction would give it. The
step then runs there as it would in the full root, and its snapshot sees only what the step
wrote, so its layer is the full root's layer. A destination with too large a tree (``COPY
. /``) raises :class:`~kaniko.cache.view.ViewTooLarge`: the caller extracts the image.
"""

from __future__ import annotations

import io
import logging
import posixpath
import shutil
import tarfile
from pathlib import Path

from kaniko.cache.view import ImageView, Record, ViewTooLarge
from kaniko.dockerfile.commands import Add, Copy, Workdir
from kaniko.executor.metadata import workdir_path
from kaniko.executor.workspace import Extractor
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.inventory import IgnoreFn
from kaniko.fs.unpack import apply_layer
from kaniko.oci.config import ImageConfig
from kaniko.plan.model import Step

log = logging.getLogger(__name__)

MAX_ENTRIES = 4096
"""Beyond this many entries a partial root is no cheaper than extracting the image."""

_DIR = tarfile.DIRTYPE.decode()
_REGULAR = (tarfile.REGTYPE.decode(), tarfile.AREGTYPE.decode())
_SYMLINK = tarfile.SYMTYPE.decode()
_DROPPED_PAX = frozenset({"path", "linkpath", "size"})


def destination(step: Step, config: ImageConfig) -> str:
    """The in-image path a COPY, ADD or WORKDIR step writes to (WORKDIR: already applied
    to ``config`` by the stage)."""
    instr = step.instruction
    workdir = config.config.working_dir or "/"
    if isinstance(instr, Workdir):
        return workdir_path("/", workdir)
    assert isinstance(instr, Copy | Add)
    return posixpath.join("/", workdir, instr.dest)


def needed_entries(view: ImageView, step: Step, config: ImageConfig) -> dict[str, Record]:
    """The entries of ``view`` the step reads (see the module docs)."""
    instr = step.instruction
    found: dict[str, Record] = {}
    dest = destination(step, config).strip("/")
    link = isinstance(instr, Copy | Add) and instr.link and not instr.chmod
    if link:  # nothing followed: the path as written, and what is there
        for parent in _lexical(dest):
            rec = view.get(parent)
            if rec is not None:
                found[parent] = rec
        resolved = dest
    else:
        resolved = view.resolve(dest, found)
    _add_tree(view, resolved, found, set())
    names_user = isinstance(instr, Copy | Add) and bool(instr.chown)
    if isinstance(instr, Workdir):
        names_user = bool(config.config.user)
    if names_user:
        for name in ("etc/passwd", "etc/group"):
            rec = view.get(view.resolve(name, found))
            hardlink = rec is not None and rec[0] == tarfile.LNKTYPE.decode()
            if rec is not None and (hardlink or (rec[0] in _REGULAR and rec[5])) and not rec[-1]:
                raise ViewTooLarge(f"/{name}: its content is not in the layer index")
    for path in list(found):
        for parent in _lexical(path)[:-1]:
            if parent not in found:
                rec = view.get(parent)
                if rec is not None:
                    found[parent] = rec
    if len(found) > MAX_ENTRIES:
        raise ViewTooLarge(f"{len(found)} entries at and above {destination(step, config)}")
    return found


def _lexical(path: str) -> list[str]:
    """``a``, ``a/b``, ``a/b/c`` for ``a/b/c``."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _add_tree(view: ImageView, path: str, found: dict[str, Record], seen: set[str]) -> None:
    """Add the tree at ``path`` (when it is a directory), and the trees its symlinks
    lead to."""
    if path in seen:
        return
    seen.add(path)
    if path:  # the root is always a directory
        rec = view.get(path)
        if rec is None or rec[0] != _DIR:
            return
    tree = view.tree(path)
    if len(found) + len(tree) > MAX_ENTRIES:
        raise ViewTooLarge(f"the tree at /{path} has {len(tree)} entries")
    found.update(tree)
    for link_path, link_rec in tree.items():
        if link_rec[0] == _SYMLINK:
            target = view.resolve(link_path, found)
            _add_tree(view, target, found, seen)


def _member(path: str, rec: Record) -> tuple[tarfile.TarInfo, bytes]:
    kind, mode, uid, gid, mtime, _size, linkname, major, minor, pax, kept = rec
    info = tarfile.TarInfo(path + "/" if kind == _DIR and path else (path or "./"))
    data = b""
    if kind in (*_REGULAR, tarfile.LNKTYPE.decode()):
        info.type = tarfile.REGTYPE  # a placeholder: the step never reads what it replaces
        data = (kept or "").encode("utf-8", "surrogateescape")
    else:
        info.type = kind.encode("latin-1")
        info.linkname = linkname
    info.mode, info.uid, info.gid, info.mtime = mode, uid, gid, mtime
    info.devmajor, info.devminor = major, minor
    info.size = len(data)
    info.pax_headers = {k: v for k, v in pax.items() if k not in _DROPPED_PAX}
    return info, data


def partial_layer(entries: dict[str, Record]) -> bytes:
    """``entries`` as a tar (parents before children)."""
    out = io.BytesIO()
    with tarfile.open(
        fileobj=out, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as tar:
        for path in sorted(entries, key=lambda p: (p.count("/") if p else -1, p)):
            info, data = _member(path, entries[path])
            tar.addfile(info, io.BytesIO(data) if data else None)
    return out.getvalue()


class PartialRoot:
    """A :class:`~kaniko.executor.filesystem.RootSource`: a new directory holding only
    ``entries`` of the image built so far (see the module docs)."""

    def __init__(self, extractor: Extractor, name: str, entries: dict[str, Record]) -> None:
        self.extractor = extractor
        self.name = name
        self.entries = entries
        self.root: Path | None = None

    def prepare(self) -> tuple[Path, IgnoreFn]:
        root = self.extractor.workspace.new_root(self.name)
        self.root = root
        ignore = self.extractor.ignore_list(root)
        apply_layer(io.BytesIO(partial_layer(self.entries)), root, ignore=ignore)
        log.debug("partial root %s: %d entries of the image", root, len(self.entries))
        return root, ignore.ignored_rel

    def ignore_list(self, root: Path) -> IgnoreList:
        return self.extractor.ignore_list(root)

    def remove(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
