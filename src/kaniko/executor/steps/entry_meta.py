"""What COPY/ADD write besides content: an entry's metadata and the step's policy for it.

:class:`Meta` is an entry's type and mode, owner, times (ns) and xattrs, taken from a
source file, a tar member, or made up (heredocs, downloads). :class:`Policy` is what the
instruction's flags change in it: ``--chown`` replaces every owner (for the build context,
heredocs and URLs the owner is 0:0 anyway; ``--from`` keeps the source's) and ``--chmod``
every mode but a symlink's.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace

from kaniko.executor.steps.chmod import Chmod
from kaniko.fs.fileattrs import Xattrs, read_xattrs


@dataclass(frozen=True, slots=True)
class Meta:
    """What an entry carries besides its content: ``mode`` is a full ``st_mode``."""

    mode: int
    uid: int = 0
    gid: int = 0
    atime_ns: int = 0
    mtime_ns: int = 0
    xattrs: Xattrs = ()
    rdev: int = 0

    @classmethod
    def of(cls, path: str, st: os.stat_result) -> Meta:
        """The metadata of host ``path`` (as ``lstat`` gave ``st``), xattrs included (as
        :func:`kaniko.fs.fileattrs.read_xattrs` reads them)."""
        return cls(
            st.st_mode, st.st_uid, st.st_gid, st.st_atime_ns, st.st_mtime_ns, read_xattrs(path)
        )


@dataclass(frozen=True, slots=True)
class Policy:
    """``owner`` replaces every entry's ids unless None; ``chmod`` every non-symlink's mode."""

    owner: tuple[int, int] | None = (0, 0)
    chmod: Chmod | None = None

    def final(self, meta: Meta) -> Meta:
        if self.owner is not None:
            meta = replace(meta, uid=self.owner[0], gid=self.owner[1])
        if self.chmod is not None and not stat.S_ISLNK(meta.mode):
            perm = self.chmod.apply(meta.mode, is_dir=stat.S_ISDIR(meta.mode))
            meta = replace(meta, mode=stat.S_IFMT(meta.mode) | perm)
        return meta

    @property
    def dir_owner(self) -> tuple[int, int]:
        """Owner of the parent directories a step creates."""
        return self.owner if self.owner is not None else (0, 0)
