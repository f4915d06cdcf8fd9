"""COPY and ADD: the step that writes files from a source root into the stage's root.

:func:`copy_step` works in two phases. First it checks everything that can fail before a
byte is written: the flags, the ``--chown`` user (in the destination image's own
``/etc/passwd`` and ``/etc/group``, as BuildKit's file operation: a name not there is
uid 0, see :func:`kaniko.fs.users.resolve_chown`), every source (missing ones, with
near names; ones outside the source root), and it downloads ADD's URLs (status,
checksum). Then it writes, each file under a temporary name renamed into place, and
returns what it wrote.

Semantics are BuildKit's (see :mod:`.sources`, :mod:`.tree`, :mod:`.dest`, :mod:`.archive`,
:mod:`.fetch`, :mod:`.chmod` for each part):

* the destination is taken relative to WORKDIR; it is a directory when it ends with ``/``
  (or is ``.``) or is an existing directory; several sources need one, else it is an error
  (Docker's rule, where BuildKit would silently keep the last file);
* a directory source copies its contents; a file lands in a directory destination under
  its own name (a symlink source under the symlink's name, with its target's content);
* missing parent directories are created with mode 0755 and the ``--chown`` owner;
* owners are 0:0 for the build context, heredocs and URLs, the source's own for
  ``--from`` (as BuildKit and buildah keep them), or the ``--chown`` owner for everything;
* ``--chmod`` applies to every file and directory copied, modes and mtimes are otherwise
  kept from the source; heredocs are files of mode 0644;
* ``--link`` (as BuildKit, only without ``--chmod``) follows no symlink of the image on the
  destination path: symlinked parents become directories, as in the linked layer;
* ``--parents`` keeps each source's path below the ``/./`` pivot (or the root);
  ``--exclude`` leaves out matching entries (and matching wildcard matches);
* ADD extracts local tar archives (``--unpack=false`` prevents it; ``--unpack=true``
  also extracts a downloaded one), downloads http(s) URLs and checks git repositories
  out (:mod:`.gitsource`; ``--keep-git-dir`` keeps ``.git``, ``--checksum`` names the
  commit).

``user`` (the stage's USER) is accepted but never used: Docker does not apply USER to
COPY/ADD ownership.
"""

from __future__ import annotations

import logging
import os
import posixpath
import stat
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from kaniko.dockerfile.commands import Add, Copy
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.dockerfile.heredoc import heredoc_body
from kaniko.errors import BuildError, FilesystemError
from kaniko.executor.steps import archive, fetch
from kaniko.executor.steps.chmod import parse_chmod
from kaniko.executor.steps.dest import Dest
from kaniko.executor.steps.entry_meta import Meta, Policy
from kaniko.executor.steps.sources import Found, Root, clean_source, find, has_wildcards
from kaniko.executor.steps.sources import pattern_matcher as make_matcher
from kaniko.executor.steps.tree import Filters, copy_entry, copy_tree
from kaniko.fs.safepath import resolve_rel
from kaniko.fs.users import resolve_chown
from kaniko.iotools import write_all

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CopySource:
    """Where sources are read from: the build context, or a stage's or image's root."""

    root: Path
    matcher: PatternMatcher | None  # .dockerignore; only for the build context
    is_context: bool


@dataclass(frozen=True, slots=True)
class _Item:
    """One thing to place: a found entry, a --parents tree, a heredoc or a download."""

    kind: str  # "found", "parents", "heredoc", "url", "tree" (a git checkout)
    found: Found | None = None
    include: PatternMatcher | None = None
    include_parts: tuple[str, ...] = ()
    name: str = ""
    data: bytes = b""
    download: fetch.Download | None = None
    path: str = ""  # "tree": the host directory whose contents are copied
    source: int = 0  # which source argument it came from: hard links never cross two


def copy_step(
    instr: Copy | Add,
    *,
    source: CopySource,
    dest_root: Path,
    workdir: str,
    user: str = "",
    http: httpx.Client | None = None,
) -> list[str]:
    """Perform ``instr`` into ``dest_root``; return the in-image paths written, sorted."""
    keyword = instr.keyword
    _validate(instr)
    chmod = parse_chmod(instr.chmod) if instr.chmod else None
    owner = None
    if instr.chown:
        try:
            owner = resolve_chown(Path(dest_root), instr.chown)
        except BuildError as e:
            raise BuildError(f"{keyword} {e}") from None
    where = "the build context" if source.is_context else "the --from source"
    root = Root(str(source.root), source.matcher if source.is_context else None, where)
    exclude = make_matcher(instr.exclude, keyword, "--exclude")
    dest_path = posixpath.join("/", workdir or "/", instr.dest)
    dir_syntax = instr.dest.endswith("/") or instr.dest in ("", ".")
    link = instr.link and not instr.chmod
    downloads = any(fetch.is_url(src) or fetch.is_git(src) for src in instr.sources)
    spool = tempfile.TemporaryDirectory(prefix="kaniko-add-") if downloads else nullcontext("")
    with spool as tmp:
        items = _plan(instr, root, exclude, tmp, http)
        if not items:
            log.warning("%s: no source file matches; nothing copied", instr.original or keyword)
            return []
        if len(items) > 1 and not dir_syntax and not _existing_dir(dest_root, dest_path, link):
            raise BuildError(
                f"When using {keyword} with more than one source file, "
                "the destination must be a directory and end with a /"
            )
        default_owner = (0, 0) if source.is_context else None
        policy = Policy(owner if owner is not None else default_owner, chmod)
        dest = Dest(str(dest_root), policy, link=link)
        target = dest.resolve(dest_path)
        try:
            for number, item in enumerate(items):
                if number and item.source != items[number - 1].source:
                    dest.next_source()
                _place(item, instr, root, dest, target, dir_syntax, exclude, owner)
        finally:
            written = dest.finish()
    return written


def _validate(instr: Copy | Add) -> None:
    keyword = instr.keyword
    for src in instr.sources:
        if isinstance(instr, Copy) and (fetch.is_url(src) or fetch.is_git(src)):
            raise BuildError(f"COPY {src}: source can't be a URL or git repository for COPY")
    if isinstance(instr, Add) and instr.checksum:
        if len(instr.sources) + len(instr.contents) != 1:
            raise BuildError(f"{keyword}: checksum can't be specified for multiple sources")
        source = instr.sources[0] if instr.sources else ""
        if fetch.is_git(source):
            from kaniko.executor.steps import gitsource  # dulwich: only for ADD of git

            gitsource.parse_checksum(instr.checksum)
        elif fetch.is_url(source):
            fetch.parse_checksum(instr.checksum, keyword)
        else:
            raise BuildError(f"{keyword}: checksum requires HTTP(S) or Git sources")


def _plan(
    instr: Copy | Add,
    root: Root,
    exclude: PatternMatcher | None,
    tmp: str,
    http: httpx.Client | None,
) -> list[_Item]:
    """Every item to place, with every source checked (and every URL downloaded)."""
    keyword = instr.keyword
    items: list[_Item] = []
    for index, src in enumerate(instr.sources):
        if isinstance(instr, Add) and fetch.is_git(src):
            from kaniko.executor.steps import gitsource  # dulwich: only for ADD of git

            scratch = os.path.join(tmp, f"git-{index}")
            os.mkdir(scratch)
            tree = gitsource.checkout(
                src, Path(scratch), keep_git_dir=instr.keep_git_dir, checksum=instr.checksum
            )
            items.append(_Item("tree", path=str(tree), source=index))
        elif fetch.is_url(src):
            checksum = None
            if isinstance(instr, Add) and instr.checksum:
                checksum = fetch.parse_checksum(instr.checksum, keyword)
            path = os.path.join(tmp, str(index))
            got = fetch.download(src, path, client=http, checksum=checksum, keyword=keyword)
            items.append(_Item("url", name=got.name, download=got, source=index))
        elif isinstance(instr, Copy) and instr.parents:
            items.extend(replace(i, source=index) for i in _plan_parents(src, keyword, root))
        else:
            for found in find(src, keyword, root):
                if found.matched and exclude is not None and exclude.excluded(found.matched):
                    continue
                items.append(_Item("found", found=found, source=index))
    for index, doc in enumerate(instr.contents, start=len(instr.sources)):
        data = heredoc_body(doc).encode("utf-8", "surrogateescape")
        name = posixpath.basename(doc.name)
        items.append(_Item("heredoc", name=name, data=data, source=index))
    return items


def _plan_parents(src: str, keyword: str, root: Root) -> list[_Item]:
    """``--parents``: the pivot (``a/./b``) or the root, and the pattern below it."""
    base, sep, pattern = src.partition("/./")
    if not sep:
        base, pattern = "/", src
    pattern = clean_source(pattern, keyword, root)
    if not has_wildcards(base) and not has_wildcards(pattern):
        find(posixpath.join(base, pattern), keyword, root)  # must exist
    if not pattern:
        return [_Item("found", found=f) for f in find(base, keyword, root)]
    include = make_matcher((pattern,), keyword, "--parents")
    parts = tuple(pattern.split("/"))
    return [
        _Item("parents", found=f, include=include, include_parts=parts)
        for f in find(base, keyword, root)
    ]


def _existing_dir(dest_root: Path, dest_path: str, link: bool) -> bool:
    if link:
        return False
    try:
        return os.path.isdir(os.path.join(dest_root, resolve_rel(dest_root, dest_path)))
    except (FilesystemError, OSError):
        return False


def _place(
    item: _Item,
    instr: Copy | Add,
    root: Root,
    dest: Dest,
    target: str,
    dir_syntax: bool,
    exclude: PatternMatcher | None,
    owner: tuple[int, int] | None,
) -> None:
    label = f"{instr.keyword} {item.found.real if item.found else item.name}"
    if item.kind == "tree":
        st = os.lstat(item.path)
        dest.make_parents(posixpath.dirname(target))
        top = dest.directory(target, Meta.of(item.path, st), top=True)
        copy_tree(dest, item.path, top, Filters())
        return
    if item.kind in ("heredoc", "url"):
        now = time.time_ns()
        if item.kind == "heredoc":
            meta = Meta(stat.S_IFREG | 0o644, 0, 0, now, now)
            dst = _file_target(dest, target, item.name, dir_syntax)
            dest.make_parents(posixpath.dirname(dst))
            dest.file(dst, meta, lambda fd: write_all(fd, item.data))
            return
        got = item.download
        assert got is not None
        if isinstance(instr, Add) and instr.unpack and archive.is_archive(got.path):
            _extract(got.path, dest, target, owner, f"{instr.keyword} {fetch.shown(got.url)}")
            return
        meta = Meta(stat.S_IFREG | 0o600, 0, 0, got.mtime_ns, got.mtime_ns)
        dst = _file_target(dest, target, item.name, dir_syntax)
        dest.make_parents(posixpath.dirname(dst))
        dest.copy_file(dst, got.path, meta, None)
        return
    found = item.found
    assert found is not None
    src = root.full(found.real)
    st = os.lstat(src)
    if stat.S_ISDIR(st.st_mode):
        dest.make_parents(posixpath.dirname(target))
        top = dest.directory(target, Meta.of(src, st), top=True)
        filters = Filters(root.matcher, found.real, exclude, item.include, item.include_parts)
        copy_tree(dest, src, top, filters)
        return
    unpack = isinstance(instr, Add) and instr.unpack is not False
    if unpack and stat.S_ISREG(st.st_mode) and archive.is_archive(src):
        _extract(src, dest, target, owner, label)
        return
    dst = _file_target(dest, target, found.name, dir_syntax)
    dest.make_parents(posixpath.dirname(dst))
    copy_entry(dest, src, st, dst)


def _file_target(dest: Dest, target: str, name: str, dir_syntax: bool) -> str:
    if dir_syntax or dest.is_dir(target):
        return posixpath.join(target, name) if target else name
    return target


def _extract(path: str, dest: Dest, target: str, owner: tuple[int, int] | None, label: str) -> None:
    dest.make_parents(posixpath.dirname(target))
    top = dest.directory(target, None, top=True)
    archive.extract(path, dest.derive(Policy(owner, None), replace=True), top, label)
