"""Copying one source entry (a file, a special file, or a directory's tree) into a Dest.

Inside a copied directory nothing is followed: symlinks are copied as symlinks (dangling
ones too), fifos and device nodes as such, and files that are hard links of each other
within one source argument of the step stay hard links. Three filters may leave entries
out, each with moby's pattern rules (an entry is matched when it or a parent directory is):

* ``.dockerignore`` for the build context, on paths relative to the context;
* ``--exclude``, on paths relative to the directory being copied;
* the ``--parents`` pattern, which includes only what it matches.

A directory that is not copied itself but may hold copied entries (an exception pattern
re-includes something below it, or the ``--parents`` pattern reaches below it) is created
only when one of them is, with its own metadata, as BuildKit does.
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass, replace

from kaniko.dockerfile import patterns as gp
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.errors import BuildError
from kaniko.executor.steps.dest import Dest
from kaniko.executor.steps.entry_meta import Meta


@dataclass(frozen=True, slots=True)
class Filters:
    """What leaves entries out of a tree copy (see the module docstring)."""

    ignore: PatternMatcher | None = None
    ignore_base: str = ""  # the copied directory, relative to the context
    exclude: PatternMatcher | None = None
    include: PatternMatcher | None = None
    include_parts: tuple[str, ...] = ()  # the --parents pattern, split, for pruning

    def decide(self, rel: str, is_dir: bool) -> str:
        """``copy``, ``skip`` or (directories only) ``maybe``: walk it, create it lazily."""
        included = self.include is None or self.include.excluded(rel)
        hidden = False
        for matcher, path in (
            (self.ignore, posixpath.join(self.ignore_base, rel)),
            (self.exclude, rel),
        ):
            if matcher is not None and matcher.excluded(path):
                if not is_dir or matcher.can_skip_dir(path):
                    return "skip"
                hidden = True
        if included and not hidden:
            return "copy"
        if is_dir and (included or self._may_include_below(rel)):
            return "maybe"
        return "skip"

    def _may_include_below(self, rel: str) -> bool:
        parts = self.include_parts
        if any("**" in p for p in parts):
            return True
        names = rel.split("/")
        if len(names) >= len(parts):
            return False
        for part, name in zip(parts, names, strict=False):
            try:
                if not gp.check_glob(part, name):
                    return False
            except gp.BadPattern:
                return True
        return True


class _Dir:
    """A source directory whose destination is created when first needed."""

    def __init__(self, dest: Dest, src: str, meta: Meta, dst: str, parent: _Dir | None) -> None:
        self.dest, self.src, self.meta, self.parent = dest, src, meta, parent
        self.wanted = dst
        self.made: str | None = None

    def ensure(self) -> str:
        if self.made is None:
            if self.parent is not None:
                base = self.parent.ensure()
                self.wanted = posixpath.join(base, posixpath.basename(self.wanted))
            self.made = self.dest.directory(self.wanted, self.meta)
        return self.made


def copy_entry(dest: Dest, src: str, st: os.stat_result, dst: str) -> None:
    """Copy one non-directory at host path ``src`` to root-relative ``dst``."""
    meta = Meta.of(src, st)
    if stat.S_ISREG(st.st_mode):
        key = (st.st_dev, st.st_ino) if st.st_nlink > 1 else None
        dest.copy_file(dst, src, meta, key)
    elif stat.S_ISLNK(st.st_mode):
        dest.symlink(dst, os.readlink(src), meta)
    else:
        dest.special(dst, replace(meta, rdev=st.st_rdev))


def copy_tree(dest: Dest, src: str, dst: str, filters: Filters) -> None:
    """Copy the contents of host directory ``src`` into root-relative directory ``dst``.

    ``dst`` must exist already (the caller made it with :meth:`Dest.directory`).
    """
    root = _Dir(dest, src, Meta(stat.S_IFDIR | 0o755), dst, None)
    root.made = dst
    _walk(dest, root, "", filters)


def _walk(dest: Dest, node: _Dir, rel: str, filters: Filters) -> None:
    try:
        with os.scandir(node.src) as scan:
            names = sorted(entry.name for entry in scan)
    except OSError as e:
        raise BuildError(f"cannot read source directory {node.src}: {e.strerror or e}") from e
    for name in names:
        src = os.path.join(node.src, name)
        try:
            st = os.lstat(src)
        except FileNotFoundError:
            continue
        erel = posixpath.join(rel, name)
        is_dir = stat.S_ISDIR(st.st_mode)
        verdict = filters.decide(erel, is_dir)
        if verdict == "skip":
            continue
        if is_dir:
            child = _Dir(dest, src, Meta.of(src, st), posixpath.join(node.wanted, name), node)
            if verdict == "copy":
                child.ensure()
            _walk(dest, child, erel, filters)
        else:
            copy_entry(dest, src, st, posixpath.join(node.ensure(), name))
