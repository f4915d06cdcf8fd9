"""One work directory per build under ``<kaniko-dir>/builds``, and reclaiming those of
builds that died.

A build keeps everything it writes in its work directory: extracted stage roots, layer
spools, pulled blobs, and (the executor points :mod:`tempfile` there for the build) the
temporary directories of its RUN steps. It removes the directory when it ends; a build
killed with SIGKILL cannot, and its roots (often gigabytes) used to stay forever.

So each work directory holds a lock file, ``.owner``, that its build keeps locked
(``flock``) for as long as it runs; the kernel drops the lock when the process dies,
however it dies. A starting build removes every ``build-*`` directory whose lock it can
take: those are the leftovers of dead builds. A live build's lock cannot be taken, so
its directory is never touched. Creating a directory and locking it happen under a lock
on the parent directory itself, so no build can see another's directory before it is
locked (and nothing is left in ``builds`` once the last build ends). A directory
without ``.owner`` (made by an older release) is left alone. Mounts a dead build left
inside its directory (overlay stage roots) are detached before anything is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kaniko.fs.overlaymount import mounts_below, unmount

log = logging.getLogger(__name__)

PREFIX = "build-"
OWNER = ".owner"
_OPEN = os.O_CLOEXEC | os.O_NOFOLLOW


@dataclass
class WorkDir:
    """A build's work directory, locked while the build runs."""

    path: Path
    fd: int | None

    def release(self) -> None:
        """Remove the directory, then drop the lock (idempotent)."""
        unmount_below(self.path)
        shutil.rmtree(self.path, ignore_errors=True)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def unmount_below(path: Path) -> None:
    """Detach the mounts a build left below ``path`` (overlay stage roots of a killed
    build), so that removing it never reaches through them."""
    for point in mounts_below(str(path)):
        with contextlib.suppress(OSError):
            unmount(point, lazy=True)


@contextlib.contextmanager
def _locked(parent: Path) -> Iterator[None]:
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def claim(parent: Path) -> WorkDir:
    """A new, locked work directory in ``parent``; stale ones of dead builds go first."""
    parent.mkdir(parents=True, exist_ok=True)
    with _locked(parent):
        reclaim_stale(parent)
        path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        fd = os.open(path / OWNER, os.O_RDWR | os.O_CREAT | _OPEN, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # new and unseen: never waits
        os.write(fd, f"{os.getpid()}\n".encode())
    return WorkDir(path, fd)


def reclaim_stale(parent: Path) -> list[Path]:
    """Remove the work directories in ``parent`` whose build is gone; returns them.

    Call with the parent's lock held (as :func:`claim` does).
    """
    removed = []
    with os.scandir(parent) as entries:
        candidates = [
            Path(e.path)
            for e in entries
            if e.name.startswith(PREFIX) and e.is_dir(follow_symlinks=False)
        ]
    for path in sorted(candidates):
        try:
            fd = os.open(path / OWNER, os.O_RDONLY | _OPEN)
        except OSError:
            continue  # no lock file: not a directory this release made
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its build is alive
            log.info("Removing %s, left behind by a build that did not finish", path)
            unmount_below(path)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed
