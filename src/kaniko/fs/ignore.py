"""The ignore list: paths that are never extracted into, deleted from, or snapshotted.

Kaniko's prefix semantics: an ignored path ignores itself and everything below it, matched
on whole components (``/var/run`` ignores ``/var/run/x`` but not ``/var/running``).

Paths are always in the coordinates of the root being built, written absolute (``/proc``).
For an in-place build the root is the container's ``/`` and :meth:`IgnoreList.default`
applies; for a chroot build the root is a directory and :meth:`IgnoreList.for_root` turns
the host's mount points below that directory into root coordinates. Code that walks a root
asks with :meth:`IgnoreList.ignored_rel` and a path relative to the root (``"var/run"``),
which is also the predicate :mod:`kaniko.fs.inventory` takes.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator

from kaniko.errors import UsageError

KANIKO_DEFAULTS = ("/etc/mtab", "/tmp/apt-key-gpghome")
"""Go kaniko's built-in ignore entries (besides the kaniko directory itself)."""

KERNEL_FILESYSTEMS = ("/proc", "/sys", "/dev")
"""Always ignored: a RUN step mounts (or fakes) them, and an image must never carry them."""

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def _norm(path: str) -> str:
    """``path`` as a clean absolute path in root coordinates."""
    return posixpath.normpath("/" + path.lstrip("/"))


def mount_points(mountinfo: str) -> list[str]:
    """Every mount point listed in ``mountinfo`` text (``/proc/self/mountinfo`` format)."""
    points = []
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.append(_OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def _read_mountinfo(mountinfo: str | None) -> str:
    if mountinfo is not None:
        return mountinfo
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError:
        return ""


class IgnoreList:
    """An immutable set of ignored paths with prefix semantics."""

    __slots__ = ("_firsts", "_paths")

    def __init__(self, paths: Iterable[str] = ()) -> None:
        normed = {_norm(p) for p in paths}
        if "/" in normed:
            raise UsageError("ignoring '/' would ignore the whole file system")
        self._paths = frozenset(normed)
        # First components of every entry: most paths are rejected with one set lookup.
        self._firsts = frozenset(p.split("/", 2)[1] for p in normed)

    @classmethod
    def default(
        cls,
        kaniko_dir: str = "/kaniko",
        ignore_var_run: bool = True,
        extra: Iterable[str] = (),
        mountinfo: str | None = None,
    ) -> IgnoreList:
        """The ignore list of an in-place build, whose root is ``/``.

        The kaniko directory, ``/proc``, ``/sys``, ``/dev``, Go kaniko's defaults, every
        mount point except ``/`` (from ``mountinfo`` text, else ``/proc/self/mountinfo``),
        ``/var/run`` when ``ignore_var_run``, and ``extra`` (``--ignore-path``).
        """
        paths = [kaniko_dir, *KERNEL_FILESYSTEMS, *KANIKO_DEFAULTS, *extra]
        if ignore_var_run:
            paths.append("/var/run")
        paths.extend(p for p in mount_points(_read_mountinfo(mountinfo)) if p != "/")
        return cls(paths)

    @classmethod
    def for_root(
        cls,
        root: str | os.PathLike[str],
        *,
        ignore_var_run: bool = True,
        extra: Iterable[str] = (),
        mountinfo: str | None = None,
        kaniko_dir: str | None = None,
    ) -> IgnoreList:
        """The ignore list of a chroot build whose root is the host directory ``root``.

        Like :meth:`default`, but host mount points count only where they lie below
        ``root`` and are translated into root coordinates (``<root>/proc`` → ``/proc``);
        ``extra`` is already in root coordinates. ``kaniko_dir`` (a host path) is added
        only if it lies inside ``root``.
        """
        base = os.path.realpath(os.fspath(root))  # mountinfo lists canonical paths
        prefix = base.rstrip("/") + "/"
        paths = [*KERNEL_FILESYSTEMS, *KANIKO_DEFAULTS, *extra]
        if ignore_var_run:
            paths.append("/var/run")
        host = list(mount_points(_read_mountinfo(mountinfo)))
        if kaniko_dir is not None:
            host.append(os.path.normpath(os.path.abspath(kaniko_dir)))
        paths.extend(p[len(prefix) - 1 :] for p in host if p.startswith(prefix))
        return cls(paths)

    def with_paths(self, *paths: str | Iterable[str]) -> IgnoreList:
        """A new list with more paths; takes path strings and/or iterables of them."""
        more: list[str] = []
        for item in paths:
            if isinstance(item, str):
                more.append(item)
            else:
                more.extend(item)
        return IgnoreList([*self._paths, *more])

    @property
    def paths(self) -> tuple[str, ...]:
        """The ignored paths, sorted."""
        return tuple(sorted(self._paths))

    def ignored(self, abs_path: str) -> bool:
        """Whether ``abs_path`` (root coordinates) is ignored itself or under an ignored path."""
        return self.ignored_rel(abs_path.lstrip("/"))

    def ignored_rel(self, rel_path: str) -> bool:
        """:meth:`ignored` for a path relative to the root (``"var/run/x"``)."""
        first = rel_path.split("/", 1)[0]
        if first not in self._firsts and first not in ("", ".") and ".." not in rel_path:
            return False  # the common case: one split, one set lookup, one scan
        path = _norm(rel_path)
        while len(path) > 1:
            if path in self._paths:
                return True
            path = path[: path.rfind("/")] or "/"
        return False

    def has_ignored_below(self, abs_path: str) -> bool:
        """Whether some ignored path lies strictly below ``abs_path`` (so it cannot go)."""
        path = _norm(abs_path)
        prefix = "/" if path == "/" else path + "/"
        return any(p.startswith(prefix) for p in self._paths)

    def has_ignored_below_rel(self, rel_path: str) -> bool:
        """:meth:`has_ignored_below` for a path relative to the root."""
        return self.has_ignored_below("/" + rel_path)

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IgnoreList) and other._paths == self._paths

    def __hash__(self) -> int:
        return hash(self._paths)

    def __repr__(self) -> str:
        return f"IgnoreList({list(self.paths)!r})"
