"""Full isolation's file system: a private mount namespace, then ``pivot_root`` into the root.

Runs in the RUN's init (pid 1 of its pid namespace), which calls :func:`enter` with the
plan kaniko prepared (mount points already resolved inside the root and created, see
:mod:`kaniko.sandbox.mounts`). In order:

1. ``unshare(CLONE_NEWNS)`` and make every mount private, so nothing propagates back;
2. bind the root onto itself (``pivot_root`` needs a mount point), ``nodev``: a device
   node the RUN makes with ``mknod`` can be created (and snapshotted) but never opened,
   which is what Docker's device cgroup achieves;
3. ``/proc`` (a new instance for the new pid namespace), a read-only ``/sys``, a ``nodev``
   tmpfs ``/dev`` holding bind mounts of the host's harmless nodes, ``devpts`` and
   ``/dev/shm``, the copies of ``resolv.conf`` and ``hosts``;
4. runc's masked paths (``/dev/null`` over a file, an empty read-only tmpfs over a
   directory) and read-only paths (a read-only bind of themselves);
4b. the step's own ``RUN --mount`` mounts (:mod:`usermounts`);
5. ``pivot_root(".", ".")`` and a lazy unmount of the old root, which is then reachable
   from no path: a ``chroot`` inside the RUN cannot climb out of the new ``/``.

Those mounts die with the namespace when the RUN's last process exits. A refusal of the
namespace or of the first mounts raises :class:`MountsRefused` (kaniko then falls back to
a plain chroot); anything later that fails is an error.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing is not imported at run time: it would cost the init ~7 ms
if TYPE_CHECKING:
    from typing import Any

try:
    from . import kernel, usermounts
except ImportError:  # run as the init program: this directory is sys.path[0]
    import kernel  # type: ignore[no-redef,import-not-found]
    import usermounts  # type: ignore[no-redef,import-not-found]

_PROC_FLAGS = kernel.MS_NOSUID | kernel.MS_NODEV | kernel.MS_NOEXEC
_SYS_FLAGS = kernel.MS_RDONLY | _PROC_FLAGS
_STATVFS_TO_MS = (
    (os.ST_RDONLY, kernel.MS_RDONLY),
    (os.ST_NOSUID, kernel.MS_NOSUID),
    (os.ST_NODEV, kernel.MS_NODEV),
    (os.ST_NOEXEC, kernel.MS_NOEXEC),
    (os.ST_NOATIME, kernel.MS_NOATIME),
    (os.ST_NODIRATIME, kernel.MS_NODIRATIME),
    (os.ST_RELATIME, kernel.MS_RELATIME),
)
_DEVPTS_OPTIONS = ("newinstance,ptmxmode=0666,mode=0620,gid=5", "newinstance,ptmxmode=0666")
_DEV_OPTIONS = "mode=755,size=65536k"


class MountsRefused(Exception):
    """The kernel refused the mounts full isolation needs (an unprivileged container)."""


def enter(plan: dict[str, Any]) -> None:
    """Build the RUN's file system from ``plan`` and make its root the process's ``/``."""
    root = plan["root"]
    try:
        kernel.unshare(kernel.CLONE_NEWNS)
        kernel.mount(None, "/", None, kernel.MS_REC | kernel.MS_PRIVATE)
        kernel.mount(root, root, None, kernel.MS_BIND | kernel.MS_REC)
    except OSError as refused:
        raise MountsRefused(str(refused)) from refused
    _remount(root, kernel.MS_NODEV | _kept_flags(root))
    if plan["proc"]:
        _mount_proc(plan["proc"])
    if plan["sys"]:
        _mount_sys(plan["sys"])
    if plan["dev"]:
        _populate_dev(plan["dev"], plan["devices"], plan["symlinks"])
    for copy, target in plan["files"]:
        with kernel.suppress(OSError):  # the image's own file stays visible
            kernel.mount(copy, target, None, kernel.MS_BIND)
    for base, rel in plan["masked"]:
        target = plan.get(base)
        if target:
            _mask(f"{target}/{rel}")
    for base, rel in plan["readonly"]:
        target = plan.get(base)
        if target:
            _read_only(f"{target}/{rel}")
    if plan.get("user"):
        usermounts.mount_all(plan["user"])
    _pivot(root)


def _kept_flags(path: str) -> int:
    """The mount flags of ``path``'s mount a bind remount must keep (``noexec`` …)."""
    flags = os.statvfs(path).f_flag
    return sum(ms for st, ms in _STATVFS_TO_MS if flags & st)


def _remount(target: str, flags: int) -> None:
    kernel.mount(None, target, None, kernel.MS_REMOUNT | kernel.MS_BIND | flags)


def _mount_proc(target: str) -> None:
    try:
        kernel.mount("proc", target, "proc", _PROC_FLAGS)
    except OSError as refused:
        raise MountsRefused(str(refused)) from refused


def _mount_sys(target: str) -> None:
    try:
        kernel.mount("sysfs", target, "sysfs", _SYS_FLAGS)
        return
    except OSError:
        pass
    try:
        kernel.mount("/sys", target, None, kernel.MS_BIND | kernel.MS_REC)
    except OSError:
        return  # no /sys at all rather than a writable one
    try:
        _remount(target, _SYS_FLAGS)
    except OSError:
        kernel.umount(target)


def _populate_dev(
    dev: str, devices: list[tuple[str, int, int]], symlinks: list[tuple[str, str]]
) -> None:
    """A tmpfs on ``dev`` with bind mounts of the host's nodes, ``pts``, ``shm``, links.

    The tmpfs is ``nodev`` once filled: only the bound nodes (their own mounts) open.
    """
    flags = kernel.MS_NOSUID | kernel.MS_STRICTATIME
    try:
        kernel.mount("tmpfs", dev, "tmpfs", flags, _DEV_OPTIONS)
    except OSError as refused:
        raise MountsRefused(str(refused)) from refused
    for name, major, minor in devices:
        _bind_node(f"{dev}/{name}", f"/dev/{name}", os.makedev(major, minor))
    os.mkdir(f"{dev}/pts", 0o755)
    for options in _DEVPTS_OPTIONS:
        try:
            kernel.mount("devpts", f"{dev}/pts", "devpts", _PROC_FLAGS & ~kernel.MS_NODEV, options)
            break
        except OSError:
            continue
    os.mkdir(f"{dev}/shm", 0o755)
    with kernel.suppress(OSError):
        kernel.mount("shm", f"{dev}/shm", "tmpfs", _PROC_FLAGS, "mode=1777,size=65536k")
    os.chmod(f"{dev}/shm", 0o1777)
    for name, target in symlinks:
        os.symlink(target, f"{dev}/{name}")
    kernel.mount(None, dev, None, kernel.MS_REMOUNT | flags | kernel.MS_NODEV, _DEV_OPTIONS)


def _bind_node(target: str, host: str, rdev: int) -> None:
    """Bind the host's node ``host`` on a new file ``target`` if it is the expected device."""
    try:
        st = os.stat(host)
    except OSError:
        return
    if not stat.S_ISCHR(st.st_mode) or st.st_rdev != rdev:
        return
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        kernel.mount(host, target, None, kernel.MS_BIND)
    except OSError:
        os.unlink(target)


def _mask(path: str) -> None:
    """Hide ``path``: ``/dev/null`` over a file, an empty read-only tmpfs over a directory."""
    try:
        st = os.lstat(path)
    except OSError:
        return  # not on this kernel
    if stat.S_ISDIR(st.st_mode):
        kernel.mount("tmpfs", path, "tmpfs", kernel.MS_RDONLY | _PROC_FLAGS, "size=0")
    else:
        kernel.mount("/dev/null", path, None, kernel.MS_BIND)


def _read_only(path: str) -> None:
    """Make ``path`` (a file or a directory tree) read-only for the RUN."""
    if not os.path.lexists(path):
        return
    kernel.mount(path, path, None, kernel.MS_BIND | kernel.MS_REC)
    _remount(path, kernel.MS_RDONLY | _kept_flags(path))


def _pivot(root: str) -> None:
    """Make ``root`` the process's ``/`` with the old root detached.

    ``pivot_root`` is refused when kaniko's own root is no mount point (kaniko runs in a
    chroot; making ``/`` private is refused first then) or is the initramfs. Moving the
    root's mount onto ``/`` and ``chroot`` (runc's ``--no-pivot``) would leave the host's
    tree above that mount, within reach of ``..`` after a chroot of the RUN's own: a
    refusal is treated as mounts refused, and kaniko falls back to a plain chroot
    without ``CAP_SYS_CHROOT``.
    """
    os.chdir(root)
    try:
        kernel.pivot_root(".", ".")
    except OSError as refused:
        raise MountsRefused(str(refused)) from refused
    kernel.umount(".", kernel.MNT_DETACH)
    os.chdir("/")
