"""What every SBOM document says besides its packages: its subject, time, tool and identity.

Both writers take a :class:`DocumentInfo`. With ``--reproducible`` ``created`` is the build's
epoch and the document's unique identifier (SPDX ``documentNamespace``, CycloneDX
``serialNumber``) is a UUID derived from the document's own content, so the same packages
give the same bytes; otherwise it is a random UUID, unique per document as both specs ask.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from kaniko import __version__
from kaniko.attest.packages import Package

TOOL = "kaniko"


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """The document's subject (an image or a stage), creation time and identity rule."""

    name: str
    created: datetime
    reproducible: bool = False
    tool_version: str = __version__

    @property
    def timestamp(self) -> str:
        return self.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def unique_id(self, packages: Sequence[Package]) -> uuid.UUID:
        """A random UUID, or with ``reproducible`` one derived from the content."""
        if not self.reproducible:
            return uuid.uuid4()
        digest = hashlib.sha256()
        digest.update(json.dumps([self.name, self.timestamp]).encode())
        for package in packages:
            digest.update(json.dumps([*package.key, *package.locations]).encode())
        return uuid.uuid5(uuid.NAMESPACE_URL, "kaniko-sbom:" + digest.hexdigest())


def dumps(document: object) -> bytes:
    """A document as compact UTF-8 JSON, keys in the order they were built."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
