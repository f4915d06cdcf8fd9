"""Base images served from ``--cache-dir`` first (see :mod:`kaniko.cache.basecache`).

:class:`CachedBases` is the build's :class:`~kaniko.executor.bases.RemoteBases` when
``--cache`` is on: ``FROM name@digest`` comes from the directory with no network when it
is there, ``FROM name:tag`` is resolved at the registry and its layers read from the
directory, and a registry that cannot be reached falls back, with a warning, to the
newest fresh copy warmed from that reference.

Stages built at once ask for images from their own threads: each (reference, platform)
is looked for once, by the first to ask, and every stage gets that one image.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from kaniko.attest.materials import report_image
from kaniko.cache.basecache import BaseImageDir
from kaniko.errors import ImageError, KanikoError, RegistryError
from kaniko.executor.bases import RemoteBases
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.options import RegistryOptions
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)


class CachedBases(RemoteBases):
    """:class:`~kaniko.executor.bases.RemoteBases` served from a base-image directory
    first (see the module docs)."""

    def __init__(self, transport: Transport, options: RegistryOptions, cache: BaseImageDir):
        super().__init__(transport, options)
        self.dir = cache
        self._local: dict[tuple[str, str], Image] = {}
        self._finding: dict[tuple[str, str], threading.Lock] = {}  # one finder per key
        self._guard = threading.Lock()  # guards the two dicts

    def image(self, reference: str, platform: Platform) -> Image:
        key = (reference, str(platform))
        with self._guard:
            finding = self._finding.setdefault(key, threading.Lock())
        with finding:
            with self._guard:
                found = self._local.get(key)
            if found is None:
                found = self._find(reference, platform)
                with self._guard:
                    self._local[key] = found
            return found

    def resolve_all(self, wanted: Iterable[tuple[str, Platform]], *, report: bool = False) -> None:
        """As :meth:`RemoteBases.resolve_all`, but not for ``name@digest`` references the
        directory holds (they need no registry, and may be there because it is offline)."""
        super().resolve_all([w for w in wanted if not self._held(*w)], report=report)

    def known(self, reference: str, platform: Platform) -> Image | None:
        """The image the build uses for (``reference``, ``platform``) if it is known: the
        directory's copy (its layers are on disk: nothing to pull ahead) or the
        registry's. One that was resolved (:meth:`resolve_all`, as the images ``COPY
        --from`` reads are) but not asked for yet is looked for in the directory now."""
        key = (reference, str(platform))
        with self._guard:
            found = self._local.get(key)
        if found is not None or super().known(reference, platform) is None:
            return found
        try:
            return self.image(reference, platform)
        except KanikoError as e:  # the stage that asks for it reports it
            log.debug("%s for %s: %s", reference, platform, e)
            return None

    def _held(self, reference: str, platform: Platform) -> bool:
        try:
            digest = Reference.parse(reference).digest
        except InvalidReferenceError:
            return False
        return digest is not None and self.dir.resolve(digest, platform) is not None

    def _find(self, reference: str, platform: Platform) -> Image:
        try:
            ref = Reference.parse(reference)
        except InvalidReferenceError:
            return super().image(reference, platform)  # it names the error
        if ref.digest is not None:
            entry = self.dir.resolve(ref.digest, platform)
            if entry is not None:
                return self._serve(reference, ref.digest, entry, platform)
            log.info("%s is not in the base-image cache %s", reference, self.dir.path)
            return super().image(reference, platform)
        try:
            remote = super().image(reference, platform)
        except RegistryError as e:
            for digest in self.dir.warmed_from(ref):
                log.warning(
                    "%s: the registry is unreachable (%s); using the copy cached in %s (%s)",
                    reference,
                    e,
                    self.dir.path,
                    digest,
                )
                return self._serve(reference, digest, digest, platform)
            raise
        digest = remote.digest()
        if not self.dir.fresh(digest):
            return remote
        try:
            local = self.dir.load(digest)
        except KanikoError as e:
            log.warning("base-image cache entry %s unusable, pulling: %s", digest, e)
            return remote
        log.info("Found %s in the base-image cache (%s)", reference, digest)
        return local

    def _serve(self, reference: str, asked: Digest, entry: Digest, platform: Platform) -> Image:
        image = self.dir.load(entry)
        if image.config().platform.os and not _fits(image, platform):
            raise ImageError(
                f"{reference}: the cached image {entry} is {image.config().platform}, "
                f"not {platform}"
            )
        log.info("Found %s in the base-image cache %s (%s)", reference, self.dir.path, entry)
        report_image(reference, asked, platform)
        return image


def _fits(image: Image, platform: Platform) -> bool:
    have = image.config().platform
    return (have.os, have.architecture) == (platform.os, platform.architecture) and (
        not platform.variant or not have.variant or have.variant == platform.variant
    )
