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
locked (and nothing is left in ``builds`` once the last build ends). Before a dead build's
directory goes, the RUN mounts it had placed in a root are undone from their journals
(:func:`kaniko.sandbox.placement.undo_stale`: secrets removed, caches moved home) and the
mounts it left inside its directory (overlay stage roots) are detached. A directory
without ``.owner`` (made by an older release) is left alone.

Removing a work directory of 100 000 files takes as long as creating them, and the build
is done by then: a finished build renames its directory into ``<parent>.trash`` (e.g.
``/kaniko/builds.trash``) and a detached process removes it, holding the ``.owner`` lock
it inherits until it is done; a later build restarts the removal of any trashed
directory whose lock is free (its remover died).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kaniko.fs.overlaymount import mounts_below, unmount
from kaniko.sandbox.placement import undo_stale

log = logging.getLogger(__name__)

PREFIX = "build-"
OWNER = ".owner"
TRASH_SUFFIX = ".trash"
_OPEN = os.O_CLOEXEC | os.O_NOFOLLOW


@dataclass
class WorkDir:
    """A build's work directory, locked while the build runs."""

    path: Path
    fd: int | None

    def release(self) -> None:
        """Remove the directory, then drop the lock (idempotent): in the background when
        it can be moved to the trash (see the module docs)."""
        unmount_below(self.path)
        if self.fd is not None and self.path.exists() and discard(self.path, self.fd):
            os.close(self.fd)
            self.fd = None
            return
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


def trash_of(parent: Path) -> Path:
    """Where work directories of ``parent`` wait for their background removal."""
    return parent.with_name(parent.name + TRASH_SUFFIX)


_DELETER = "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)"


def discard(path: Path, lock_fd: int) -> bool:
    """Move ``path`` to the trash and remove it in a detached process that inherits the
    lock ``lock_fd`` (held until it is done); False if it could not be moved."""
    trash = trash_of(path.parent)
    try:
        trash.mkdir(exist_ok=True)
        target = trash / path.name
        os.rename(path, target)
    except OSError:
        return False
    if not _remove_detached(target, lock_fd):
        shutil.rmtree(target, ignore_errors=True)
    return True


def _remove_detached(path: Path, lock_fd: int) -> bool:
    """Start a process of its own session removing ``path``, holding ``lock_fd`` (a copy)."""
    inherited = os.dup(lock_fd)
    try:
        os.set_inheritable(inherited, True)
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", _DELETER, str(path)],
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
    except OSError:
        return False
    finally:
        os.close(inherited)
    # reaped when it ends, so a long-lived caller keeps no zombie
    threading.Thread(target=_reap, args=(pid,), name="workdir-remover", daemon=True).start()
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def reclaim_trash(parent: Path) -> None:
    """Remove, in the background, trashed directories whose removal died with its process."""
    trash = trash_of(parent)
    if not trash.is_dir():
        return
    for path in sorted(trash.iterdir()):
        try:
            fd = os.open(path / OWNER, os.O_RDONLY | _OPEN)
        except OSError:
            shutil.rmtree(path, ignore_errors=True)  # its lock file is gone already
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # being removed
            if not _remove_detached(path, fd):
                shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


def claim(parent: Path) -> WorkDir:
    """A new, locked work directory in ``parent``; stale ones of dead builds go first."""
    parent.mkdir(parents=True, exist_ok=True)
    with _locked(parent):
        reclaim_stale(parent)
        reclaim_trash(parent)
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
            undo_stale(path)  # RUN mounts placed in / (secrets, caches) go first
            unmount_below(path)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed
