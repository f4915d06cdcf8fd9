"""Atomic file writes: a temporary file beside the target, renamed over it when complete.

A reader never sees a half-written output, and a failed write leaves nothing behind: the
temporary file is removed and the target (if it existed) is unchanged. A target that is
a mount point (Kubernetes bind-mounts ``/dev/termination-log``, a common
``--digest-file``) cannot be renamed over: it is written in place instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from kaniko.iotools import CHUNK


@contextlib.contextmanager
def atomic_file(path: str, mode: int = 0o644, *, make_parents: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces ``path`` when the block ends normally."""
    parent = os.path.dirname(os.path.abspath(path))
    if make_parents:
        os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fchmod(out.fileno(), mode)
        try:
            os.replace(tmp, path)
        except OSError as e:
            if e.errno not in (errno.EBUSY, errno.EXDEV):
                raise
            _write_through(tmp, path)  # a bind-mounted target (/dev/termination-log)
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_through(tmp: str, path: str) -> None:
    """Copy ``tmp`` over ``path`` in place: a mount point cannot be renamed over."""
    with open(tmp, "rb") as source, open(path, "wb") as target:
        while chunk := source.read(CHUNK):
            target.write(chunk)


def write_atomic(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_file(path, mode) as out:
        out.write(data)
