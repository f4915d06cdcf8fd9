"""RUN mounts in full isolation, kaniko's half: resolve the targets, make the mount points.

:func:`plan_user_mounts` turns a step's :class:`~kaniko.sandbox.mountspec.MountSpec` list
into plain data for the init (``boot/usermounts.py``), which mounts them in the step's
private mount namespace before ``pivot_root``, in order, outermost first:

* a target is resolved inside the root as a chroot would (:func:`resolve_in_root`: an
  image's symlink is followed within the root, never out of it) and its missing
  directories and the mount point itself (a directory, or an empty file for a secret, a
  socket or a bound file) are created through the step's
  :class:`~kaniko.sandbox.scaffold.Scaffold`, which removes them afterwards when empty,
  as BuildKit does;
* a target inside another mount's target (``/src`` and ``/src/node_modules``) is resolved
  inside that mount's source instead, and its mount point is made by the init once the
  outer mount is in place: inside a tmpfs, a writable bind's private upper layer or a
  cache directory; inside a read-only bind it must already exist;
* ``bind`` is a bind mount (remounted read-only unless ``rw``); a ``bind`` with ``rw``
  is an overlay with the source as its lower layer and a private upper layer, so writes
  are discarded (where overlay is refused, a private copy of the source, see
  :func:`kaniko.sandbox.chroot.run`); ``cache`` a writable bind of the cache directory;
  ``tmpfs`` a new tmpfs (``size``); ``secret`` a file on a private tmpfs, mounted only in
  the step's namespace, bound read-only on its target, so its bytes never touch a disk;
  ``ssh`` a bind of the listening socket.
"""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path
from typing import Any

from kaniko.errors import BuildError, FilesystemError
from kaniko.fs.safepath import clean_relpath, resolve_in_root, resolve_rel
from kaniko.sandbox.mountspec import MountSpec, enclosing, ordered
from kaniko.sandbox.scaffold import Scaffold


def plan_user_mounts(
    root: Path,
    mounts: tuple[MountSpec, ...],
    scaffold: Scaffold,
    private: Path,
    *,
    overlay: bool = True,
) -> list[dict[str, Any]]:
    """The init's list of operations for ``mounts`` (see the module docs).

    ``private`` is the step's private directory on the host (overlay upper layers, copies,
    the secrets' tmpfs go there); with ``overlay=False`` a ``rw`` bind is a private copy
    of its source instead of an overlay. Raises :class:`BuildError` naming the mount.
    """
    try:
        order = ordered(mounts)
    except ValueError as e:
        raise BuildError(f"RUN --mount: {e}") from None
    plan: list[dict[str, Any]] = []
    hosts: dict[str, Path] = {}  # target -> host path of its mount point
    for number, mount in enumerate(order):
        outer = enclosing(mount, order[:number])
        if outer is None:
            host = _outer_point(root, mount, scaffold)
        else:
            host, made = _nested_point(mount, outer, hosts[outer.target], scaffold)
            plan.extend(made)
        hosts[mount.target] = host
        plan.append(_operation(mount, host, private / f"m{number}", overlay))
    return plan


def _outer_point(root: Path, mount: MountSpec, scaffold: Scaffold) -> Path:
    try:
        host = resolve_in_root(root, mount.target)
    except FilesystemError as e:
        raise BuildError(f"RUN --mount={mount.describe}: {e}") from None
    if host == root:
        raise BuildError(f"RUN --mount={mount.describe}: the target resolves to /")
    made = scaffold.ensure_file(host, mode=0o644) if mount.is_file else scaffold.ensure_dir(host)
    if not made:
        kind = "a file" if mount.is_file else "a directory"
        raise BuildError(
            f"RUN --mount={mount.describe}: the target exists in the image and is not {kind}"
        )
    return host


def _nested_point(
    mount: MountSpec, outer: MountSpec, outer_host: Path, scaffold: Scaffold
) -> tuple[Path, list[dict[str, Any]]]:
    """The mount point of ``mount`` inside ``outer``'s mount, and the init's operations
    that make it (none when it exists)."""
    rel = mount.target[len(outer.target.rstrip("/")) + 1 :]
    where = f"RUN --mount={mount.describe}"
    if outer.kind in ("secret", "ssh") or outer.is_file:
        raise BuildError(f"{where}: the target is inside the file mounted at {outer.target}")
    try:
        if outer.source is not None and outer.kind in ("bind", "cache"):
            rel = resolve_rel(outer.source, rel)
        else:
            rel = clean_relpath(rel)
    except FilesystemError as e:
        raise BuildError(f"{where}: {e}") from None
    host = outer_host / rel
    if outer.source is not None and outer.kind in ("bind", "cache"):
        existing = outer.source / rel
        if existing.is_dir() if not mount.is_file else existing.is_file():
            return host, []
        if outer.kind == "cache":  # a writable host directory: make the point there
            target = outer.source / rel
            if not (scaffold.ensure_file(target) if mount.is_file else scaffold.ensure_dir(target)):
                raise BuildError(f"{where}: cannot make the mount point in {outer.target}")
            return host, []
        if outer.readonly and not outer.discard:
            raise BuildError(
                f"{where}: the target does not exist in the read-only mount at {outer.target}"
            )
    parts = rel.split("/")
    made = [
        {"op": "mkdir", "path": str(outer_host.joinpath(*parts[:i]))} for i in range(1, len(parts))
    ]
    made.append({"op": "touch" if mount.is_file else "mkdir", "path": str(host)})
    return host, made


def _operation(mount: MountSpec, host: Path, private: Path, overlay: bool) -> dict[str, Any]:
    target = str(host)
    if mount.kind == "tmpfs":
        return {"op": "tmpfs", "target": target, "size": mount.size, "readonly": mount.readonly}
    if mount.kind == "secret":
        private.mkdir()
        return {
            "op": "secret",
            "target": target,
            "dir": str(private),
            "data": mount.data,
            "uid": mount.uid,
            "gid": mount.gid,
            "mode": mount.mode & 0o7777,
        }
    assert mount.source is not None, mount.kind
    source = str(mount.source)
    if mount.kind == "bind" and mount.discard:
        if mount.source.is_dir() and overlay:
            private.mkdir()
            return {"op": "overlay", "lower": source, "target": target, "dir": str(private)}
        private.mkdir()
        copy = private / posixpath.basename(source.rstrip("/") or "source")
        _private_copy(mount.source, copy)
        source = str(copy)
    readonly = mount.readonly and not mount.discard and mount.kind != "ssh"
    return {"op": "bind", "source": source, "target": target, "readonly": readonly}


def _private_copy(source: Path, copy: Path) -> None:
    """A copy of ``source`` the step may change (a ``rw`` bind without overlay)."""
    if source.is_dir():
        shutil.copytree(source, copy, symlinks=True)
    else:
        shutil.copy2(source, copy)
