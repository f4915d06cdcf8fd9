"""Users and groups as the image itself defines them (its ``/etc/passwd`` and ``/etc/group``).

Docker resolves ``USER`` and ``--chown`` names inside the image being built, never on the
host, and BuildKit does it two ways (read in moby/buildkit: executor/oci/user.go and
moby/sys/user's GetExecUser for RUN; client/llb/fileop.go ``WithUser`` and
solver/llbsolver/ops/user_linux.go ``readUser`` for its file operations):

- **RUN** (:func:`resolve_user`). ``uid:gid`` where both are numbers or ``root`` needs no
  lookup. Otherwise a user name must exist in the image's passwd (``USER root`` on an
  image without ``/etc/passwd`` fails: "unable to find user root"); a numeric uid need
  not. Without a group, the gid is the user's primary gid from passwd (0 for a uid that
  is not there) and the supplementary groups are those of ``/etc/group`` that list the
  user; an explicit group name must exist. A passwd or group file that is missing or is
  not a regular file counts as empty. No USER at all is root and never fails. The
  supplementary groups always hold the primary gid (BuildKit since the CVE-2023-25173
  fix, runc and buildah do the same). ``HOME`` is the passwd home, or ``/``.
- **File operations**: ``COPY/ADD --chown`` and the directories ``WORKDIR`` creates for the
  stage's USER (:func:`resolve_chown`). ``root`` and numbers are ids without a lookup
  (a user number is also the gid unless a group is given); a name is looked up, and one
  that is not there, or a missing passwd/group file, gives uid 0 (and leaves the gid as
  the user part made it) instead of an error. A passwd or group file that is not a
  regular file is an error here.
- Either way a passwd or group file over 10 MiB is an error, and ``etc/passwd`` and
  ``etc/group`` are found with symlinks resolved inside the root, as a chroot would, so an
  image whose ``/etc`` is a symlink cannot make us read host files (nor a FIFO or device
  make us block or read forever).
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kaniko.errors import BuildError

log = logging.getLogger(__name__)

MAX_TABLE_BYTES = 10 << 20
"""The largest passwd or group file read (BuildKit's limit)."""
_DECIMAL = re.compile(r"[0-9]+")


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


def _table_text(root: Path, relative: str, strict: bool) -> str:
    """The text of ``root/relative``: empty when it is missing, or (unless ``strict``)
    not a regular file."""
    path = _inside(root, relative)
    shown = "/" + relative
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            if strict:
                raise BuildError(f"{shown} is not a regular file")
            return ""
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return ""
    except OSError as exc:
        if strict:
            raise BuildError(f"{shown}: {exc.strerror}") from None
        return ""
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # replaced since the lstat
            raise BuildError(f"{shown} is not a regular file")
        data = f.read(MAX_TABLE_BYTES + 1)
    if len(data) > MAX_TABLE_BYTES:
        raise BuildError(f"{shown} exceeds {MAX_TABLE_BYTES} bytes")
    return data.decode(errors="replace")


def _lines(root: Path, relative: str, strict: bool = False) -> list[list[str]]:
    text = _table_text(root, relative, strict)
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            rows.append(line.split(":"))
    return rows


def read_passwd(root: Path, strict: bool = False) -> list[PasswdEntry]:
    entries = []
    for f in _lines(root, "etc/passwd", strict):
        if len(f) >= 4 and f[2].isdigit() and f[3].isdigit():
            entries.append(PasswdEntry(f[0], int(f[2]), int(f[3]), f[5] if len(f) > 5 else ""))
    return entries


def read_group(root: Path, strict: bool = False) -> list[GroupEntry]:
    entries = []
    for f in _lines(root, "etc/group", strict):
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


def _numeric_id(spec: str, limit: int) -> int | None:
    """``spec`` as an id without a lookup: ``root`` or a decimal number below ``limit``."""
    if spec == "root":
        return 0
    if _DECIMAL.fullmatch(spec) and int(spec) < limit:
        return int(spec)
    return None


def _unknown_user(root: Path, name: str, what: str) -> BuildError:
    where = "not in the image's /etc/passwd"
    if not _inside(root, "etc/passwd").is_file():
        where = "the image has no /etc/passwd"
    return BuildError(f"{what}: unknown user {name!r} ({where})")


@contextmanager
def _naming(what: str) -> Iterator[None]:
    """Errors of the passwd and group files named after the instruction that read them."""
    try:
        yield
    except BuildError as exc:
        if str(exc).startswith(f"{what}: "):
            raise
        raise BuildError(f"{what}: {exc}") from None


def resolve_user(root: Path, spec: str, *, what: str = "USER") -> User:
    """The user a RUN executes as for ``USER spec`` (see the module docstring)."""
    with _naming(what):
        return _resolve_user(root, spec, what)


def _resolve_user(root: Path, spec: str, what: str) -> User:
    user_part, sep, group_part = spec.strip().partition(":")
    if sep:
        uid, gid = _numeric_id(user_part, 1 << 32), _numeric_id(group_part, 1 << 32)
        if uid is not None and gid is not None:  # no lookup (BuildKit's ParseUIDGID)
            entry = next((e for e in read_passwd(root) if e.uid == uid), None)
            home = entry.home if entry is not None and entry.home else "/"
            return User(uid, gid, (gid,), home, entry.name if entry else "")
    if user_part:
        return _lookup_user(root, user_part, group_part, what)
    if sep:  # ":group": uid 0 (GetExecUser's default), the group as given
        return _lookup_user(root, "0", group_part, what)
    try:
        return _lookup_user(root, "0", "", what)
    except BuildError:  # no USER: root, whatever the image's files hold
        return User(0, 0, (0,), "/", "")


def _lookup_user(root: Path, user_part: str, group_part: str, what: str) -> User:
    entry = _find_user(root, user_part)
    if entry is None and not user_part.isdigit():
        raise _unknown_user(root, user_part, what)
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
    """The (uid, gid) a file operation gives for ``spec``: ``COPY/ADD --chown=spec``, or
    the directories ``WORKDIR`` creates under ``USER spec`` (see the module docstring)."""
    with _naming(what):
        return _file_owner(root, spec, what)


def _file_owner(root: Path, spec: str, what: str) -> tuple[int, int]:
    user_part, sep, group_part = spec.strip().partition(":")
    uid = _numeric_id(user_part, 1 << 31)
    if uid is not None:
        gid = uid
    elif not user_part:  # BuildKit sends an empty name as uid 0
        uid = gid = 0
    else:
        entry = next((e for e in read_passwd(root, strict=True) if e.name == user_part), None)
        if entry is None:
            log.warning("%s: user %r is not in the image's /etc/passwd: uid 0", what, user_part)
            uid = gid = 0
        else:
            uid, gid = entry.uid, entry.gid
    if not sep:
        return uid, gid
    numeric_gid = _numeric_id(group_part, 1 << 31)
    if numeric_gid is not None:
        return uid, numeric_gid
    if not group_part:
        return uid, 0
    group = next((g for g in read_group(root, strict=True) if g.name == group_part), None)
    if group is None:
        log.warning("%s: group %r is not in the image's /etc/group: gid %d", what, group_part, gid)
        return uid, gid
    return uid, group.gid
