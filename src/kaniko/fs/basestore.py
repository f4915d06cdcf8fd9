"""Extracted base images kept between builds: one tree per layer chain, shared by every build.

A build whose stage root is an overlay (:mod:`kaniko.snapshot.overlay`) reads its base
from a read-only lower directory, so the extracted base can outlive the build: the next
build on the same base extracts nothing. :class:`BaseStore` keeps such trees under one
directory per machine (``--extracted-base-dir``, default ``<kaniko dir>/extracted``; not
the ``--cache-dir`` of base-image tarballs), each named by its key (the chain ID of the
image's layers, see :func:`chain_id`, plus what decided which paths were extracted)::

    <dir>/trees/<key>/        the extracted tree (appears whole, by a rename)
    <dir>/trees/<key>.json    its size in bytes; its mtime is when it was last used
    <dir>/trees/<key>.lock    shared by every build using (or making) the tree, exclusive
                              to evict it
    <dir>/trees/<key>.make    exclusive while one build makes the tree
    <dir>/tmp/<key>/          a tree being made (a killed maker's is removed on retry)
    <dir>/lock                exclusive while trees are counted and evicted

Locks are ``flock`` locks, so a killed build's locks go with it. Builds on the same base
wait for one extraction (the maker holds the key's ``.make`` lock) and then share the
tree (each holds it shared until :meth:`BaseStore.close`), as concurrent stages of one
build do. After a tree is made, the least recently used trees no build is using are
removed until the store is within its size limit; a tree larger than the whole limit is
kept until the next eviction. Trees are never written after they are made.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from kaniko.oci.digest import Digest

log = logging.getLogger(__name__)


def chain_id(diff_ids: Sequence[Digest]) -> str:
    """The OCI chain ID of layers with ``diff_ids``, as hex (the empty chain: ``empty``)."""
    chain = ""
    for diff_id in diff_ids:
        text = str(diff_id)
        if chain:
            text = "sha256:" + hashlib.sha256(f"{chain} {text}".encode()).hexdigest()
        chain = text
    return chain.partition(":")[2] or "empty"


def tree_size(root: Path) -> int:
    """Bytes the tree under ``root`` takes on disk (hard links counted once)."""
    total, seen = 0, set()
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                if st.st_nlink > 1:
                    if st.st_ino in seen:
                        continue
                    seen.add(st.st_ino)
                total += st.st_blocks * 512
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return total


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class BaseStore:
    """The kept extracted trees of one directory (see the module docs)."""

    def __init__(self, directory: Path, limit: int) -> None:
        self.directory = directory
        self.limit = limit
        self._held: dict[str, int] = {}  # key -> descriptor of its lock, held shared
        self._lock = threading.Lock()  # guards the two dicts
        self._making: dict[str, threading.Lock] = {}  # one thread per key makes or waits
        (directory / "trees").mkdir(parents=True, exist_ok=True)
        (directory / "tmp").mkdir(exist_ok=True)

    def tree(self, key: str, make: Callable[[Path], None]) -> tuple[Path, bool]:
        """The tree of ``key``, made by ``make(directory)`` if no build kept one; held
        (never evicted) until :meth:`close`. Also says whether it was made now."""
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:  # concurrent stages of this build on the same base: one makes it
            with self._lock:
                if key in self._held:
                    return self._path(key), False
            fd = os.open(self._path(key).with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                made = self._acquire(key, fd, make)
            except BaseException:
                os.close(fd)
                raise
            with self._lock:
                self._held[key] = fd
        if made:
            self.evict()
        return self._path(key), made

    def _path(self, key: str) -> Path:
        return self.directory / "trees" / key

    def _acquire(self, key: str, fd: int, make: Callable[[Path], None]) -> bool:
        """Hold ``key``'s tree shared (``fd``), making it first if no build did. Making
        is serialised by a second lock, ``<key>.make``: waiting for the shared lock to
        become exclusive would wait for every build using the tree to end (and, for two
        stores of one process, forever)."""
        fcntl.flock(fd, fcntl.LOCK_SH)  # from now on no eviction removes it
        if self._path(key).is_dir():
            self._touch(key)
            return False
        maker = os.open(self._path(key).with_suffix(".make"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(maker, fcntl.LOCK_EX)  # another build making it: wait for it
            if self._path(key).is_dir():
                self._touch(key)
                return False
            partial = self.directory / "tmp" / key
            _remove(partial)  # left by a maker that was killed
            partial.mkdir(mode=0o755)
            try:
                make(partial)
                size = tree_size(partial)
                self._path(key).with_suffix(".json").write_text(json.dumps({"size": size}))
                os.rename(partial, self._path(key))
            except BaseException:
                _remove(partial)
                fcntl.flock(fd, fcntl.LOCK_UN)
                raise
        finally:
            os.close(maker)  # releases the maker's lock
        log.debug("extracted base %s kept (%d MB)", key[:12], size >> 20)
        return True

    def _touch(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.utime(self._path(key).with_suffix(".json"))

    def evict(self) -> None:
        """Remove least recently used trees nobody holds until within the size limit."""
        with open(self.directory / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = []
            for meta in (self.directory / "trees").glob("*.json"):
                try:
                    size = int(json.loads(meta.read_text())["size"])
                    entries.append((meta.stat().st_mtime, meta.stem, size))
                except (OSError, ValueError, KeyError):
                    continue
            total = sum(size for _, _, size in entries)
            for _, key, size in sorted(entries):
                if total <= self.limit:
                    break
                with self._lock:
                    held = key in self._held
                if not held and self._drop(key):
                    total -= size

    def _drop(self, key: str) -> bool:
        lock = self._path(key).with_suffix(".lock")
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False  # in use by a build
        try:
            self._path(key).with_suffix(".json").unlink(missing_ok=True)
            doomed = self.directory / "tmp" / f"{key}.evicted"
            with contextlib.suppress(OSError):
                os.rename(self._path(key), doomed)
            _remove(doomed)
            log.debug("extracted base %s evicted", key[:12])
            return True
        finally:
            os.close(fd)

    def close(self) -> None:
        """Release every tree this store object holds."""
        with self._lock:
            for fd in self._held.values():
                os.close(fd)
            self._held.clear()
