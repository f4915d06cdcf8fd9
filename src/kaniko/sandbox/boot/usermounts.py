"""RUN mounts in full isolation, the init's half: mount them, in the step's namespace.

Called by :func:`rootfs.enter` after the container's own file systems and before
``pivot_root``, with the operations :mod:`kaniko.sandbox.usermounts` planned (mount points
already resolved inside the root and created). Everything mounted here lives in the
step's private mount namespace and dies with it: the host never sees a secret's tmpfs,
an overlay's writes or a bind. Operations, in order:

* ``mkdir`` / ``touch``: a mount point inside an earlier mount (a tmpfs, an overlay);
* ``bind``: ``source`` on ``target`` (not recursive: nothing mounted below the source
  comes along), ``nodev``, remounted read-only when asked;
* ``overlay``: ``lower`` on ``target`` with an upper and work directory in ``dir`` (on a
  tmpfs there when the host file system cannot be an upper layer); refused by the kernel,
  it raises :class:`OverlayRefused` and kaniko retries the step with a private copy;
* ``tmpfs``: a new ``nosuid``/``nodev`` tmpfs, ``size`` bytes at most;
* ``secret``: a tmpfs on ``dir`` (once per step), the bytes written to a file there with
  the owner and mode asked, that file bound read-only (``noexec`` unless the mode lets
  someone execute it) on ``target``.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    from . import kernel
except ImportError:  # run as the init program: this directory is sys.path[0]
    import kernel  # type: ignore[no-redef,import-not-found]

_SECRET_FLAGS = kernel.MS_NOSUID | kernel.MS_NODEV


class OverlayRefused(Exception):
    """The kernel refused an overlay mount (kaniko then copies the source instead)."""


def mount_all(operations: list[dict[str, Any]]) -> None:
    """Perform ``operations`` in order (see the module docs)."""
    secrets: dict[str, bool] = {}
    for op in operations:
        kind = op["op"]
        if kind == "mkdir":
            if not os.path.isdir(op["path"]):
                os.mkdir(op["path"], 0o755)
        elif kind == "touch":
            if not os.path.isfile(op["path"]):
                os.close(os.open(op["path"], os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644))
        elif kind == "bind":
            _bind(op["source"], op["target"], op["readonly"])
        elif kind == "overlay":
            _overlay(op["lower"], op["target"], op["dir"])
        elif kind == "tmpfs":
            _tmpfs(op["target"], op["size"], op["readonly"])
        elif kind == "secret":
            _secret(op, secrets)
        else:
            raise ValueError(f"unknown mount operation {kind!r}")


_STATVFS_TO_MS = (
    (os.ST_NOSUID, kernel.MS_NOSUID),
    (os.ST_NOEXEC, kernel.MS_NOEXEC),
    (os.ST_NOATIME, kernel.MS_NOATIME),
    (os.ST_NODIRATIME, kernel.MS_NODIRATIME),
    (os.ST_RELATIME, kernel.MS_RELATIME),
)


def _bind(source: str, target: str, readonly: bool, extra: int = 0) -> None:
    kernel.mount(source, target, None, kernel.MS_BIND)
    kept = os.statvfs(target).f_flag
    flags = kernel.MS_REMOUNT | kernel.MS_BIND | kernel.MS_NODEV | extra
    flags |= sum(ms for st, ms in _STATVFS_TO_MS if kept & st)
    if readonly:
        flags |= kernel.MS_RDONLY
    kernel.mount(None, target, None, flags)


def _escape(path: str) -> str:
    """A path as an overlay option value (``\\``, ``,`` and ``:`` escaped)."""
    return path.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:")


def _overlay(lower: str, target: str, private: str) -> None:
    last: OSError | None = None
    for on_tmpfs in (False, True):
        if on_tmpfs:
            try:
                kernel.mount("tmpfs", private, "tmpfs", kernel.MS_NOSUID, "mode=0700")
            except OSError as error:
                raise OverlayRefused(str(error)) from error
        upper, work = f"{private}/upper", f"{private}/work"
        for path in (upper, work):
            if not os.path.isdir(path):
                os.mkdir(path, 0o755)
        options = f"lowerdir={_escape(lower)},upperdir={_escape(upper)},workdir={_escape(work)}"
        try:
            kernel.mount("overlay", target, "overlay", kernel.MS_NODEV, options)
            return
        except OSError as error:
            last = error
    raise OverlayRefused(str(last))


def _tmpfs(target: str, size: int | None, readonly: bool) -> None:
    flags = kernel.MS_NOSUID | kernel.MS_NODEV | (kernel.MS_RDONLY if readonly else 0)
    kernel.mount("tmpfs", target, "tmpfs", flags, f"size={size}" if size else None)


def _secret(op: dict[str, Any], mounted: dict[str, bool]) -> None:
    directory = op["dir"]
    if directory not in mounted:
        kernel.mount("tmpfs", directory, "tmpfs", _SECRET_FLAGS, "mode=0711,size=4m")
        mounted[directory] = True
    path = f"{directory}/secret"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        data = memoryview(op["data"])
        while data:
            data = data[os.write(fd, data) :]
        os.fchown(fd, op["uid"], op["gid"])
        os.fchmod(fd, op["mode"])
    finally:
        os.close(fd)
    noexec = 0 if op["mode"] & 0o111 else kernel.MS_NOEXEC
    _bind(path, op["target"], True, _SECRET_FLAGS | noexec)
