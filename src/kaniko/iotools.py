"""Small stream and file helpers shared by every layer (standard library and errors only).

:data:`CHUNK` is the one unit in which streams are read, copied and buffered (1 MiB: big
enough that per-call overhead vanishes, small enough to bound memory per stream).
:func:`write_all` writes a whole buffer to a descriptor (``os.write`` may write less).
:class:`ReadOnlyRaw` gives a read-only raw stream its ``readable``/``readinto`` from its
``read``, so it can sit under :class:`io.BufferedReader`, ``tarfile`` and the
decompressors. :class:`TeeReader` passes reads through and shows each chunk to an
observer (a hasher, a byte counter, a progress bar). :func:`read_regular_file` reads a
small file a build is handed (the Dockerfile, a ``.dockerignore``) without being fooled
into blocking on a FIFO, reading a device, or following a symlink out of the context.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from kaniko.errors import ContextError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 1 << 20
"""Bytes per read, copy step or stream buffer."""


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` to descriptor ``fd`` (``os.write`` may write only a part)."""
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


class Readable(Protocol):
    """What a consumer that only reads needs of a stream (a file, a socket, a wrapper)."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """What a producer that only writes needs of a stream."""

    def write(self, data: bytes | bytearray | memoryview, /) -> object: ...


MAX_SMALL_FILE = 64 << 20  # a Dockerfile or .dockerignore larger than this is refused
_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def is_inside(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or below it, comparing absolute paths lexically."""
    path, directory = os.path.abspath(path), os.path.abspath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def read_regular_file(
    path: str, what: str, *, within: str | None = None, limit: int = MAX_SMALL_FILE
) -> bytes:
    """The bytes of ``path``, which must be a regular file (symlinks followed).

    With ``within`` (a build context), the file must also resolve inside that directory:
    a ``Dockerfile`` in the context that is a symlink to ``/root/.docker/config.json`` is
    refused. A FIFO, socket or device is refused before it is opened (opening a FIFO
    blocks until a writer comes). Errors are :class:`ContextError` lines naming ``what``
    and ``path``, never the content.
    """
    try:
        kind = _KINDS.get(stat.S_IFMT(os.stat(path).st_mode))
        if kind is None:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ContextError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if kind is not None:
        raise ContextError(f"{what} {path} is {kind}, not a regular file")
    with open(fd, "rb", closefd=True) as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped since the stat above
            kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise ContextError(f"{what} {path} is {kind}, not a regular file")
        if within is not None and not is_inside(_opened(fd, path), os.path.realpath(within)):
            raise ContextError(
                f"{what} {path} is a symlink to a file outside the build context; "
                "only files inside the context are read"
            )
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise ContextError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ContextError(f"{what} {path} is larger than {limit >> 20} MiB")
    return data


def _opened(fd: int, path: str) -> str:
    """The real path of the file open as ``fd`` (what was opened, not what is there now)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


class ReadOnlyRaw(io.RawIOBase):
    """A readable raw stream defined by its ``read(size)``."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


class TeeReader(ReadOnlyRaw):
    """Reads ``source`` and hands every chunk read to ``observe``; never closes ``source``."""

    def __init__(self, source: Readable, observe: Callable[[bytes], object]) -> None:
        super().__init__()
        self._source = source
        self._observe = observe

    def read(self, size: int | None = -1, /) -> bytes:
        data = self._source.read(-1 if size is None else size)
        if data:
            self._observe(data)
        return data
