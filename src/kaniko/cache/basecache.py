"""``--cache-dir``: base images on local disk, in the Go kaniko's (and its warmer's) format.

Each image is two files named by its manifest digest: ``<dir>/<digest>``, a docker
tarball (go-containerregistry's ``tarball.Write``: the config, each layer blob as it was
pulled, ``manifest.json`` whose ``RepoTags`` names the reference it was warmed from), and
``<dir>/<digest>.json``, the manifest as the registry served it. A directory filled by the
Go warmer works here and one filled here works there. Besides, when a reference resolved
through an image index, the warmer here saves the index too, as ``<dir>/<index
digest>.json`` (the Go kaniko only looks for ``<dir>/<index digest>`` and finds nothing,
as before): a ``FROM name@<index digest>`` is then served from the directory as well.

An entry is fresh while its tarball's mtime plus ``--cache-ttl`` is not past; a stale one
is not used (kaniko's ``LocalSource``). Only with ``--cache`` is the directory read
(kaniko's rule); then, for each base image:

* ``FROM name@sha256:…`` is served from the directory with no network at all when the
  entry is there and fresh, else pulled as usual;
* ``FROM name:tag`` resolves the tag at the registry (the manifest only) and, when that
  digest is in the directory, reads the layers from disk; when the registry cannot be
  reached the newest fresh entry warmed from that reference is used, with a warning.

The directory is only read here (the executor's side is
:class:`kaniko.executor.cachedbases.CachedBases`); the warmer (:mod:`.warmer`) writes it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from kaniko.errors import ImageError
from kaniko.images.tarball_read import read_docker_tarball, tarball_entry
from kaniko.oci.digest import Digest, digest_problem
from kaniko.oci.image import Image
from kaniko.oci.manifest import Index, parse_manifest
from kaniko.oci.platform import Platform
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaseImageDir:
    """A kaniko-format base-image directory (see the module docs)."""

    path: Path
    ttl: timedelta

    def tarball(self, digest: Digest) -> Path:
        return self.path / str(digest)

    def manifest_file(self, digest: Digest) -> Path:
        return self.path / f"{digest}.json"

    def fresh(self, digest: Digest, now: float | None = None) -> bool:
        """Whether ``<dir>/<digest>`` exists and is younger than the TTL."""
        try:
            mtime = self.tarball(digest).stat().st_mtime
        except OSError:
            return False
        return mtime + self.ttl.total_seconds() >= (time.time() if now is None else now)

    def load(self, digest: Digest) -> Image:
        """The image of entry ``digest`` (its saved manifest kept, when there is one)."""
        raw: bytes | None = None
        try:
            raw = self.manifest_file(digest).read_bytes()
        except FileNotFoundError:
            log.debug("%s has no manifest beside it", self.tarball(digest))
        except OSError as e:
            raise ImageError(f"{self.manifest_file(digest)}: {e.strerror or e}") from e
        image = read_docker_tarball(str(self.tarball(digest)), raw)
        if raw is not None and image.digest() != digest:
            raise ImageError(f"{self.manifest_file(digest)}: its digest is not {digest}")
        return image

    def resolve(self, digest: Digest, platform: Platform) -> Digest | None:
        """The entry serving ``digest``: itself, or (for a saved index) the entry of the
        index's manifest for ``platform``; None when the directory cannot serve it."""
        if self.fresh(digest):
            return digest
        try:
            raw = self.manifest_file(digest).read_bytes()
        except OSError:
            return None
        if Digest.of(raw, digest.algorithm) != digest:
            return None
        parsed = parse_manifest(raw, what=str(self.manifest_file(digest)))
        if not isinstance(parsed, Index):
            return None
        entry = parsed.select(platform, what=str(self.manifest_file(digest)))
        return entry.digest if self.fresh(entry.digest) else None

    def warmed_from(self, reference: Reference) -> list[Digest]:
        """Fresh entries whose tarball was warmed from ``reference``, newest first."""
        found: list[tuple[float, Digest]] = []
        try:
            names = os.listdir(self.path)
        except OSError:
            return []
        for name in names:
            if name.endswith(".json") or digest_problem(name) is not None:
                continue
            digest = Digest.parse(name)
            if not self.fresh(digest):
                continue
            try:
                tags = tarball_entry(str(self.tarball(digest))).get("RepoTags") or []
            except ImageError:
                continue
            if any(_same(tag, reference) for tag in tags if isinstance(tag, str)):
                found.append((self.tarball(digest).stat().st_mtime, digest))
        return [digest for _, digest in sorted(found, reverse=True)]


def _same(tag: str, reference: Reference) -> bool:
    try:
        other = Reference.parse(tag)
    except InvalidReferenceError:
        return False
    return (other.registry, other.repository, other.tag) == (
        reference.registry,
        reference.repository,
        reference.tag,
    )
