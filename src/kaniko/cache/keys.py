"""Cache keys: one function turns a step's inputs into the key it is looked up and stored by.

The Go kaniko computed the key it looked up and the key it pushed in two places that
drifted apart (kaniko#410, #899), so entries were written and never found. Here a key is
made by :func:`cache_key` and nothing else, once per step, and that one value is used to
read and to write.

A key chains: it hashes the key of the stage's previous filesystem step (or the identity
of the stage's base: :func:`base_identity`) with :class:`KeyParts`, the named inputs of
the step that can change its layer:

* the instruction after variable expansion (:func:`instruction_form`: every field but its
  source text and line numbers, so a comment added above a step does not invalidate it);
* for RUN: the ENV and ARG values the step can see, the SHELL, USER and WORKDIR, the
  ``RUN --mount`` sources (a hook the mounts work fills: specs only, never a secret's
  value), the ignore list of snapshots;
* for COPY and ADD: a digest of the sources' content and the metadata that reaches the
  layer (see :mod:`kaniko.executor.sourcedigest`), the identity of the ``--from`` stage's
  result or image (never a stale copy: kaniko#589, #2615), WORKDIR and USER;
* for every step, the options that change layer bytes (:func:`layer_options`).

Secrets are never part of a key: build secrets are mounted, not written in instructions,
and the predefined proxy ARGs (which may carry credentials) are left out, as Docker does.
File modification times are left out too (a fresh ``git clone`` must still hit, as in
Docker, BuildKit and the Go kaniko); with ``--reproducible`` every time in a layer is the
epoch, so there they cannot make a hit differ from a cold build.

Keys are 64 hex digits: valid registry tags, as the Go kaniko's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform

KEY_VERSION = "kaniko-python/layer-cache/v1"
"""Changes when the key's recipe changes, so old entries are not read by a new recipe."""

_POSITIONAL = frozenset({"original", "line", "end_line"})

KeyParts = Sequence[tuple[str, str]]
"""The named inputs of one step, in a fixed order."""


def cache_key(parent: str, parts: KeyParts) -> str:
    """The key of a step whose predecessor's key (or base identity) is ``parent``."""
    hasher = hashlib.sha256()
    hasher.update(KEY_VERSION.encode())
    for name, value in (("parent", parent), *parts):
        data = value.encode("utf-8", "surrogateescape")
        hasher.update(b"\0%s\0%d\0" % (name.encode(), len(data)))
        hasher.update(data)
    return hasher.hexdigest()


def describe(parent: str, parts: KeyParts) -> str:
    """What went into a key, for the debug log: each part's name and a short digest of its
    value (values are not shown: an ARG's may be a secret), so two builds' logs show which
    input made their keys differ."""
    shown = [f"parent={parent[:12]}"]
    for name, value in parts:
        digest = hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
        shown.append(f"{name}={digest[:12]}")
    return " ".join(shown)


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data; dataclasses by field, positions left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in _POSITIONAL
        }
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    return value


def instruction_form(instruction: Any) -> str:
    """An expanded instruction as canonical text: its keyword and every field that says
    what it does (not where it was written)."""
    keyword = getattr(instruction, "keyword", type(instruction).__name__)
    body = json.dumps(_plain(instruction), sort_keys=True, separators=(",", ":"), default=str)
    return f"{keyword} {body}"


def pairs_form(pairs: Iterable[tuple[str, str]]) -> str:
    """Name/value pairs (ENV, ARG) as canonical text, in their order."""
    return json.dumps([list(p) for p in pairs], separators=(",", ":"))


def layer_options(
    *,
    reproducible: bool,
    epoch: int,
    compression: str | None,
    level: int,
    snapshot_mode: str,
    oci: bool,
) -> str:
    """The options that change a layer's bytes, as key text."""
    return json.dumps(
        {
            "reproducible": reproducible,
            "epoch": epoch if reproducible else None,
            "compression": compression or "gzip",
            "level": level if level > 0 else None,
            "snapshot_mode": snapshot_mode,
            "oci": oci,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def rootfs_identity(diff_ids: Sequence[Digest], platform: Platform) -> str:
    """The identity of a filesystem: the chain of its layers' diff IDs and its platform.

    Two images with this identity hold the same files, whatever their configs' times.
    """
    hasher = hashlib.sha256(str(platform).encode())
    for diff_id in diff_ids:
        hasher.update(b"\n" + str(diff_id).encode())
    return "rootfs:sha256:" + hasher.hexdigest()


def image_identity(image: Image, platform: Platform) -> str:
    """What a registry image (a base, ``COPY --from=<image>``) is: its manifest digest."""
    return f"image:{image.digest()}@{platform}"


def base_identity(kind: str, image: Image, platform: Platform) -> str:
    """Where a stage's key chain starts: ``scratch``, a registry image's digest, or an
    earlier stage's result (``kind`` ``"stage"``: its filesystem, see
    :func:`rootfs_identity`)."""
    if kind == "scratch":
        return f"scratch@{platform}"
    if kind == "stage":
        return rootfs_identity(image.config().diff_ids, platform)
    return image_identity(image, platform)
