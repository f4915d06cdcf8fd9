"""Paths inside a root directory, resolved the way a process chrooted into it would see them.

Every path handed to these helpers is in the coordinates of the root being built: ``/etc``
and ``etc`` both name ``<root>/etc``. Three operations, from cheapest to most careful:

* :func:`clean_relpath` normalises a name lexically (no file system access) and refuses one
  that climbs above the root with ``..``; tar member names go through it.
* :func:`safe_join` is ``root / clean_relpath(path)``: it never looks at symlinks, so use it
  only where no component can be a link (or where the caller checks).
* :func:`resolve_in_root` (and :func:`resolve_rel`, which returns the relative form) follows
  symlinks component by component as the kernel would after ``chroot(root)``: an absolute
  link target restarts at the root, ``..`` stops at the root, more than 40 links is an
  ``ELOOP`` error. Components that do not exist are kept lexically, so the result also names
  where a new entry would go. The result never leaves the root.

Resolution happens in user space with ``lstat``/``readlink``; it is safe against hostile
*content* (links planted by image layers), not against another process changing the tree
concurrently, which nothing does while kaniko extracts or snapshots.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kaniko.errors import FilesystemError

MAX_SYMLINKS = 40
"""Symlinks followed in one resolution before giving up, as Linux's ``MAXSYMLINKS``."""


def clean_relpath(path: str) -> str:
    """``path`` as a root-relative path without empty, ``.`` or ``..`` components.

    ``"/a//./b/"`` gives ``"a/b"``; the root itself gives ``""``. A ``..`` that would climb
    above the root raises :class:`FilesystemError`.
    """
    parts: list[str] = []
    for comp in path.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if not parts:
                raise FilesystemError(f"{path!r}: path escapes the root")
            parts.pop()
        else:
            parts.append(comp)
    return "/".join(parts)


def safe_join(root: str | os.PathLike[str], path: str) -> Path:
    """``root`` joined with ``path`` lexically; no symlink is looked at (see module doc)."""
    rel = clean_relpath(path)
    return Path(root) / rel if rel else Path(root)


def full_path(root: str | os.PathLike[str], rel: str) -> str:
    """The host path of ``rel`` (already clean) under ``root``, as a string."""
    base = os.fspath(root)
    if not rel:
        return base
    return base + rel if base.endswith("/") else f"{base}/{rel}"


def resolve_rel(root: str | os.PathLike[str], path: str, *, follow_final: bool = True) -> str:
    """Resolve ``path`` inside ``root`` as a chroot would; return it relative to ``root``.

    With ``follow_final=False`` a symlink in the last component is not followed (as
    ``lstat`` or ``unlink`` would treat it). Raises :class:`FilesystemError` on a symlink loop.
    """
    base = os.fspath(root)
    todo = path.split("/")
    todo.reverse()  # next component at the end: pop() is O(1)
    _drop_trailing_noise(todo)
    parts: list[str] = []
    followed = 0
    while todo:
        comp = todo.pop()
        if comp in ("", "."):
            continue
        if comp == "..":
            if parts:
                parts.pop()
            continue
        parts.append(comp)
        _drop_trailing_noise(todo)
        if not todo and not follow_final:
            break
        current = full_path(base, "/".join(parts))
        try:
            st = os.lstat(current)
        except (FileNotFoundError, NotADirectoryError):
            continue  # kept lexically: where a new entry would be created
        if not stat.S_ISLNK(st.st_mode):
            continue
        followed += 1
        if followed > MAX_SYMLINKS:
            raise FilesystemError(f"{path!r}: too many levels of symbolic links (ELOOP)")
        target = os.readlink(current)
        parts.pop()
        if target.startswith("/"):
            parts.clear()
        pieces = target.split("/")
        pieces.reverse()
        todo.extend(pieces)
        _drop_trailing_noise(todo)
    return "/".join(parts)


def resolve_in_root(root: str | os.PathLike[str], path: str, *, follow_final: bool = True) -> Path:
    """Like :func:`resolve_rel` but returns the host path ``root / resolved``."""
    rel = resolve_rel(root, path, follow_final=follow_final)
    return Path(root) / rel if rel else Path(root)


def is_within(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Whether host ``path`` is ``root`` or lies below it, compared lexically."""
    base = os.path.normpath(os.fspath(root))
    target = os.path.normpath(os.fspath(path))
    return target == base or target.startswith(base.rstrip("/") + "/")


def _drop_trailing_noise(todo: list[str]) -> None:
    """Drop no-op components (``""``, ``"."``) that come next in the reversed pending list.

    Afterwards the list is empty exactly when no real component (``..`` counts) remains.
    """
    while todo and todo[-1] in ("", "."):
        todo.pop()
