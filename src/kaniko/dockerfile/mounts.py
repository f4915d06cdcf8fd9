"""``RUN --mount``, ``--network`` and ``--security`` values, checked as BuildKit checks them.

A mount spec is one CSV line of ``key=value`` fields (``type=cache,target=/root/.cache``).
Types are ``bind`` (the default), ``cache``, ``tmpfs``, ``secret`` and ``ssh``; keys are
case-insensitive and have aliases (``src``/``source``, ``dst``/``destination``/``target``,
``ro``/``readonly``, ``rw``/``readwrite``). Values may use variables: the planner expands
them with the step's environment (``expand``), except ``from``, which never expands.
Without an expander (parse time), a spec whose values use variables is only checked for
its form: text fields keep the ``$`` words, other fields are left at their defaults, and
the full check happens when the planner parses it again, expanded.

Defaults filled in here: bind, secret and ssh mounts are read-only, cache and tmpfs
read-write; a cache's ``id`` defaults to its target and ``sharing`` to ``shared``; a
secret's ``id`` defaults to its ``source`` or the base name of its target, and its target
to ``/run/secrets/<id>`` unless it only sets ``env``; an ssh mount's ``id`` is ``default``.
"""

from __future__ import annotations

import csv
import difflib
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
SHARING_MODES = ("shared", "private", "locked")
NETWORK_MODES = ("default", "none", "host")
SECURITY_MODES = ("sandbox", "insecure")

_KEYS = (
    *("type", "from", "source", "src", "target", "dst", "destination", "readonly", "ro"),
    *("readwrite", "rw", "required", "size", "id", "sharing", "mode", "uid", "gid", "env"),
)
_TEXT_KEYS = frozenset({"source", "src", "target", "dst", "destination", "id", "env"})
_RAM = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$", re.IGNORECASE)


class MountError(ValueError):
    """A mount, network or security value that BuildKit would refuse."""


@dataclass(frozen=True, slots=True)
class Mount:
    """One ``RUN --mount`` after parsing (and, in a plan, after expansion)."""

    type: str = "bind"
    target: str = ""
    source: str = ""
    from_: str = ""
    readonly: bool = True
    id: str = ""
    sharing: str = ""
    required: bool = False
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None
    env: str = ""


def _bool(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise MountError(f"invalid value for {key}: {value}")


def _number(key: str, value: str, base: int) -> int:
    try:
        number = int(value, base)
    except ValueError:
        raise MountError(f"invalid value {value} for {key}") from None
    if number < 0 or number > 0xFFFFFFFF:
        raise MountError(f"invalid value {value} for {key}")
    return number


def ram_in_bytes(value: str) -> int:
    """Parse a size like ``64m``, ``1g``, ``512KiB`` (binary multiples) into bytes."""
    match = _RAM.match(value.strip())
    if match is None:
        raise MountError(f"invalid value for size: {value}")
    power = " kmgtp".index(match.group(2).lower() or " ")
    return int(float(match.group(1)) * 1024**power)


def _fields(spec: str) -> list[str]:
    try:
        rows = list(csv.reader([spec], strict=True))
    except csv.Error as exc:
        raise MountError(f"failed to parse csv mounts: {exc}") from exc
    return rows[0] if rows else []


def parse_mount(spec: str, expand: Callable[[str], str] | None = None) -> Mount:
    """Parse one ``--mount`` value; ``expand`` resolves variables in values (not ``from``)."""
    m = Mount()
    ro_auto = True
    deferred = False
    for field in _fields(spec):
        key, eq, value = field.partition("=")
        key = key.lower()
        if not eq:
            if key in ("readonly", "ro", "readwrite", "rw"):
                m = replace(m, readonly=key in ("readonly", "ro"))
                ro_auto = False
            elif key == "required" and m.type in ("secret", "ssh"):
                m = replace(m, required=True)
            elif key == "required":
                raise MountError(f"unexpected key '{key}' for mount type '{m.type}'")
            else:
                raise MountError(f"invalid field '{field}' must be a key=value pair")
            continue
        if key == "from":
            if re.search(r"\$.", value):
                raise MountError(
                    "'from' doesn't support variable expansion, define alias stage instead"
                )
        elif expand is not None:
            value = expand(value)
        elif "$" in value:
            deferred = True  # the planner parses the spec again, expanded, and checks it
            if key not in _TEXT_KEYS:
                continue
        m, ro_auto = _set(m, key, value, field, ro_auto)
    return m if deferred else _validate(m, ro_auto)


def _set(m: Mount, key: str, value: str, field: str, ro_auto: bool) -> tuple[Mount, bool]:
    if key == "type":
        if value.lower() not in MOUNT_TYPES:
            raise MountError(f'unsupported mount type "{value}"')
        return replace(m, type=value.lower()), ro_auto
    if key == "from":
        return replace(m, from_=value), ro_auto
    if key in ("source", "src"):
        return replace(m, source=value), ro_auto
    if key in ("target", "dst", "destination"):
        return replace(m, target=value), ro_auto
    if key in ("readonly", "ro"):
        return replace(m, readonly=_bool(key, value)), False
    if key in ("readwrite", "rw"):
        return replace(m, readonly=not _bool(key, value)), False
    if key == "required":
        if m.type not in ("secret", "ssh"):
            raise MountError(f"unexpected key '{key}' for mount type '{m.type}'")
        return replace(m, required=_bool(key, value)), ro_auto
    if key == "size":
        if m.type != "tmpfs":
            raise MountError(f"unexpected key '{key}' for mount type '{m.type}'")
        return replace(m, size=ram_in_bytes(value)), ro_auto
    if key == "env":
        if m.type != "secret":
            raise MountError(f"unexpected key '{key}' for mount type '{m.type}'")
        return replace(m, env=value), ro_auto
    if key == "id":
        return replace(m, id=value), ro_auto
    if key == "sharing":
        if value.lower() not in SHARING_MODES:
            raise MountError(f'unsupported sharing value "{value}"')
        return replace(m, sharing=value.lower()), ro_auto
    if key == "mode":
        return replace(m, mode=_number(key, value, 8)), ro_auto
    if key == "uid":
        return replace(m, uid=_number(key, value, 10)), ro_auto
    if key == "gid":
        return replace(m, gid=_number(key, value, 10)), ro_auto
    message = f"unexpected key '{key}' in '{field}'"
    close = difflib.get_close_matches(key, _KEYS, n=1, cutoff=0.6)
    raise MountError(f"{message} (did you mean {close[0]}?)" if close else message)


def _validate(m: Mount, ro_auto: bool) -> Mount:
    if m.type not in ("secret", "ssh", "cache"):
        for name in ("mode", "uid", "gid"):
            if getattr(m, name) is not None:
                raise MountError(f'{name} not allowed for "{m.type}" type mounts')
    if ro_auto:
        m = replace(m, readonly=m.type not in ("cache", "tmpfs"))
    if m.sharing and m.type != "cache":
        raise MountError(f"invalid cache sharing set for {m.type} mount")
    if m.type == "secret":
        if m.from_:
            raise MountError("secret mount should not have a from")
        if not (m.source or m.target or m.id or m.env):
            raise MountError("invalid secret mount. one of source, target required")
        if m.source and m.id:
            raise MountError("both source and id can't be set")
        secret_id = m.id or m.source or posixpath.basename(m.target)
        target = m.target or ("" if m.env else f"/run/secrets/{secret_id}")
        return replace(m, id=secret_id, source="", target=target)
    if m.type == "ssh":
        return replace(m, id=m.id or "default")
    if not m.target:
        raise MountError(f"mount type={m.type} requires a target")
    if m.type == "cache":
        return replace(m, id=m.id or m.target, sharing=m.sharing or "shared")
    return m


def check_network(value: str) -> str:
    """Validate ``RUN --network``."""
    if value not in NETWORK_MODES:
        raise MountError(f'unsupported network mode "{value}"')
    return value


def check_security(value: str) -> str:
    """Validate ``RUN --security``."""
    if value not in SECURITY_MODES:
        raise MountError(f'unsupported security mode "{value}"')
    return value
