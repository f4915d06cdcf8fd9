"""Images in a registry: pull (lazily, verified) with platform choice, mirrors and maps.

:func:`fetch` resolves a reference to a :class:`RemoteImage`: the manifest is read (an
index or manifest list picks the entry for the wanted platform), the config on first use,
and layers only when opened, each blob streamed and checked against its digest.

Registry remapping follows the Go kaniko: ``--registry-map orig=target[/prefix]`` (and
``--registry-mirror m``, which the CLI turns into ``index.docker.io=m``) lists places to
try first, in order; the original registry comes last unless
``--skip-default-registry-fallback`` is set. ``--image-download-retry N`` retries a failed
fetch N times with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import BinaryIO

from kaniko.errors import ImageError, KanikoError, RegistryError
from kaniko.oci import mediatypes as mt
from kaniko.oci.compress import open_decompressed
from kaniko.oci.config import ImageConfig
from kaniko.oci.descriptor import Descriptor
from kaniko.oci.digest import Digest
from kaniko.oci.manifest import Index, Manifest, parse_manifest
from kaniko.oci.platform import Platform
from kaniko.refs.reference import Reference
from kaniko.registry.client import Progress, RegistryClient
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)

# A config is JSON read and parsed whole. Manifests stop at 4 MiB (containerd's limit); a
# config gets four times that: a 10 000-step image's is about 2 MiB. (A 300 MB config
# used to take 1.5 GB of memory.) Its read is bounded by the size the manifest gives.
MAX_CONFIG_SIZE = 16 << 20


class RemoteLayer:
    """A layer blob in a registry repository."""

    def __init__(self, client: RegistryClient, descriptor: Descriptor, diff_id: Digest) -> None:
        self._client = client
        self._descriptor = descriptor
        self._diff_id = diff_id
        self.progress: Progress | None = None

    @property
    def digest(self) -> Digest:
        return self._descriptor.digest

    @property
    def diff_id(self) -> Digest:
        return self._diff_id

    @property
    def size(self) -> int:
        return self._descriptor.size

    @property
    def media_type(self) -> str:
        return self._descriptor.media_type

    @property
    def source(self) -> tuple[str, str]:
        """(registry, repository) holding the blob: where a push can mount it from."""
        return self._client.registry, self._client.repository

    def open_compressed(self) -> contextlib.AbstractContextManager[BinaryIO]:
        return self._client.open_blob(self.digest, self.size, self.progress)

    @contextlib.contextmanager
    def open_uncompressed(self) -> Iterator[BinaryIO]:
        with self.open_compressed() as blob, open_decompressed(blob, self.media_type) as tar:
            yield tar


class RemoteImage:
    """An image manifest in a registry, its config and layers fetched on demand."""

    def __init__(
        self,
        reference: Reference,
        client: RegistryClient,
        raw: bytes,
        manifest: Manifest,
        resolved: Digest | None = None,
    ):
        self.reference = reference
        self.client = client
        self._raw = raw
        self._manifest = manifest
        self._digest = Digest.of(raw)
        # What the reference resolved to: the index's digest when it named an index.
        self.resolved = resolved or self._digest
        self._raw_config: bytes | None = None
        self._config: ImageConfig | None = None

    @property
    def media_type(self) -> str:
        return self._manifest.media_type

    def raw_manifest(self) -> bytes:
        return self._raw

    def manifest(self) -> Manifest:
        return self._manifest

    def digest(self) -> Digest:
        return self._digest

    def raw_config(self) -> bytes:
        if self._raw_config is None:
            desc = self._manifest.config
            if desc.size > MAX_CONFIG_SIZE:
                raise ImageError(
                    f"{self.reference}: image config of {desc.size} bytes refused: configs "
                    f"are read whole, and above {MAX_CONFIG_SIZE >> 20} MiB is not an image's"
                )
            with self.client.open_blob(desc.digest, desc.size) as f:
                self._raw_config = f.read()
        return self._raw_config

    def config(self) -> ImageConfig:
        if self._config is None:
            self._config = ImageConfig.from_json(self.raw_config(), what=f"{self.reference} config")
        return self._config

    def layers(self) -> Sequence[RemoteLayer]:
        descriptors = self._manifest.layers
        diff_ids = self.config().diff_ids
        if len(diff_ids) != len(descriptors):
            raise ImageError(
                f"{self.reference}: config lists {len(diff_ids)} diff_ids "
                f"for {len(descriptors)} layers"
            )
        return [RemoteLayer(self.client, d, i) for d, i in zip(descriptors, diff_ids, strict=True)]


def _read(client: RegistryClient, reference: Reference, platform: Platform) -> RemoteImage:
    raw = client.get_manifest(reference.identifier)
    resolved = Digest.of(raw.data)
    parsed = parse_manifest(raw.data, content_type=raw.media_type, what=str(reference))
    if isinstance(parsed, Index):
        entry = parsed.select(platform, what=str(reference))
        if not mt.is_manifest(entry.media_type):
            raise ImageError(f"{reference}: nested index entries are not supported")
        log.debug("%s: platform %s is %s", reference, platform, entry.digest)
        raw = client.get_manifest(str(entry.digest))
        parsed = parse_manifest(raw.data, content_type=raw.media_type, what=str(reference))
        if not isinstance(parsed, Manifest):
            raise ImageError(f"{reference}: index entry {entry.digest} is not an image manifest")
    return RemoteImage(reference, client, raw.data, parsed, resolved)


def remapped(reference: Reference, maps: Mapping[str, Sequence[str]]) -> list[Reference]:
    """The references to try for ``reference`` under ``--registry-map``, in order."""
    targets = maps.get(reference.registry, ())
    if reference.registry == "index.docker.io":
        targets = (*targets, *maps.get("docker.io", ()))
    found: list[Reference] = []
    for target in targets:
        target = target.strip().rstrip("/").removeprefix("https://").removeprefix("http://")
        host, _, prefix = target.partition("/")
        repository = f"{prefix}/{reference.repository}" if prefix else reference.repository
        found.append(Reference(host, repository, reference.tag, reference.digest))
    return found


def fetch(
    transport: Transport,
    reference: Reference,
    platform: Platform,
    *,
    maps: Mapping[str, Sequence[str]] | None = None,
    fallback: bool = True,
    retries: int = 0,
    backoff: float = 1.0,
) -> RemoteImage:
    """Resolve ``reference`` to an image for ``platform`` (see the module docstring)."""
    candidates = remapped(reference, maps or {})
    if fallback or not candidates:
        candidates.append(reference)
    last: KanikoError | None = None
    for candidate in candidates:
        for attempt in range(retries + 1):
            try:
                client = RegistryClient(transport, candidate.registry, candidate.repository)
                image = _read(client, candidate, platform)
                if candidate is not reference:
                    log.info("Pulled %s from %s", reference, candidate.registry)
                return image
            except (RegistryError, ImageError) as e:
                last = e
                if attempt < retries:
                    delay = backoff * 2**attempt
                    log.warning("%s; retrying in %.0fs (%d/%d)", e, delay, attempt + 1, retries)
                    time.sleep(delay)
        if candidate is not reference and last is not None:
            log.warning("mirror %s failed for %s: %s", candidate.registry, reference, last)
    assert last is not None
    raise last
