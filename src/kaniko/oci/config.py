"""The image configuration blob: platform, run config, layer diff IDs and history.

:class:`ImageConfig` reads Docker (``application/vnd.docker.container.image.v1+json``)
and OCI config blobs alike. Fields it does not model (``container``, ``docker_version``,
``container_config``, vendor additions) are kept verbatim in ``extra``, so
``from_json(x).to_json()`` loses no information. ``to_json`` writes go-containerregistry's
``v1.ConfigFile`` field order with its ``omitempty`` rules, unknown fields last, so a config
without unknown fields serialises byte for byte like the Go kaniko's.

Times are kept as the strings the document holds; :func:`go_time` formats a datetime the
way Go's ``time.Time`` marshals (RFC 3339 with trimmed fractional seconds). One deliberate
difference from ggcr: a missing ``created`` stays missing instead of becoming
``0001-01-01T00:00:00Z``; set it explicitly to reproduce that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from kaniko.errors import ImageError
from kaniko.oci.canonical import Omit, dumps, go_struct, loads_object, unknown_fields
from kaniko.oci.descriptor import optional_str, string_list
from kaniko.oci.digest import Digest, digest_problem
from kaniko.oci.platform import Platform
from kaniko.oci.runconfig import HealthConfig, RunConfig

_CONFIG_LAYOUT: tuple[tuple[str, Omit], ...] = (
    ("architecture", "never"),
    ("author", "empty"),
    ("container", "empty"),
    ("created", "nil"),
    ("docker_version", "empty"),
    ("history", "empty"),
    ("os", "never"),
    ("rootfs", "never"),
    ("config", "never"),
    ("os.version", "empty"),
    ("variant", "empty"),
    ("os.features", "empty"),
)
_HISTORY_LAYOUT: tuple[tuple[str, Omit], ...] = (
    ("author", "empty"),
    ("created", "nil"),
    ("created_by", "empty"),
    ("comment", "empty"),
    ("empty_layer", "empty"),
)
_TYPED_KEYS = frozenset(
    [
        "architecture",
        "author",
        "created",
        "history",
        "os",
        "rootfs",
        "config",
        "os.version",
        "variant",
        "os.features",
    ]
)
_HISTORY_KEYS = frozenset(key for key, _ in _HISTORY_LAYOUT)

__all__ = ["HealthConfig", "History", "ImageConfig", "RunConfig", "go_time"]


def go_time(moment: datetime) -> str:
    """``moment`` as Go marshals a ``time.Time``: ``2024-05-01T12:00:00.5Z`` (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S")  # %Y drops year 1's zeros
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset()
    minutes = 0 if offset is None else int(offset.total_seconds()) // 60
    if minutes == 0:
        return text + "Z"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{mins:02d}"


@dataclass(frozen=True, slots=True)
class History:
    """One history entry; ``empty_layer`` entries have no layer (metadata-only steps)."""

    created_by: str = ""
    created: str | None = None
    author: str = ""
    comment: str = ""
    empty_layer: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, value: Any, what: str) -> History:
        if not isinstance(value, dict):
            raise ImageError(f"{what}: history entry is not a JSON object")
        empty = value.get("empty_layer", False)
        if not isinstance(empty, bool | None):
            raise ImageError(f"{what}: empty_layer must be a boolean")
        created = value.get("created")
        if created is not None and not isinstance(created, str):
            raise ImageError(f"{what}: created must be a string")
        return cls(
            created_by=optional_str(value, "created_by", what),
            created=created,
            author=optional_str(value, "author", what),
            comment=optional_str(value, "comment", what),
            empty_layer=bool(empty),
            extra=unknown_fields(value, _HISTORY_LAYOUT, _HISTORY_KEYS),
        )

    def to_dict(self) -> dict[str, Any]:
        values = {
            **self.extra,
            "author": self.author,
            "created": self.created,
            "created_by": self.created_by,
            "comment": self.comment,
            "empty_layer": self.empty_layer,
        }
        return go_struct(values, _HISTORY_LAYOUT)


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """An image config. Update it with the ``with_*`` helpers, which return new objects."""

    architecture: str = ""
    os: str = ""
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()
    created: str | None = None
    author: str = ""
    config: RunConfig = field(default_factory=RunConfig)
    rootfs_type: str = "layers"
    diff_ids: tuple[Digest, ...] = ()
    rootfs_extra: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[History, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: bytes, *, what: str = "image config") -> ImageConfig:
        """Validate and read a config blob."""
        obj = loads_object(data, what)
        rootfs = obj.get("rootfs")
        if not isinstance(rootfs, dict):
            raise ImageError(f"{what}: missing rootfs")
        diff_ids = rootfs.get("diff_ids")
        diff_ids = [] if diff_ids is None else diff_ids
        if not isinstance(diff_ids, list):
            raise ImageError(f"{what}: rootfs.diff_ids must be a list")
        for i, text in enumerate(diff_ids):
            problem = digest_problem(text) if isinstance(text, str) else "not a string"
            if problem:
                raise ImageError(f"{what}: rootfs.diff_ids[{i}] {text!r}: {problem}")
        history = obj.get("history")
        history = [] if history is None else history
        if not isinstance(history, list):
            raise ImageError(f"{what}: history must be a list")
        created = obj.get("created")
        if created is not None and not isinstance(created, str):
            raise ImageError(f"{what}: created must be a string")
        return cls(
            architecture=optional_str(obj, "architecture", what),
            os=optional_str(obj, "os", what),
            variant=optional_str(obj, "variant", what),
            os_version=optional_str(obj, "os.version", what),
            os_features=string_list(obj, "os.features", what),
            created=created,
            author=optional_str(obj, "author", what),
            config=RunConfig.from_dict(obj.get("config"), what),
            rootfs_type=optional_str(rootfs, "type", f"{what}: rootfs"),
            diff_ids=tuple(Digest.parse(text) for text in diff_ids),
            rootfs_extra={k: v for k, v in rootfs.items() if k not in ("type", "diff_ids")},
            history=tuple(
                History.from_dict(entry, f"{what}: history[{i}]") for i, entry in enumerate(history)
            ),
            extra=unknown_fields(obj, _CONFIG_LAYOUT, _TYPED_KEYS),
        )

    def to_dict(self) -> dict[str, Any]:
        """The config as an ordered dict in ggcr's ``v1.ConfigFile`` order."""
        values = {
            **self.extra,
            "architecture": self.architecture,
            "author": self.author,
            "created": self.created,
            "history": [entry.to_dict() for entry in self.history],
            "os": self.os,
            "rootfs": {
                "type": self.rootfs_type,
                "diff_ids": [str(d) for d in self.diff_ids],
                **self.rootfs_extra,
            },
            "config": self.config.to_dict(),
            "os.version": self.os_version,
            "variant": self.variant,
            "os.features": list(self.os_features),
        }
        return go_struct(values, _CONFIG_LAYOUT)

    def to_json(self) -> bytes:
        """Compact JSON bytes (see the module docstring for the exact form)."""
        return dumps(self.to_dict())

    @property
    def platform(self) -> Platform:
        """The platform this image is built for."""
        return Platform(self.os, self.architecture, self.variant)

    # ---- immutable updates -----------------------------------------------------------

    def replace(self, **changes: Any) -> ImageConfig:
        """A copy with top-level fields replaced (``dataclasses.replace``)."""
        return replace(self, **changes)

    def with_config(self, **changes: Any) -> ImageConfig:
        """A copy whose run config has ``changes`` applied (``user=…``, ``cmd=(…)`` …)."""
        return replace(self, config=replace(self.config, **changes))

    def with_env(self, name: str, value: str) -> ImageConfig:
        """A copy with one environment variable set."""
        return replace(self, config=self.config.with_env(name, value))

    def with_labels(self, labels: Mapping[str, str]) -> ImageConfig:
        """A copy with labels added or replaced."""
        return replace(self, config=self.config.with_labels(labels))

    def with_history(self, entry: History) -> ImageConfig:
        """A copy with a history entry appended (use ``empty_layer=True`` for no layer)."""
        return replace(self, history=(*self.history, entry))

    def with_layer(self, diff_id: Digest, entry: History | None = None) -> ImageConfig:
        """A copy with a layer's diff ID appended, and its history entry if given."""
        history = self.history if entry is None else (*self.history, entry)
        return replace(self, diff_ids=(*self.diff_ids, diff_id), history=history)
