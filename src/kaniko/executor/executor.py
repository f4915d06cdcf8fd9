"""The executor: ``build(options)`` turns a Dockerfile and a context into an image.

1. find and parse the Dockerfile; plan the stages (base images are fetched as the planner
   asks for their ``Env`` and ``OnBuild``, each once per platform);
2. check that every destination accepts pushes (unless ``--no-push`` or
   ``--skip-push-permission-check``), before any work;
3. build each planned stage on its base: a registry image, ``scratch`` or an earlier
   stage's image;
4. stamp the final image (``created`` now, or the epoch with ``--reproducible``) and write
   it where the options say (push, tarball, OCI layout, digest files).

The library never exits and never configures logging; errors are
:class:`~kaniko.errors.KanikoError` subclasses with one clear line.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kaniko.context.local import context_dir, read_dockerfile, resolve_dockerfile
from kaniko.dockerfile.dockerignore import PatternMatcher, load_dockerignore
from kaniko.dockerfile.parser import parse
from kaniko.errors import UsageError
from kaniko.executor.filesystem import DirectoryRoots, Snapshots, StageParts
from kaniko.executor.inplace import TOOL_DIR, InplaceBuild
from kaniko.executor.outputs import write_outputs
from kaniko.executor.stage import StageOptions, StageRoots, build_stage
from kaniko.executor.workspace import Extractor, IgnoreRules, Workspace
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.images.push import check_push_permissions
from kaniko.images.remote import fetch
from kaniko.oci.config import ImageConfig, go_time
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
from kaniko.oci.mediatypes import uses_oci_types
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, RegistryOptions
from kaniko.plan import BuildPlan, format_plan, make_plan
from kaniko.progress import SILENT, Reporter
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference
from kaniko.registry.transport import Transport
from kaniko.sandbox.detect import in_container

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    """The built image and its manifest digest."""

    image: Image
    digest: Digest
    plan: BuildPlan


class RemoteBases:
    """Base images from registries, each fetched once per (reference, platform).

    The planner's :class:`~kaniko.plan.BaseImages`: it asks for configs while planning;
    the stages then extract the same images.
    """

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


def in_executor_image() -> bool:
    """Whether this process is the executor image's tool, running in a container."""
    return (
        sys.executable.startswith(TOOL_DIR + "/")
        and os.path.exists(TOOL_DIR + "/executor")
        and in_container()
    )


def choose_isolation(options: BuildOptions) -> str:
    """The isolation RUN steps get; in-place builds refuse to run outside a container.

    ``auto`` is in-place only inside the executor image, chroot everywhere else.
    """
    wanted = options.isolation
    if wanted == "inplace" or (wanted == "auto" and in_executor_image()):
        if not options.force and not in_container():
            raise UsageError(
                "kaniko should only be run inside of a container, run with the --force flag "
                "if you are sure you want to continue (or use --isolation=chroot)"
            )
        return "inplace"
    return "chroot"


def parse_destinations(options: BuildOptions) -> list[Reference]:
    try:
        return [Reference.parse(d) for d in options.output.destinations]
    except InvalidReferenceError as e:
        raise UsageError(f"--destination: {e}") from e


def build(
    options: BuildOptions,
    *,
    transport: Transport | None = None,
    environ: Mapping[str, str] | None = None,
    progress: Reporter = SILENT,
) -> BuildResult:
    """Build (and push) the image ``options`` describe."""
    isolation = choose_isolation(options)
    context = context_dir(options.context)
    if options.context_sub_path:
        context = os.path.join(context, options.context_sub_path)
    if options.snapshot.use_new_run:
        log.info(
            "--use-new-run: not needed, every snapshot already detects changes from "
            "file metadata without reading contents"
        )
    path, display = resolve_dockerfile(options.dockerfile, context)
    dockerfile = parse(read_dockerfile(path), path=display)
    platform = options.platform or Platform.host()
    destinations = parse_destinations(options)
    own_transport = transport is None
    transport = transport or Transport(options.registry)
    try:
        bases = RemoteBases(transport, options.registry)
        plan = make_plan(
            dockerfile,
            build_args=options.build_arg_map(),
            target=options.target or None,
            skip_unused_stages=options.skip_unused_stages,
            platform=platform,
            environ=os.environ if environ is None else environ,
            bases=bases,
        )
        for warning in plan.warnings:
            log.warning("%s", warning)
        if log.isEnabledFor(logging.DEBUG):
            for line in format_plan(plan).splitlines():
                log.debug("plan: %s", line)
        out = options.output
        if destinations and not out.no_push and not out.skip_push_permission_check:
            check_push_permissions(transport, destinations)
        reproducible = out.reproducible
        if reproducible:
            now = datetime.fromtimestamp(out.source_date_epoch, UTC)
        else:
            now = datetime.now(UTC)
        stage_opts = StageOptions(
            labels=options.labels,
            created=go_time(now),
            path=display,
            force_build_metadata=options.snapshot.force_build_metadata,
        )
        workspace = Workspace.create(options.kaniko_dir)
        parts = StageParts(
            Extractor(
                workspace,
                IgnoreRules(options.snapshot.ignore_var_run, options.snapshot.ignore_paths),
                retries=options.image_fs_extract_retry,
                progress=progress,
            ),
            Snapshots.from_options(options, workspace.spool),
            dockerfile=display,
        )
        matcher = PatternMatcher(load_dockerignore(context, path))
        roots: StageRoots
        if isolation == "inplace":
            roots = InplaceBuild(
                parts,
                plan,
                context=Path(context),
                matcher=matcher,
                images=bases,
                kaniko_dir=options.kaniko_dir,
            )
        else:
            roots = DirectoryRoots(parts, context=Path(context), matcher=matcher, images=bases)
        images: dict[int, Image] = {}
        try:
            for stage in plan.stages:
                log.info("Building stage %s", stage.label)
                if stage.base == "scratch":
                    base: Image = scratch(stage.platform)
                elif isinstance(stage.base, int):
                    base = images[stage.base]
                else:
                    base = bases.image(stage.base, stage.platform)
                image = build_stage(stage, base, roots.steps(stage, base), stage_opts)
                if uses_oci_types(out.compression, base.media_type) and image.manifest().is_docker:
                    image = mutate.with_media_types(image, oci=True)  # zstd needs OCI types
                images[stage.index] = image
                roots.finished(stage, image)
            final = images[plan.target_index]
            if reproducible:
                final = mutate.canonical(final, now)
            digest = write_outputs(final, destinations, out, transport, progress)
        finally:
            roots.close(cleanup=options.cleanup)
            workspace.remove()
        log.info("Built image %s", digest)
        return BuildResult(final, digest, plan)
    finally:
        if own_transport:
            transport.close()
