"""Pushing an image to one or more destinations.

Every destination repository gets the layers and config (uploads run concurrently; a blob
the registry already has is skipped; a blob that lives in another repository of the same
registry — a base-image layer, or one just pushed to an earlier destination — is mounted
instead of uploaded), then the manifest under each destination's tag. Several
destinations in one repository share the uploads. ``--push-retry N`` retries a failed
destination N times with backoff; ``--push-ignore-immutable-tag-errors`` turns the
"tag is immutable" refusals of Artifact Registry and ECR into success, as the Go kaniko does.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kaniko.errors import RegistryError
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image, Layer
from kaniko.progress import SILENT, Reporter
from kaniko.refs.reference import Reference
from kaniko.registry.client import RegistryClient
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)

IMMUTABLE_TAG_MESSAGES = (
    "The repository has enabled tag immutability",  # Google Artifact Registry
    "cannot be overwritten because the repository is immutable",  # Amazon ECR
)
UPLOAD_WORKERS = 4


@dataclass
class PushResult:
    """What was pushed: the manifest digest and how each blob got there."""

    digest: Digest
    blobs: dict[str, str] = field(default_factory=dict)  # "repo@digest" -> exists/mounted/...


def check_push_permissions(transport: Transport, destinations: Sequence[Reference]) -> None:
    """Fail before the build when a destination refuses pushes (kaniko's early check)."""
    seen: set[tuple[str, str]] = set()
    for ref in destinations:
        key = (ref.registry, ref.repository)
        if key in seen:
            continue
        seen.add(key)
        RegistryClient(transport, ref.registry, ref.repository, push=True).check_push_permission()


def push(
    transport: Transport,
    image: Image,
    destinations: Sequence[Reference],
    *,
    retries: int = 0,
    backoff: float = 1.0,
    ignore_immutable_tags: bool = False,
    progress: Reporter = SILENT,
) -> PushResult:
    """Push ``image`` to every destination; returns the manifest digest."""
    result = PushResult(image.digest())
    pushed_repos: dict[str, list[str]] = {}  # registry -> repositories that hold the blobs
    groups: dict[tuple[str, str], list[Reference]] = {}
    for ref in destinations:
        groups.setdefault((ref.registry, ref.repository), []).append(ref)
    for (registry, repository), refs in groups.items():
        for attempt in range(retries + 1):
            try:
                _push_repository(
                    transport,
                    image,
                    registry,
                    repository,
                    refs,
                    pushed_repos.get(registry, []),
                    result,
                    ignore_immutable_tags,
                    progress,
                )
                break
            except RegistryError as e:
                if attempt >= retries:
                    raise
                delay = backoff * 2**attempt
                log.warning(
                    "push to %s/%s failed: %s; retrying in %.0fs", registry, repository, e, delay
                )
                time.sleep(delay)
        pushed_repos.setdefault(registry, []).append(repository)
    return result


def _mount_sources(
    layer: Layer, registry: str, repository: str, earlier: list[str]
) -> tuple[str, ...]:
    sources: list[str] = []
    origin = getattr(layer, "source", None)
    if origin and origin[0] == registry and origin[1] != repository:
        sources.append(origin[1])
    sources.extend(r for r in earlier if r != repository and r not in sources)
    return tuple(sources)


def _push_repository(
    transport: Transport,
    image: Image,
    registry: str,
    repository: str,
    refs: list[Reference],
    earlier: list[str],
    result: PushResult,
    ignore_immutable: bool,
    progress: Reporter,
) -> None:
    client = RegistryClient(transport, registry, repository, push=True)

    def upload(layer: Layer) -> None:
        sources = _mount_sources(layer, registry, repository, earlier)
        task = progress.task(f"push {layer.digest.short()}", layer.size)
        try:
            how = client.upload_blob(
                layer.open_compressed,
                layer.digest,
                layer.size,
                mount_from=sources,
                progress=task.advance,
            )
        finally:
            task.done()
        result.blobs[f"{repository}@{layer.digest}"] = how
        log.debug("%s/%s: layer %s %s", registry, repository, layer.digest.short(), how)

    layers = list(image.layers())
    with ThreadPoolExecutor(max_workers=UPLOAD_WORKERS) as pool:
        for future in [pool.submit(upload, layer) for layer in layers]:
            future.result()
    raw_config = image.raw_config()
    config_digest = image.manifest().config.digest
    client.upload_blob(lambda: io.BytesIO(raw_config), config_digest, len(raw_config))
    raw = image.raw_manifest()
    for ref in refs:
        target = ref.tag if ref.tag is not None else str(ref.digest)
        try:
            client.put_manifest(target, raw, image.media_type)
        except RegistryError as e:
            if ignore_immutable and any(m in str(e) for m in IMMUTABLE_TAG_MESSAGES):
                log.warning("%s: tag is immutable; ignoring as asked", ref)
                continue
            raise
        log.info("Pushed %s@%s", ref.name, result.digest)
