"""A stage's root filesystem as the scanners read it: one walk, reads kept inside the root.

The root is untrusted (a base image or a RUN step made it), so nothing read here may
leave it: the walk never follows a symlink, and :meth:`RootTree.open` resolves a path
the way a process chrooted into the root would (:func:`kaniko.fs.safepath.resolve_in_root`)
and opens only a regular file, with ``O_NOFOLLOW`` on the resolved path. Reads are
bounded (:data:`MAX_METADATA`) so a hostile metadata file cannot exhaust memory.

In-place builds scan ``/`` itself: ``ignore`` (the build's ignore list) leaves out
``/proc``, ``/sys``, ``/kaniko`` and the other paths that are not part of the image.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kaniko.errors import FilesystemError
from kaniko.fs.safepath import resolve_in_root

log = logging.getLogger(__name__)

MAX_METADATA = 64 * 1024 * 1024
"""Largest metadata file (a package database, a METADATA, a package.json) read whole."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A file or directory met by the walk: its absolute path in the image and lstat."""

    path: str
    mode: int
    size: int

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.mode)

    @property
    def executable(self) -> bool:
        return self.is_file and bool(self.mode & 0o111)


class RootTree:
    """The root filesystem at ``root``, minus the paths ``ignore`` (relative) names."""

    def __init__(self, root: Path | str, ignore: Callable[[str], bool] | None = None) -> None:
        self.root = Path(root)
        self._ignore = ignore or (lambda rel: False)

    def walk(self) -> Iterator[Entry]:
        """Every directory and regular file, depth first, names sorted; no symlinks."""
        stack = [""]
        while stack:
            rel = stack.pop()
            host = os.path.join(self.root, rel) if rel else os.fspath(self.root)
            try:
                with os.scandir(host) as it:
                    children = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                log.debug("sbom: cannot list /%s: %s", rel, exc)
                continue
            subdirs: list[str] = []
            for child in children:
                child_rel = f"{rel}/{child.name}" if rel else child.name
                if self._ignore(child_rel):
                    continue
                try:
                    st = child.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    yield Entry("/" + child_rel, st.st_mode, 0)
                    subdirs.append(child_rel)
                elif stat.S_ISREG(st.st_mode):
                    yield Entry("/" + child_rel, st.st_mode, st.st_size)
            stack.extend(reversed(subdirs))

    def host_path(self, path: str) -> Path | None:
        """Where ``path`` (absolute in the image) resolves to on the host, if it is kept."""
        try:
            resolved = resolve_in_root(self.root, path)
        except FilesystemError:
            return None
        rel = os.path.relpath(resolved, self.root)
        if rel != "." and self._ignore(rel):
            return None
        return resolved

    @contextmanager
    def open(self, path: str) -> Iterator[BinaryIO]:
        """The regular file ``path``; FileNotFoundError if it is missing or not a file."""
        host = self.host_path(path)
        if host is None:
            raise FileNotFoundError(path)
        fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise FileNotFoundError(path)
            stream = os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        with stream:
            yield stream

    def read(self, path: str, limit: int = MAX_METADATA) -> bytes | None:
        """The content of regular file ``path``, or None if it is missing or too large."""
        try:
            with self.open(path) as f:
                data = f.read(limit + 1)
        except OSError:
            return None
        if len(data) > limit:
            log.warning("sbom: %s is larger than %d bytes; not read", path, limit)
            return None
        return data

    def read_text(self, path: str, limit: int = MAX_METADATA) -> str | None:
        data = self.read(path, limit)
        return None if data is None else data.decode("utf-8", "replace")

    def listdir(self, path: str) -> list[str]:
        """Names in directory ``path`` (sorted), empty if it is missing."""
        host = self.host_path(path)
        if host is None:
            return []
        try:
            return sorted(os.listdir(host))
        except OSError:
            return []
