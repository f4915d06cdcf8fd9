"""Directories of ``/`` that exist in an in-place build only above ignored paths.

When an in-place stage starts, ``/`` is wiped except the ignore list, and a directory
that holds an ignored path stays: ``/etc`` above the mounted ``/etc/hosts``, ``/var``
above ``/var/run`` or a service-account token (made by the container runtime, which gives
it mode 1755), ``/tmp`` above ``/tmp/apt-key-gpghome``. Such a directory belongs to the
container (or the previous stage), not to the stage being built. :meth:`MountParents.reset`
gives each one a new directory's metadata (0755, root, no xattrs) and a stamp mtime before
the base is extracted: the base's own entry for one of them replaces all that, and one the
base lacks keeps it. The stage's snapshots do not see those (:meth:`MountParents.hides`)
until a step writes into one or changes it: then it is new to the stage, in that step's
layer as a chroot step creating it would make it (0755, root). :meth:`drop_unused` takes
the ones no step used out of a stage kept for ``COPY --from``, where a chroot build would
not have them either.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path

from kaniko.fs.ignore import IgnoreList

NEW_MODE = 0o755


def kept_directories(root: Path, ignore: IgnoreList) -> list[str]:
    """The root-relative directories a wipe of ``root`` keeps only because an ignored path
    lies below them, parents first: existing real directories, not ignored themselves."""
    found: set[str] = set()
    for path in ignore:
        parts = path.strip("/").split("/")[:-1]
        found.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    kept = []
    for rel in sorted(found):
        try:
            is_dir = stat.S_ISDIR(os.lstat(root / rel).st_mode)
        except OSError:
            continue
        if is_dir and not ignore.ignored_rel(rel):
            kept.append(rel)
    return kept


class MountParents:
    """Kept directories of ``root`` given a new directory's metadata at ``stamp`` (ns)."""

    def __init__(self, root: Path, paths: Iterable[str], stamp: int = 0) -> None:
        self.root = root
        self.paths = tuple(paths)
        self.stamp = stamp
        self._hidden = set(self.paths)

    @classmethod
    def reset(cls, root: Path, ignore: IgnoreList) -> MountParents:
        """Reset every kept directory of ``root`` (see the module docs)."""
        stamp = time.time_ns()
        paths = kept_directories(root, ignore)
        for rel in paths:
            directory = root / rel
            os.lchown(directory, 0, 0)
            os.chmod(directory, NEW_MODE)
            with contextlib.suppress(OSError):
                for name in os.listxattr(directory, follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.removexattr(directory, name, follow_symlinks=False)
            os.utime(directory, ns=(stamp, stamp), follow_symlinks=False)
        return cls(root, paths, stamp)

    def _unused(self, directory: Path) -> bool:
        """Whether ``directory`` still has the metadata :meth:`reset` gave it."""
        try:
            st = os.lstat(directory)
        except OSError:
            return False
        return (
            stat.S_ISDIR(st.st_mode)
            and (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (NEW_MODE, 0, 0)
            and st.st_mtime_ns == self.stamp
        )

    def still_new(self) -> MountParents:
        """Those the base did not provide (after its extraction), or no step has used yet."""
        return MountParents(self.root, [p for p in self.paths if self._unused(self.root / p)],
                            self.stamp)  # fmt: skip

    def hides(self, rel: str) -> bool:
        """Whether a snapshot must not see ``rel`` (with its tree): one of these that no
        step has used yet. Once used, it is seen from then on."""
        if rel not in self._hidden:
            return False
        if self._unused(self.root / rel):
            return True
        self._hidden.discard(rel)
        return False

    def drop_unused(self, tree: Path) -> None:
        """Remove from ``tree`` (a stage moved out of the root) those no step used, deepest
        first, where they are empty."""
        unused = [rel for rel in self.paths if self._unused(tree / rel)]  # before any rmdir
        for rel in reversed(unused):
            with contextlib.suppress(OSError):
                os.rmdir(tree / rel)
