"""RUN mounts where nothing may be mounted: content placed in the root for the step's life.

A plain chroot (mounts refused) and an in-place build (an unprivileged pod) cannot mount.
There a step's :class:`~kaniko.sandbox.mountspec.MountSpec` list is emulated by putting
the content at each target before the step and taking it away after, whatever happened
(docs/run-mounts.md):

* ``bind``: read-only, on the root's file system: a tree of hard links (no byte copied;
  afterwards every linked file must be as it was, else the step fails: a read-only mount
  cannot be enforced here); otherwise, or with ``rw``: a copy, deleted afterwards;
* ``cache``: the cache directory renamed to the target and back; across file systems (or
  two mounts of one), in place, a symlink to it (the step sees the real ``/``); in a plain
  chroot, a copy that replaces the cache afterwards;
* ``tmpfs``: an empty directory (mode 1777, on disk, no size limit), deleted afterwards;
* ``secret``: in place, a file written at the target (owner and mode as asked) and
  deleted afterwards; never in a chroot's root, where it is an error (``env=`` works);
* ``ssh``: a hard link to the listening socket.

An entry of the image at a target is renamed aside and put back afterwards; missing
parents of a target are created through the step's
:class:`~kaniko.sandbox.scaffold.Scaffold` (removed afterwards when empty, as BuildKit's
mount stubs are); the times of directories touched are restored.

Every change is written to a journal (``placed.journal`` in the step's private directory,
under the build's work directory) *before* it is made, so a build killed with SIGKILL is
undone by the next build that reclaims its work directory (:func:`undo_stale`): placed
content and secrets removed, caches moved home, entries of the image put back.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import Any

from kaniko.errors import BuildError, FilesystemError
from kaniko.fs.clone import State, clone, state
from kaniko.fs.safepath import resolve_in_root
from kaniko.sandbox.mountspec import MountSpec, ordered
from kaniko.sandbox.scaffold import Scaffold

log = logging.getLogger(__name__)

JOURNAL = "placed.journal"
RUN_DIR_PREFIX = "kaniko-run-"
"""The prefix of a step's private directory (``tempfile.mkdtemp`` in the build's ``tmp``)."""


class Placement:
    """The placed mounts of one step in ``root`` (see the module docs)."""

    def __init__(self, root: Path, private: Path, scaffold: Scaffold, *, inplace: bool) -> None:
        self.root = root
        self.private = private
        self.scaffold = scaffold
        self.inplace = inplace
        self._journal = open(private / JOURNAL, "a", encoding="utf-8")  # noqa: SIM115
        self._done: list[dict[str, Any]] = []
        self._readonly: list[tuple[str, Path, State]] = []
        self._secrets: list[Path] = []

    def place(self, mounts: tuple[MountSpec, ...]) -> None:
        """Put every mount's content at its target, outermost first."""
        try:
            order = ordered(mounts)
        except ValueError as e:
            raise BuildError(f"RUN --mount: {e}") from None
        for mount in order:
            if mount.kind == "secret" and not self.inplace:
                raise BuildError(
                    f"RUN --mount={mount.describe}: mounts are not permitted here, and a "
                    "secret is never written into a chroot's root: use env= to pass it in an "
                    "environment variable, or --isolation=inplace inside the executor image"
                )
        for mount in order:
            where = f"RUN --mount={mount.describe}"
            try:
                host = resolve_in_root(self.root, mount.target)
            except FilesystemError as e:
                raise BuildError(f"{where}: {e}") from None
            if host == self.root:
                raise BuildError(f"{where}: the target resolves to /")
            try:
                self._place(mount, host)
            except OSError as e:
                raise BuildError(f"{where}: cannot place it in {host}: {e.strerror}") from e

    def check(self) -> None:
        """After the step: :class:`BuildError` if it changed a read-only bind's content."""
        for target, host, before in self._readonly:
            try:
                after = state(host)
            except OSError:
                after = {}
            changed = sorted(set(before) ^ set(after)) or [
                rel for rel, value in before.items() if after[rel] != value
            ]
            if changed:
                raise BuildError(
                    f"RUN --mount=type=bind,target={target}: the step changed "
                    f"{target.rstrip('/') + changed[0]} in this read-only mount (it cannot be "
                    "made read-only here, so the step fails; use rw to let it write)"
                )

    def undo(self) -> None:
        """Take everything away again, newest first; then check no secret is left."""
        try:
            for entry in reversed(self._done):
                if entry["op"] == "times":
                    continue  # the scaffold restores them when the listing is as before
                with contextlib.suppress(OSError):
                    undo_entry(entry)
            self._done.clear()
        finally:
            self._journal.close()
        left = [path for path in self._secrets if os.path.lexists(path)]
        if left:
            raise BuildError(f"RUN: the secret placed at {left[0]} could not be removed")

    # -- placing --------------------------------------------------------------------------
    def _record(self, entry: dict[str, Any]) -> None:
        self._journal.write(json.dumps(entry) + "\n")
        self._journal.flush()
        self._done.append(entry)

    def _place(self, mount: MountSpec, host: Path) -> None:
        parent = host.parent
        missing = []
        probe = parent
        while not os.path.lexists(probe):
            missing.append(probe)
            probe = probe.parent
        st = os.lstat(probe)  # the directory that gets a new entry: its times come back
        self._record({"op": "times", "path": str(probe), "ns": [st.st_atime_ns, st.st_mtime_ns]})
        for path in reversed(missing):
            self._record({"op": "stub", "path": str(path)})
        if not self.scaffold.ensure_dir(parent):
            raise BuildError(f"RUN --mount={mount.describe}: {parent} is not a directory")
        self.scaffold.watch(parent)
        if os.path.lexists(host):
            self._aside(host)
        if mount.kind == "cache":
            self._cache(mount, host)
            return
        self._record({"op": "created", "path": str(host)})
        if mount.kind == "bind":
            assert mount.source is not None
            readonly = mount.readonly and not mount.discard
            clone(mount.source, host, link=readonly)
            if readonly:
                self._readonly.append((mount.target, host, state(host)))
        elif mount.kind == "tmpfs":
            os.mkdir(host, 0o1777)
            os.chmod(host, 0o1777)
        elif mount.kind == "secret":
            self._secrets.append(host)
            _write_secret(host, mount)
        elif mount.kind == "ssh":
            assert mount.source is not None
            try:
                os.link(mount.source, host)
            except OSError as e:
                raise BuildError(
                    f"RUN --mount={mount.describe}: cannot link the agent's socket into the "
                    f"root ({e.strerror})"
                ) from None

    def _aside(self, host: Path) -> None:
        if os.stat(self.private).st_dev == os.lstat(host.parent).st_dev:
            stash = self.private / f"aside-{len(self._done)}"
            self._record({"op": "aside", "path": str(host), "stash": str(stash)})
            if _renamed(host, stash):
                return
        stash = host.parent / f".kaniko-aside-{secrets.token_hex(6)}-{host.name}"
        self._record({"op": "aside", "path": str(host), "stash": str(stash)})
        os.rename(host, stash)

    def _cache(self, mount: MountSpec, host: Path) -> None:
        home = mount.source
        assert home is not None
        if os.stat(home).st_dev == os.lstat(host.parent).st_dev:
            self._record({"op": "cache", "path": str(host), "home": str(home), "how": "rename"})
            if _renamed(home, host):
                return
        if self.inplace:
            self._record({"op": "created", "path": str(host)})
            os.symlink(home, host)
            _note_once(
                "cache mounts on another file system than / are symlinks to their directory "
                "(mounts are not permitted here)"
            )
        else:
            self._record({"op": "cache", "path": str(host), "home": str(home), "how": "copy"})
            clone(home, host, link=False)


def _renamed(source: Path, dest: Path) -> bool:
    """Rename ``source`` to ``dest``; False where they are on two mounts of one file system
    (a pod's volume bound from the disk its root is on: the same device, and EXDEV)."""
    try:
        os.rename(source, dest)
    except OSError as e:
        if e.errno == errno.EXDEV:
            return False
        raise
    return True


def _write_secret(host: Path, mount: MountSpec) -> None:
    fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        data = memoryview(mount.data)
        while data:
            data = data[os.write(fd, data) :]
        os.fchown(fd, mount.uid, mount.gid)
        os.fchmod(fd, mount.mode & 0o7777)
    finally:
        os.close(fd)


def undo_entry(entry: dict[str, Any]) -> None:
    """Undo one journal entry (see :class:`Placement`); missing paths are fine."""
    op, path = entry["op"], Path(entry["path"])
    if op == "created":
        _remove(path)
    elif op == "stub":
        with contextlib.suppress(OSError):
            os.rmdir(path)  # only when empty: what the step wrote there stays
    elif op == "aside":
        stash = Path(entry["stash"])
        if os.path.lexists(stash):
            _remove(path)
            os.rename(stash, path)
    elif op == "cache":
        _cache_home(path, Path(entry["home"]), entry["how"])
    elif op == "times" and os.path.isdir(path) and not os.path.islink(path):
        atime, mtime = entry["ns"]
        os.utime(path, ns=(atime, mtime), follow_symlinks=False)


def _cache_home(path: Path, home: Path, how: str) -> None:
    if not os.path.lexists(path) or os.path.islink(path):
        return  # the step removed it: the cache store starts it afresh next time
    if how == "rename" and not os.path.lexists(home):
        os.rename(path, home)
        return
    if how == "copy":
        _remove(home)
        clone(path, home, link=False)
    _remove(path)


def _remove(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def undo_stale(work_dir: Path) -> int:
    """Undo the placements recorded in a dead build's work directory (the journals of its
    steps, newest entry first); returns the number of journals undone."""
    journals = sorted((work_dir / "tmp").glob(f"{RUN_DIR_PREFIX}*/{JOURNAL}"))
    for journal in journals:
        try:
            lines = journal.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        entries = []
        for line in lines:
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
        for entry in reversed(entries):
            with contextlib.suppress(OSError, KeyError, TypeError):
                undo_entry(entry)
        log.info("Undid the RUN mounts of a build that did not finish (%s)", journal)
    return len(journals)


_noted: set[str] = set()


def _note_once(message: str) -> None:
    if message not in _noted:
        _noted.add(message)
        log.warning("%s", message)
