"""A RUN step's mounts in a form a cache key can hash: never a secret's value.

A layer cache keys a RUN by what can change its result. Its mounts are part of that:
:func:`step_mount_keys` gives one :class:`MountKey` per ``--mount`` of a step, in the
Dockerfile's order, each with a canonical :attr:`MountKey.text` (``key=value`` fields in
a fixed order, defaults filled in, ``from`` resolved to ``context``, ``stage:<index>`` or
``image:<reference>``). Hash the texts in order, and the step's ``--network``.

What the text cannot say is left to the key function, as BuildKit leaves it to its
content checksums:

* ``bind`` (and a ``cache`` seeded ``from`` something): the *content* of ``source`` in
  ``from`` changes the result: hash it (:attr:`MountKey.content` names it: the origin and
  the path, or None when nothing needs hashing);
* ``cache``: its content never counts (BuildKit's rule: a cache mount is not an input);
* ``secret``: the id, target, ``env`` and options count, the value never (BuildKit's
  rule, and a cache key is stored in the clear next to the image);
* ``ssh``, ``tmpfs``: only their options count.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaniko.dockerfile.commands import Run
from kaniko.dockerfile.mounts import Mount
from kaniko.plan.model import StageRef, Step


@dataclass(frozen=True, slots=True)
class MountKey:
    """One mount of a step as a cache key sees it (see the module docs)."""

    text: str
    content: tuple[str, str] | None  # (origin, source path) whose content to hash


def origin_text(origin: StageRef | None) -> str:
    """``context``, ``stage:<index>`` or ``image:<reference>``."""
    if origin is None:
        return "context"
    return f"stage:{origin}" if isinstance(origin, int) else f"image:{origin}"


def mount_key(mount: Mount, origin: StageRef | None) -> MountKey:
    """The key of one parsed (and expanded) mount whose ``from`` resolved to ``origin``."""
    fields: list[tuple[str, object]] = [("type", mount.type), ("target", mount.target)]
    content = None
    if mount.type in ("bind", "cache"):
        seeded = mount.type == "bind" or bool(mount.from_)
        if seeded:
            where = origin_text(origin)
            source = "/" + mount.source.strip("/")
            fields += [("from", where), ("source", source)]
            content = (where, source)
        fields.append(("readonly", mount.readonly))
    if mount.type == "cache":
        fields += [("id", mount.id), ("sharing", mount.sharing)]
    if mount.type in ("cache", "secret", "ssh"):
        fields += [("uid", mount.uid), ("gid", mount.gid), ("mode", mount.mode)]
    if mount.type in ("secret", "ssh"):
        fields += [("id", mount.id), ("required", mount.required)]
    if mount.type == "secret":
        fields.append(("env", mount.env))
    if mount.type == "tmpfs":
        fields.append(("size", mount.size))
    text = ",".join(f"{k}={'' if v is None else v}" for k, v in fields)
    return MountKey(text, content)


def step_mount_keys(step: Step) -> tuple[MountKey, ...]:
    """The keys of a RUN step's mounts, in order (empty for any other step)."""
    instr = step.instruction
    if not isinstance(instr, Run):
        return ()
    origins = step.mount_from or (None,) * len(instr.mounts)
    return tuple(
        mount_key(mount, origin if mount.type in ("bind", "cache") else None)
        for mount, origin in zip(instr.mounts, origins, strict=True)
    )
