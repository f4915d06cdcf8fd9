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

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kaniko.errors import RegistryError
from kaniko.images.index import Blob, ImageIndex, manifest_blobs
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
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
    return _push_all(
        transport, image, destinations, retries, backoff, ignore_immutable_tags, progress
    )


def push_index(
    transport: Transport,
    index: ImageIndex,
    destinations: Sequence[Reference],
    *,
    retries: int = 0,
    backoff: float = 1.0,
    ignore_immutable_tags: bool = False,
    progress: Reporter = SILENT,
) -> PushResult:
    """Push ``index`` (its images, artifact manifests and itself) to every destination.

    Each destination repository gets every blob and every manifest by digest, then the
    index under the destination's tag (or digest): a reader never sees an index whose
    entries are missing.
    """
    return _push_all(
        transport, index, destinations, retries, backoff, ignore_immutable_tags, progress
    )


def _push_all(
    transport: Transport,
    item: Image | ImageIndex,
    destinations: Sequence[Reference],
    retries: int,
    backoff: float,
    ignore_immutable: bool,
    progress: Reporter,
) -> PushResult:
    result = PushResult(item.digest())
    pushed_repos: dict[str, list[str]] = {}  # registry -> repositories that hold the blobs
    groups: dict[tuple[str, str], list[Reference]] = {}
    for ref in destinations:
        groups.setdefault((ref.registry, ref.repository), []).append(ref)
    for (registry, repository), refs in groups.items():
        for attempt in range(retries + 1):
            try:
                target = _Target(
                    RegistryClient(transport, registry, repository, push=True),
                    pushed_repos.get(registry, []),
                    result,
                    progress,
                )
                _push_repository(target, item, refs, ignore_immutable)
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


@dataclass
class _Target:
    """One destination repository being pushed to."""

    client: RegistryClient
    earlier: list[str]  # repositories of the same registry that hold our blobs already
    result: PushResult
    progress: Reporter

    def mount_sources(self, blob: Blob) -> tuple[str, ...]:
        repository = self.client.repository
        sources: list[str] = []
        origin = blob.source
        if origin and origin[0] == self.client.registry and origin[1] != repository:
            sources.append(origin[1])
        sources.extend(r for r in self.earlier if r != repository and r not in sources)
        return tuple(sources)

    def upload(self, blob: Blob) -> None:
        desc = blob.descriptor
        task = self.progress.task(f"push {desc.digest.short()}", desc.size)
        try:
            how = self.client.upload_blob(
                blob.open,
                desc.digest,
                desc.size,
                mount_from=self.mount_sources(blob),
                progress=task.advance,
            )
        finally:
            task.done()
        self.result.blobs[f"{self.client.repository}@{desc.digest}"] = how
        log.debug(
            "%s/%s: blob %s %s",
            self.client.registry,
            self.client.repository,
            desc.digest.short(),
            how,
        )

    def upload_all(self, blobs: Sequence[Blob]) -> None:
        unique = list({b.descriptor.digest: b for b in blobs}.values())
        with ThreadPoolExecutor(max_workers=UPLOAD_WORKERS) as pool:
            for future in [pool.submit(self.upload, b) for b in unique]:
                future.result()


def _push_repository(
    target: _Target, item: Image | ImageIndex, refs: list[Reference], ignore_immutable: bool
) -> None:
    if isinstance(item, ImageIndex):
        children = [entry.item for entry in item.entries]
        target.upload_all([blob for child in children for blob in manifest_blobs(child)])
        for child in children:
            target.client.put_manifest(str(child.digest()), child.raw_manifest(), child.media_type)
    else:
        target.upload_all(manifest_blobs(item))
    raw = item.raw_manifest()
    for ref in refs:
        tag = ref.tag if ref.tag is not None else str(ref.digest)
        try:
            target.client.put_manifest(tag, raw, item.media_type)
        except RegistryError as e:
            if ignore_immutable and any(m in str(e) for m in IMMUTABLE_TAG_MESSAGES):
                log.warning("%s: tag is immutable; ignoring as asked", ref)
                continue
            raise
        log.info("Pushed %s@%s", ref.name, target.result.digest)
