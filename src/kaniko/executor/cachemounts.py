"""``RUN --mount=type=cache`` directories: kept between builds, shared, locked or private.

The store is one directory (``--cache-mount-dir``, default ``<kaniko dir>/cache-mounts``;
mount a volume there to keep caches between pods). A cache is named by what BuildKit
names it by: its ``id`` (default: the target), and, when it starts from something else
than an empty directory, ``from``/``source`` or ``uid``/``gid``/``mode``, so two mounts
that would start differently never share a directory. Layout::

    <store>/<key>/cache.json    what the cache is (id, from, source, uid, gid, mode)
    <store>/<key>/.lock         held while an instance is created
    <store>/<key>/<n>/data      an instance's content (the mount's root)
    <store>/<key>/<n>.lock      held while a step uses instance n

``sharing``, across the steps and builds of this machine (``flock``, so it holds between
processes and is dropped by the kernel when a build dies):

* ``shared`` (the default): every user mounts instance 0 at once (a shared lock);
* ``locked``: one user at a time on instance 0 (an exclusive lock; others wait);
* ``private``: the first instance nobody uses (exclusive, without waiting), a new one
  when all are in use.

Where steps cannot mount (:mod:`kaniko.sandbox.placement` moves the directory into the
root for the step), every use is exclusive, since a moved directory cannot be shared.
A new instance starts as an empty directory owned ``uid:gid`` with ``mode`` (default
0:0, 0755), or as a copy of ``source`` in ``from``. Nothing is ever deleted: remove the
store (or a key under it) to start afresh.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kaniko.errors import BuildError
from kaniko.fs.clone import clone

log = logging.getLogger(__name__)

SHARING = ("shared", "private", "locked")


@dataclass(frozen=True)
class CacheKey:
    """What names a cache (see the module docs); ``origin`` is how ``from`` was written."""

    id: str
    origin: str = ""
    source: str = ""
    uid: int | None = None
    gid: int | None = None
    mode: int | None = None

    @property
    def digest(self) -> str:
        fields = [self.id, self.origin, self.source, self.uid, self.gid, self.mode]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]

    def describe(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if v not in ("", None)}


Seed = Callable[[Path], None]
"""Fills a new instance: called with the ``data`` path, which does not exist yet."""


class CacheStore:
    """The cache directories of this machine under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def use(
        self, key: CacheKey, sharing: str, *, exclusive: bool = False, seed: Seed | None = None
    ) -> Iterator[Path]:
        """The ``data`` directory of an instance of ``key`` for as long as the block runs,
        locked as ``sharing`` says (``exclusive``: every use is exclusive)."""
        if sharing not in SHARING:
            raise BuildError(f"cache mount {key.id}: unknown sharing {sharing!r}")
        home = self._home(key)
        if sharing == "private":
            fd, number = self._free_instance(home)
        else:
            fd, number = _open_lock(home / "0.lock"), 0
            mode = fcntl.LOCK_SH if sharing == "shared" and not exclusive else fcntl.LOCK_EX
            try:
                _lock(fd, mode, key)
            except BaseException:
                os.close(fd)
                raise
        try:
            yield self._instance(home, number, key, seed)
        finally:
            os.close(fd)  # drops the lock

    def _home(self, key: CacheKey) -> Path:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            home = self.directory / key.digest
            home.mkdir(exist_ok=True, mode=0o700)
            info = home / "cache.json"
            if not info.exists():
                info.write_text(json.dumps(key.describe(), indent=1) + "\n")
        except OSError as e:
            raise BuildError(
                f"cache mount {key.id}: cannot use {self.directory}: {e.strerror}"
            ) from None
        return home

    def _free_instance(self, home: Path) -> tuple[int, int]:
        number = 0
        while True:
            fd = _open_lock(home / f"{number}.lock")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd, number
            except BlockingIOError:
                os.close(fd)
                number += 1

    def _instance(self, home: Path, number: int, key: CacheKey, seed: Seed | None) -> Path:
        data = home / str(number) / "data"
        if data.is_dir():
            return data
        with _locked(home / ".lock"):
            if data.is_dir():
                return data
            data.parent.mkdir(exist_ok=True, mode=0o700)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(data)  # whatever a killed step left (a symlink, a file)
            if seed is not None:
                seed(data)
            else:
                data.mkdir(mode=0o755)
                os.chown(data, key.uid or 0, key.gid or 0)
                os.chmod(data, 0o755 if key.mode is None else key.mode & 0o7777)
            log.debug("cache mount %s: new instance %s", key.id, data)
        return data


def seed_from(source: Path) -> Seed:
    """A seed copying ``source`` (a directory of a stage, an image or the context)."""

    def copy(data: Path) -> None:
        clone(source, data, link=False)

    return copy


def _open_lock(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)


def _lock(fd: int, mode: int, key: CacheKey) -> None:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        log.info("Waiting for cache mount %s, which another step is using", key.id)
        fcntl.flock(fd, mode)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = _open_lock(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
