"""Image manifests and indexes (OCI and Docker v2 schema 2): read, validate, write, choose.

:func:`parse_manifest` reads the bytes a registry or layout returned and gives a
:class:`Manifest` (one image) or an :class:`Index` (OCI index / Docker manifest list).
Schema 1 manifests are refused. ``to_json()`` writes go-containerregistry's field order
(see :mod:`kaniko.oci.canonical`), so a manifest kaniko builds has the digest the Go
kaniko would give it; fields this model does not know are kept in ``extra``.

:meth:`Index.select` picks the entry for a :class:`~kaniko.oci.platform.Platform`,
skipping BuildKit's ``unknown/unknown`` attestation entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kaniko.errors import ImageError
from kaniko.oci import mediatypes as mt
from kaniko.oci.canonical import Omit, dumps, go_struct, loads_object, sorted_map
from kaniko.oci.descriptor import Descriptor, string_map
from kaniko.oci.platform import Platform

_MANIFEST_LAYOUT: tuple[tuple[str, Omit], ...] = (
    ("schemaVersion", "never"),
    ("mediaType", "empty"),
    ("config", "never"),
    ("layers", "never"),
    ("annotations", "empty"),
    ("subject", "nil"),
)
_INDEX_LAYOUT: tuple[tuple[str, Omit], ...] = (
    ("schemaVersion", "never"),
    ("mediaType", "empty"),
    ("manifests", "never"),
    ("annotations", "empty"),
    ("subject", "nil"),
)
_MANIFEST_KEYS = frozenset(key for key, _ in _MANIFEST_LAYOUT)
_INDEX_KEYS = frozenset(key for key, _ in _INDEX_LAYOUT)

# An index entry without a platform is taken to be linux/amd64, as go-containerregistry does.
_DEFAULT_PLATFORM = Platform("linux", "amd64", "")
_ATTESTATION_TYPE_KEY = "vnd.docker.reference.type"


@dataclass(frozen=True, slots=True)
class Manifest:
    """One image: its config descriptor and ordered layer descriptors."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    schema_version: int = 2
    # False when the document itself had no mediaType (it came from the Content-Type).
    media_type_declared: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(
        cls, data: bytes, *, content_type: str | None = None, what: str = "manifest"
    ) -> Manifest:
        """Read an image manifest; an index or a schema 1 manifest is an :class:`ImageError`."""
        parsed = parse_manifest(data, content_type=content_type, what=what)
        if not isinstance(parsed, Manifest):
            raise ImageError(f"{what}: expected an image manifest, got {parsed.media_type}")
        return parsed

    def to_json(self) -> bytes:
        """The manifest as compact JSON bytes in ggcr's field order."""
        values = {
            "schemaVersion": self.schema_version,
            "mediaType": self.media_type if self.media_type_declared else "",
            "config": self.config.to_dict(),
            "layers": [layer.to_dict() for layer in self.layers],
            "annotations": sorted_map(self.annotations),
            "subject": self.subject.to_dict() if self.subject else None,
            **self.extra,
        }
        return dumps(go_struct(values, _MANIFEST_LAYOUT))

    @property
    def is_docker(self) -> bool:
        """A Docker v2 schema 2 manifest (as opposed to OCI)."""
        return self.media_type == mt.DOCKER_MANIFEST


@dataclass(frozen=True, slots=True)
class Index:
    """A multi-platform index (OCI image index or Docker manifest list)."""

    media_type: str
    manifests: tuple[Descriptor, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    schema_version: int = 2
    media_type_declared: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(
        cls, data: bytes, *, content_type: str | None = None, what: str = "image index"
    ) -> Index:
        """Read an index; anything else is an :class:`ImageError`."""
        parsed = parse_manifest(data, content_type=content_type, what=what)
        if not isinstance(parsed, Index):
            raise ImageError(f"{what}: expected an image index, got {parsed.media_type}")
        return parsed

    def to_json(self) -> bytes:
        """The index as compact JSON bytes in ggcr's field order."""
        values = {
            "schemaVersion": self.schema_version,
            "mediaType": self.media_type if self.media_type_declared else "",
            "manifests": [entry.to_dict() for entry in self.manifests],
            "annotations": sorted_map(self.annotations),
            "subject": self.subject.to_dict() if self.subject else None,
            **self.extra,
        }
        return dumps(go_struct(values, _INDEX_LAYOUT))

    def platforms(self) -> list[Platform]:
        """The platforms of the image entries, attestations left out, in index order."""
        return [_platform_of(entry) for entry in self.manifests if not _is_attestation(entry)]

    def select(self, want: Platform, *, what: str = "image index") -> Descriptor:
        """The entry for ``want``: an exact match first, else the first compatible one.

        ``unknown/unknown`` entries and attestation manifests are never chosen; an entry
        without a platform counts as ``linux/amd64``.
        """
        candidates = [e for e in self.manifests if not _is_attestation(e)]
        exact = [e for e in candidates if _normalised(_platform_of(e)) == _normalised(want)]
        if exact:
            return exact[0]
        for entry in candidates:
            if want.matches(_platform_of(entry)):
                return entry
        available = ", ".join(str(p) for p in self.platforms()) or "none"
        raise ImageError(f"{what}: no image for platform {want} (available: {available})")


def parse_manifest(
    data: bytes, *, content_type: str | None = None, what: str = "manifest"
) -> Manifest | Index:
    """Read manifest or index bytes; ``content_type`` is the registry's header, if any."""
    header = (content_type or "").split(";", 1)[0].strip().lower()
    if mt.is_schema1(header):
        raise _schema1(what)
    obj = loads_object(data, what)
    declared = obj.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise ImageError(f"{what}: mediaType must be a string, got {declared!r}")
    raw_version = obj.get("schemaVersion")
    version = raw_version if type(raw_version) is int else None  # not bool, not float
    if version == 1 or mt.is_schema1(declared or ""):
        raise _schema1(what)
    if version != 2:
        raise ImageError(f"{what}: unsupported schemaVersion {raw_version!r} (want 2)")
    media_type = declared or _guess_type(obj, header)
    if mt.is_index(media_type):
        return _read_index(obj, media_type, bool(declared), what)
    if mt.is_manifest(media_type):
        return _read_manifest(obj, media_type, bool(declared), what)
    raise ImageError(f"{what}: unsupported manifest media type {media_type!r}")


def _read_manifest(obj: dict[str, Any], media_type: str, declared: bool, what: str) -> Manifest:
    if "config" not in obj:
        raise ImageError(f"{what}: missing config")
    layers = obj.get("layers")
    if layers is None:
        layers = []
    if not isinstance(layers, list):
        raise ImageError(f"{what}: layers must be a list")
    return Manifest(
        media_type=media_type,
        config=Descriptor.from_dict(obj["config"], f"{what}: config"),
        layers=tuple(Descriptor.from_dict(d, f"{what}: layers[{i}]") for i, d in enumerate(layers)),
        annotations=string_map(obj, "annotations", what),
        subject=_subject(obj, what),
        schema_version=2,
        media_type_declared=declared,
        extra={k: v for k, v in obj.items() if k not in _MANIFEST_KEYS},
    )


def _read_index(obj: dict[str, Any], media_type: str, declared: bool, what: str) -> Index:
    entries = obj.get("manifests")
    if not isinstance(entries, list):
        raise ImageError(f"{what}: manifests must be a list")
    return Index(
        media_type=media_type,
        manifests=tuple(
            Descriptor.from_dict(d, f"{what}: manifests[{i}]") for i, d in enumerate(entries)
        ),
        annotations=string_map(obj, "annotations", what),
        subject=_subject(obj, what),
        schema_version=2,
        media_type_declared=declared,
        extra={k: v for k, v in obj.items() if k not in _INDEX_KEYS},
    )


def _subject(obj: dict[str, Any], what: str) -> Descriptor | None:
    value = obj.get("subject")
    return None if value is None else Descriptor.from_dict(value, f"{what}: subject")


def _guess_type(obj: dict[str, Any], header: str) -> str:
    """The media type of a document that does not declare one (OCI allows omitting it)."""
    if mt.is_index(header) or mt.is_manifest(header):
        return header
    return mt.OCI_INDEX if "manifests" in obj else mt.OCI_MANIFEST


def _schema1(what: str) -> ImageError:
    return ImageError(
        f"schema 1 manifests are not supported: {what} (push the image again with a current "
        "Docker, buildah or crane to get a v2 schema 2 or OCI manifest)"
    )


def _platform_of(entry: Descriptor) -> Platform:
    return entry.platform if entry.platform is not None else _DEFAULT_PLATFORM


def _is_attestation(entry: Descriptor) -> bool:
    if entry.annotations.get(_ATTESTATION_TYPE_KEY) == "attestation-manifest":
        return True
    platform = entry.platform
    return platform is not None and platform.os == "unknown" and platform.architecture == "unknown"


def _normalised(platform: Platform) -> tuple[str, str, str]:
    variant = platform.variant
    if platform.architecture == "arm64" and variant == "v8":
        variant = ""
    return (platform.os, platform.architecture, variant)


__all__ = ["Descriptor", "Index", "Manifest", "parse_manifest"]
