"""Base images from registries: the planner's resolver and the stages' source of images.

:class:`RemoteBases` fetches each (reference, platform) once: the planner asks for its
config (:class:`~kaniko.plan.BaseImages`, BuildKit's ``ImageMetaResolver``), the stages
extract the same image, and ``COPY --from=<image>`` reads it. Each image is reported to
the build's materials (the provenance lists them) when it is first asked for.

:meth:`RemoteBases.resolve_all` resolves several at once (manifest and config), before
anyone asks: the executor gives it every base the Dockerfile names
(:func:`kaniko.plan.bases.base_references`) before planning. Stages running
concurrently may ask for the same image at once: each is fetched by one of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from kaniko.attest.materials import report_image
from kaniko.errors import KanikoError
from kaniko.images.remote import RemoteImage, fetch
from kaniko.oci.config import ImageConfig
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.options import RegistryOptions
from kaniko.refs.reference import Reference
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)

RESOLVERS = 8
"""Most images resolved at once by :meth:`RemoteBases.resolve_all`."""


class RemoteBases:
    """Base images from registries, each fetched once per (reference, platform)."""

    def __init__(self, transport: Transport, options: RegistryOptions) -> None:
        self._transport = transport
        self._options = options
        self._cache: dict[tuple[str, str], RemoteImage] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self._failed: dict[tuple[str, str], KanikoError] = {}  # by resolve_all

    def image(self, reference: str, platform: Platform) -> Image:
        image = self._fetch(reference, platform)
        report_image(reference, image.resolved, platform)  # recorded once per build
        return image

    def resolve_all(self, wanted: Iterable[tuple[str, Platform]], *, report: bool = False) -> None:
        """Resolve every (reference, platform) of ``wanted`` now, several at once, each
        with its config. A failure is kept and raised to whoever asks for that image
        (the planner, or the step, names the Dockerfile line); it is not retried twice.
        ``report``: record those resolved in the materials, in ``wanted``'s order (the
        order a sequential build would have recorded them in)."""
        pending = list(dict.fromkeys(wanted))
        if not pending:
            return
        with ThreadPoolExecutor(min(RESOLVERS, len(pending)), "kaniko-resolve") as pool:
            for _ in pool.map(self._try, pending):
                pass
        for reference, platform in pending if report else ():
            image = self._cache.get((reference, str(platform)))
            if image is not None:
                report_image(reference, image.resolved, platform)

    def known(self, reference: str, platform: Platform) -> Image | None:
        """The image already resolved for (``reference``, ``platform``), if it was."""
        return self._cache.get((reference, str(platform)))

    def _try(self, wanted: tuple[str, Platform]) -> None:
        try:
            self._fetch(*wanted).config()
        except KanikoError as e:
            log.debug("resolving %s for %s failed: %s", wanted[0], wanted[1], e)
            key = (wanted[0], str(wanted[1]))
            with self._lock:
                self._failed.setdefault(key, e)

    def _fetch(self, reference: str, platform: Platform) -> RemoteImage:
        key = (reference, str(platform))
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one fetch per key; others wait for it
            failed = self._failed.pop(key, None)
            if failed is not None:
                raise failed
            if key not in self._cache:
                ref = Reference.parse(reference)
                log.info("Retrieving image manifest %s", reference)
                reg = self._options
                self._cache[key] = fetch(
                    self._transport,
                    ref,
                    platform,
                    maps=reg.registry_maps,
                    fallback=not reg.skip_default_registry_fallback,
                    retries=reg.image_download_retry,
                )
            return self._cache[key]

    def config(self, reference: str, platform: Platform) -> ImageConfig:
        return self.image(reference, platform).config()
