"""Descriptors: typed pointers (media type, digest, size) from one OCI object to another.

Descriptors appear as a manifest's ``config`` and ``layers``, an index's ``manifests`` and
any ``subject``. Reading validates every field and keeps fields we do not model (in
``extra`` and ``platform_extra``), so writing a descriptor back never loses anything.
Writing follows go-containerregistry's ``v1.Descriptor`` and ``v1.Platform`` field order
(see :mod:`kaniko.oci.canonical`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kaniko.errors import ImageError
from kaniko.oci.canonical import Omit, go_struct, sorted_map
from kaniko.oci.digest import Digest, digest_problem, sha256_of
from kaniko.oci.platform import Platform

_DESCRIPTOR_LAYOUT: tuple[tuple[str, Omit], ...] = (
    ("mediaType", "never"),
    ("size", "never"),
    ("digest", "never"),
    ("data", "empty"),
    ("urls", "empty"),
    ("annotations", "empty"),
    ("platform", "nil"),
    ("artifactType", "empty"),
)
_PLATFORM_LAYOUT: tuple[tuple[str, Omit], ...] = (
    ("architecture", "never"),
    ("os", "never"),
    ("os.version", "empty"),
    ("os.features", "empty"),
    ("variant", "empty"),
    ("features", "empty"),
)
_DESCRIPTOR_KEYS = frozenset(key for key, _ in _DESCRIPTOR_LAYOUT)


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A content descriptor. ``data`` is the base64 text of an embedded blob, if any."""

    media_type: str
    digest: Digest
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    urls: tuple[str, ...] = ()
    artifact_type: str = ""
    data: str = ""
    # Platform fields beyond os/architecture/variant (os.version, os.features, features).
    platform_extra: Mapping[str, Any] = field(default_factory=dict)
    # Descriptor fields this model does not know, kept verbatim.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_blob(
        cls, data: bytes, media_type: str, *, platform: Platform | None = None
    ) -> Descriptor:
        """The descriptor of ``data`` (sha256) as a blob of ``media_type``."""
        return cls(media_type, sha256_of(data), len(data), platform=platform)

    @classmethod
    def from_dict(cls, value: Any, what: str) -> Descriptor:
        """Validate and read one descriptor; ``what`` (e.g. ``layers[2]``) names it in errors."""
        if not isinstance(value, dict):
            raise ImageError(f"{what}: descriptor is not a JSON object")
        media_type = require_str(value, "mediaType", what)
        if not media_type:
            raise ImageError(f"{what}: mediaType is empty")
        digest_text = require_str(value, "digest", what)
        problem = digest_problem(digest_text)
        if problem:
            raise ImageError(f"{what}: invalid digest {digest_text!r}: {problem}")
        size = value.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ImageError(f"{what}: size must be a non-negative integer, got {size!r}")
        platform, platform_extra = _read_platform(value.get("platform"), what)
        return cls(
            media_type=media_type,
            digest=Digest.parse(digest_text),
            size=size,
            platform=platform,
            annotations=string_map(value, "annotations", what),
            urls=string_list(value, "urls", what),
            artifact_type=optional_str(value, "artifactType", what),
            data=optional_str(value, "data", what),
            platform_extra=platform_extra,
            extra={k: v for k, v in value.items() if k not in _DESCRIPTOR_KEYS},
        )

    def to_dict(self) -> dict[str, Any]:
        """The descriptor as an ordered dict ready for :func:`~kaniko.oci.canonical.dumps`."""
        platform = None
        if self.platform is not None:
            fields = {
                "architecture": self.platform.architecture,
                "os": self.platform.os,
                "variant": self.platform.variant,
                **self.platform_extra,
            }
            platform = go_struct(fields, _PLATFORM_LAYOUT)
        values = {
            "mediaType": self.media_type,
            "size": self.size,
            "digest": str(self.digest),
            "data": self.data,
            "urls": list(self.urls),
            "annotations": sorted_map(self.annotations),
            "platform": platform,
            "artifactType": self.artifact_type,
            **self.extra,
        }
        return go_struct(values, _DESCRIPTOR_LAYOUT)


def _read_platform(value: Any, what: str) -> tuple[Platform | None, dict[str, Any]]:
    if value is None:
        return None, {}
    if not isinstance(value, dict):
        raise ImageError(f"{what}: platform is not a JSON object")
    where = f"{what}.platform"
    platform = Platform(
        os=require_str(value, "os", where),
        architecture=require_str(value, "architecture", where),
        variant=optional_str(value, "variant", where),
    )
    extra = {k: v for k, v in value.items() if k not in ("os", "architecture", "variant")}
    return platform, extra


def require_str(obj: Mapping[str, Any], key: str, what: str) -> str:
    """``obj[key]``, which must be present and a string."""
    if key not in obj:
        raise ImageError(f"{what}: missing {key}")
    value = obj[key]
    if not isinstance(value, str):
        raise ImageError(f"{what}: {key} must be a string, got {value!r}")
    return value


def optional_str(obj: Mapping[str, Any], key: str, what: str) -> str:
    """``obj[key]`` if present (a string; ``null`` reads as empty), else ``""``."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImageError(f"{what}: {key} must be a string, got {value!r}")
    return value


def string_list(obj: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    """``obj[key]`` as a tuple of strings (absent or ``null`` reads as empty)."""
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImageError(f"{what}: {key} must be a list of strings")
    return tuple(value)


def string_map(obj: Mapping[str, Any], key: str, what: str) -> dict[str, str]:
    """``obj[key]`` as a string-to-string dict (absent or ``null`` reads as empty)."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ImageError(f"{what}: {key} must be a map of strings")
    return dict(value)
