"""Users and groups as the image itself defines them (its ``/etc/passwd`` and ``/etc/group``).

Docker resolves ``USER`` and ``--chown`` names inside the image being built, never on the
host. The rules:

- ``USER name[:group]`` / ``USER uid[:gid]`` (for RUN and the container): a name must exist
  in the image's passwd; a numeric uid need not. Without a group, the gid is the user's
  primary gid from passwd (0 for a uid that is not there), and the supplementary groups
  are those of ``/etc/group`` that list the user. ``HOME`` is the passwd home, or ``/``.
- ``--chown=user[:group]`` (COPY/ADD): the same lookups; without a group, a user *name*
  gets its primary gid from passwd and a numeric uid gets itself as the gid (what
  BuildKit and buildah do).
- The supplementary groups of a RUN always hold the primary gid as well (BuildKit since
  the CVE-2023-25173 fix, runc and buildah do the same).

``etc/passwd`` and ``etc/group`` are found with symlinks resolved inside the root, as a
chroot would, so an image whose ``/etc`` is a symlink cannot make us read host files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kaniko.errors import BuildError


@dataclass(frozen=True, slots=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True, slots=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class User:
    """What a process runs as."""

    uid: int
    gid: int
    groups: tuple[int, ...] = ()
    home: str = "/"
    name: str = ""


ROOT_USER = User(0, 0, (0,), "/root", "root")


def _inside(root: Path, relative: str) -> Path:
    """``root/relative`` with symlinks resolved as a chroot would (never leaving root)."""
    current = root
    seen = 0
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink():
            seen += 1
            if seen > 40:
                return candidate
            target = os.readlink(candidate)
            if target.startswith("/"):
                current = root
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        current = candidate
    return current


def _lines(root: Path, relative: str) -> list[list[str]]:
    path = _inside(root, relative)
    try:
        text = path.read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return []
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            rows.append(line.split(":"))
    return rows


def read_passwd(root: Path) -> list[PasswdEntry]:
    entries = []
    for f in _lines(root, "etc/passwd"):
        if len(f) >= 4 and f[2].isdigit() and f[3].isdigit():
            entries.append(PasswdEntry(f[0], int(f[2]), int(f[3]), f[5] if len(f) > 5 else ""))
    return entries


def read_group(root: Path) -> list[GroupEntry]:
    entries = []
    for f in _lines(root, "etc/group"):
        if len(f) >= 3 and f[2].isdigit():
            members = tuple(m for m in (f[3] if len(f) > 3 else "").split(",") if m)
            entries.append(GroupEntry(f[0], int(f[2]), members))
    return entries


def _find_user(root: Path, spec: str) -> PasswdEntry | None:
    passwd = read_passwd(root)
    if spec.isdigit():
        uid = int(spec)
        return next((e for e in passwd if e.uid == uid), None)
    return next((e for e in passwd if e.name == spec), None)


def _group_id(root: Path, spec: str, what: str) -> int:
    if spec.isdigit():
        return int(spec)
    found = next((g for g in read_group(root) if g.name == spec), None)
    if found is None:
        raise BuildError(f"{what}: unknown group {spec!r} (not in the image's /etc/group)")
    return found.gid


def resolve_user(root: Path, spec: str, *, what: str = "USER") -> User:
    """The user a RUN executes as for ``USER spec`` (see the module docstring)."""
    spec = spec.strip() or "0"  # no USER: root, with root's groups from the image
    user_part, _, group_part = spec.partition(":")
    entry = _find_user(root, user_part)
    if entry is None and not user_part.isdigit():
        raise BuildError(f"{what}: unknown user {user_part!r} (not in the image's /etc/passwd)")
    uid = int(user_part) if entry is None else entry.uid
    if group_part:
        gid = _group_id(root, group_part, what)
        groups: tuple[int, ...] = (gid,)
    else:
        gid = entry.gid if entry is not None else 0
        name = entry.name if entry is not None else ""
        members = {g.gid for g in read_group(root) if name and name in g.members}
        groups = tuple(sorted(members | {gid}))
    home = entry.home if entry is not None and entry.home else "/"
    return User(uid, gid, groups, home, entry.name if entry else "")


def resolve_chown(root: Path, spec: str, *, what: str = "--chown") -> tuple[int, int]:
    """The (uid, gid) of ``COPY/ADD --chown=spec``."""
    user_part, sep, group_part = spec.strip().partition(":")
    if not user_part:
        raise BuildError(f"{what}: empty user in {spec!r}")
    if user_part.isdigit():
        uid = primary = int(user_part)
    else:
        entry = _find_user(root, user_part)
        if entry is None:
            raise BuildError(f"{what}: unknown user {user_part!r} (not in the image's /etc/passwd)")
        uid, primary = entry.uid, entry.gid
    gid = _group_id(root, group_part, what) if sep and group_part else primary
    return uid, gid
