"""Base images from registries: the planner's resolver and the stages' source of images.

:class:`RemoteBases` fetches each (reference, platform) once: the planner asks for its
config (:class:`~kaniko.plan.BaseImages`, BuildKit's ``ImageMetaResolver``), the stages
extract the same image, and ``COPY --from=<image>`` reads it. Each fetched image is
reported to the build's materials (the provenance lists them).
"""

from __future__ import annotations

import logging

from kaniko.attest.materials import report_image
from kaniko.images.remote import fetch
from kaniko.oci.config import ImageConfig
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.options import RegistryOptions
from kaniko.refs.reference import Reference
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)


class RemoteBases:
    """Base images from registries, each fetched once per (reference, platform)."""

    def __init__(self, transport: Transport, options: RegistryOptions) -> None:
        self._transport = transport
        self._options = options
        self._cache: dict[tuple[str, str], Image] = {}

    def image(self, reference: str, platform: Platform) -> Image:
        key = (reference, str(platform))
        if key not in self._cache:
            ref = Reference.parse(reference)
            log.info("Retrieving image manifest %s", reference)
            reg = self._options
            image = fetch(
                self._transport,
                ref,
                platform,
                maps=reg.registry_maps,
                fallback=not reg.skip_default_registry_fallback,
                retries=reg.image_download_retry,
            )
            report_image(reference, image.resolved, platform)
            self._cache[key] = image
        return self._cache[key]

    def config(self, reference: str, platform: Platform) -> ImageConfig:
        return self.image(reference, platform).config()
