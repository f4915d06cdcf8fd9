"""The warmer: base images saved into ``--cache-dir`` before builds need them.

The Go warmer's behaviour and format (:mod:`.basecache`): each ``--image``, and each base
image of ``--dockerfile`` (its ``FROM`` lines, ARGs from ``--build-arg`` and the meta
ARGs' defaults; stage names and ``scratch`` are not images), is pulled for
``--customPlatform`` (default: this machine's) and saved as ``<dir>/<digest>`` (a docker
tarball) with ``<dir>/<digest>.json`` (its manifest), and, when the reference resolved
through an index, the index as ``<dir>/<index digest>.json``. Each file is written under
a temporary name in the directory and renamed into place, the manifest before the tarball,
so a build reading the directory meanwhile never sees half an image: a tarball there is a
whole entry.

An image already there and fresh (younger than ``--cache-ttl``) is skipped unless
``--force``; a stale one is warmed again (the Go warmer skipped those too, so they stayed
stale forever). An image that fails is a warning; the run fails only when every image
failed, as kaniko's does.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kaniko.cache.basecache import BaseImageDir
from kaniko.dockerfile.parser import parse
from kaniko.errors import BuildError, KanikoError, UsageError
from kaniko.fs.atomic import write_atomic
from kaniko.images.remote import RemoteImage, fetch
from kaniko.images.tarball import write_docker_tarball
from kaniko.oci.platform import Platform
from kaniko.options import WarmerOptions
from kaniko.plan import make_plan
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference
from kaniko.registry.client import RegistryClient
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)

MAX_DOCKERFILE = 16 << 20


@dataclass
class WarmResult:
    """What a run did, by reference: warmed, skipped (fresh) or failed (the error)."""

    warmed: dict[str, str] = field(default_factory=dict)  # reference -> digest
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def read_dockerfile(location: str) -> tuple[str, str]:
    """The text of ``--dockerfile`` (a path or an http(s) URL) and how to name it."""
    if location.startswith(("http://", "https://")):
        try:
            response = httpx.get(location, follow_redirects=True, timeout=60.0)
        except httpx.HTTPError as e:
            raise UsageError(f"--dockerfile {location}: {type(e).__name__}: {e}") from e
        if response.status_code >= 400:
            raise UsageError(f"--dockerfile {location}: HTTP {response.status_code}")
        return response.content[:MAX_DOCKERFILE].decode("utf-8", "surrogateescape"), location
    try:
        with open(location, "rb") as f:
            data = f.read(MAX_DOCKERFILE + 1)
    except OSError as e:
        raise UsageError(f"--dockerfile {location}: {e.strerror or e}") from e
    if len(data) > MAX_DOCKERFILE:
        raise UsageError(f"--dockerfile {location}: larger than {MAX_DOCKERFILE >> 20} MiB")
    return data.decode("utf-8", "surrogateescape"), location


def dockerfile_images(
    options: WarmerOptions, environ: Mapping[str, str]
) -> list[tuple[str, Platform]]:
    """The base images of ``--dockerfile``, each with the platform its stage is for."""
    text, name = read_dockerfile(options.dockerfile)
    platform = options.platform or Platform.host()
    plan = make_plan(
        parse(text, path=name),
        build_args=dict(options.build_args),
        platform=platform,
        environ=environ,
    )
    return [
        (stage.base, stage.platform)
        for stage in plan.stages
        if isinstance(stage.base, str) and stage.base != "scratch"
    ]


def warm(
    options: WarmerOptions,
    transport: Transport,
    *,
    environ: Mapping[str, str] | None = None,
    now: float | None = None,
) -> WarmResult:
    """Warm every image ``options`` names (see the module docs); a :class:`KanikoError`
    when every one of them failed. ``now`` is the clock's time for freshness."""
    platform = options.platform or Platform.host()
    wanted = [(ref, platform) for ref in options.images]
    if options.dockerfile:
        wanted += dockerfile_images(options, os.environ if environ is None else environ)
    if not wanted:
        raise UsageError("you must select at least one image to cache (--image or --dockerfile)")
    directory = Path(options.cache_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--cache-dir {directory}: {e.strerror or e}") from e
    cache = BaseImageDir(directory, options.ttl)
    result = WarmResult()
    for reference, want in dict.fromkeys(wanted):  # each (image, platform) once
        try:
            digest, fresh = _warm_one(cache, transport, options, reference, want, now)
        except KanikoError as e:
            log.warning("Error while trying to warm image %s: %s", reference, e)
            result.failed[reference] = str(e)
            continue
        if fresh:
            log.info("Image already in cache: %s (%s)", reference, digest)
            result.skipped[reference] = digest
        else:
            log.info("Warmed %s (%s) into %s", reference, digest, directory)
            result.warmed[reference] = digest
    if result.failed and not result.warmed and not result.skipped:
        raise BuildError("Failed to warm any of the given images")
    return result


def _warm_one(
    cache: BaseImageDir,
    transport: Transport,
    options: WarmerOptions,
    reference: str,
    platform: Platform,
    now: float | None,
) -> tuple[str, bool]:
    """Warm one image; its digest and whether it was fresh already (skipped)."""
    try:
        ref = Reference.parse(reference)
    except InvalidReferenceError as e:
        raise UsageError(f"Failed to verify image name: {e}") from None
    reg = options.registry
    image = fetch(
        transport,
        ref,
        platform,
        maps=reg.registry_maps,
        fallback=not reg.skip_default_registry_fallback,
        retries=reg.image_download_retry,
    )
    digest = image.digest()
    if not options.force and cache.fresh(digest, time.time() if now is None else now):
        return str(digest), True
    write_atomic(str(cache.manifest_file(digest)), image.raw_manifest())
    tags = [reference] if ref.digest is None else []
    write_docker_tarball(image, str(cache.tarball(digest)), tags)
    if image.resolved != digest:
        _save_index(cache, image)
    return str(digest), False


def _save_index(cache: BaseImageDir, image: RemoteImage) -> None:
    """The index ``image`` was chosen from, as ``<dir>/<index digest>.json``."""
    client: RegistryClient = image.client
    raw = client.get_manifest(str(image.resolved))
    write_atomic(str(cache.manifest_file(image.resolved)), raw.data)
