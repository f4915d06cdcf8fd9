"""The executor: ``build(options)`` turns a Dockerfile and a context into an image.

1. find and parse the Dockerfile; plan the stages (base images are fetched as the planner
   asks for their ``Env`` and ``OnBuild``, each once per platform);
2. check that every destination accepts pushes (unless ``--no-push`` or
   ``--skip-push-permission-check``), before any work;
3. build each planned stage on its base: a registry image, ``scratch`` or an earlier
   stage's image;
4. stamp the final image (``created`` now, or the epoch with ``--reproducible``) and write
   it where the options say (push, tarball, OCI layout, digest files).

Everything the build writes lives in its work directory under ``<kaniko-dir>/builds``
(:mod:`kaniko.executor.workdirs`); for the build's duration :data:`tempfile.tempdir`
points there too. Work directories of builds that were killed are reclaimed on start.

The library never exits and never configures logging; errors are
:class:`~kaniko.errors.KanikoError` subclasses with one clear line.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kaniko.attest.materials import Materials, collecting, report_image
from kaniko.context.fetch import prepare_context
from kaniko.context.local import read_dockerfile, resolve_dockerfile
from kaniko.dockerfile.dockerignore import PatternMatcher, load_dockerignore
from kaniko.dockerfile.parser import parse
from kaniko.errors import UsageError
from kaniko.executor.filesystem import ChrootSteps, Workspace
from kaniko.executor.inplace import TOOL_DIR, InplaceBuild
from kaniko.executor.outputs import write_outputs
from kaniko.executor.stage import FilesystemSteps, StageOptions, build_stage
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.images.index import ImageIndex
from kaniko.images.push import check_push_permissions
from kaniko.images.remote import fetch
from kaniko.oci.config import go_time
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
from kaniko.oci.mediatypes import uses_oci_types
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions
from kaniko.plan import BuildPlan, Stage, format_plan, make_plan
from kaniko.progress import SILENT, Reporter
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference
from kaniko.registry.transport import Transport
from kaniko.sandbox.detect import in_container

log = logging.getLogger(__name__)

FilesystemFactory = Callable[[Stage, Image], FilesystemSteps]


@dataclass(frozen=True)
class BuildResult:
    """The built image and its manifest digest."""

    image: Image
    digest: Digest
    plan: BuildPlan
    index: ImageIndex | None = None  # with --sbom/--provenance: what was pushed


class BaseImages:
    """Fetches base images once per (reference, platform)."""

    def __init__(self, transport: Transport, options: BuildOptions) -> None:
        self._transport = transport
        self._options = options
        self._cache: dict[tuple[str, str], Image] = {}

    def get(self, reference: str, platform: Platform) -> Image:
        key = (reference, str(platform))
        if key not in self._cache:
            ref = Reference.parse(reference)
            log.info("Retrieving image manifest %s", reference)
            reg = self._options.registry
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


def context_relative(path: str, context: str, display: str) -> str:
    """The Dockerfile's path as the provenance names it: relative to the context when it
    is inside it (as BuildKit's ``filename``), so the build's directory does not show."""
    rel = os.path.relpath(path, os.path.realpath(context))
    if rel.startswith("..") or os.path.isabs(rel):
        rel = os.path.relpath(os.path.realpath(path), os.path.realpath(context))
    return display if rel.startswith("..") else rel


def parse_destinations(options: BuildOptions) -> list[Reference]:
    try:
        return [Reference.parse(d) for d in options.output.destinations]
    except InvalidReferenceError as e:
        raise UsageError(f"--destination: {e}") from e


def build(
    options: BuildOptions,
    *,
    transport: Transport | None = None,
    filesystem: FilesystemFactory | None = None,
    environ: Mapping[str, str] | None = None,
    progress: Reporter = SILENT,
) -> BuildResult:
    """Build (and push) the image ``options`` describe."""
    with collecting(Materials()) as materials:
        started = datetime.now(UTC)
        isolation = choose_isolation(options)
        prepared = prepare_context(options)  # fetched and unpacked if remote; sub path applied
        try:
            return _build(
                options,
                isolation,
                prepared.path,
                transport,
                filesystem,
                environ,
                progress,
                materials,
                started,
            )
        finally:
            prepared.close()


def _build(
    options: BuildOptions,
    isolation: str,
    context: str,
    transport: Transport | None,
    filesystem: FilesystemFactory | None,
    environ: Mapping[str, str] | None,
    progress: Reporter,
    materials: Materials,
    started: datetime,
) -> BuildResult:
    if options.snapshot.use_new_run:
        log.info(
            "--use-new-run: not needed, every snapshot already detects changes from "
            "file metadata without reading contents"
        )
    path, display = resolve_dockerfile(options.dockerfile, context)
    dockerfile_text = read_dockerfile(path, context)
    dockerfile = parse(dockerfile_text, path=display)
    platform = options.platform or Platform.host()
    destinations = parse_destinations(options)
    own_transport = transport is None
    transport = transport or Transport(options.registry)
    try:
        bases = BaseImages(transport, options)
        plan = make_plan(
            dockerfile,
            build_args=options.build_arg_map(),
            target=options.target or None,
            skip_unused_stages=options.skip_unused_stages,
            platform=platform,
            environ=os.environ if environ is None else environ,
            base_env=lambda ref, p: bases.get(ref, p).config().config.env,
            base_onbuild=lambda ref, p: bases.get(ref, p).config().config.on_build,
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
        workspace = Workspace.create(
            options,
            context=Path(context),
            matcher=PatternMatcher(load_dockerignore(context, path)),
            images=bases.get,
            dockerfile=display,
            progress=progress,
        )
        images: dict[int, Image] = {}
        stage_steps: dict[int, FilesystemSteps] = {}  # for --sbom: the roots to scan
        # Every temporary file of the build (the RUN sandbox's too) goes in its work
        # directory, so that removing it, or reclaiming it after a SIGKILL, takes all.
        saved_tempdir = tempfile.tempdir
        inplace = InplaceBuild(workspace, plan, images) if isolation == "inplace" else None
        try:
            tempfile.tempdir = str(workspace.tmp)
            for stage in plan.stages:
                log.info("Building stage %s", stage.label)
                if stage.base == "scratch":
                    base: Image = scratch(stage.platform)
                elif isinstance(stage.base, int):
                    base = images[stage.base]
                else:
                    base = bases.get(stage.base, stage.platform)
                if filesystem is not None:
                    fs = filesystem(stage, base)
                elif inplace is not None:
                    fs = inplace.steps(stage, base)
                else:
                    fs = ChrootSteps(workspace, stage, base)
                stage_steps[stage.index] = fs
                image = build_stage(stage, base, fs, stage_opts)
                if uses_oci_types(out.compression, base.media_type) and image.manifest().is_docker:
                    image = mutate.with_media_types(image, oci=True)  # zstd needs OCI types
                images[stage.index] = image
            final = images[plan.target_index]
            if reproducible:
                final = mutate.canonical(final, now)
            attested = None
            if options.attest.enabled:
                from kaniko.executor.attest import BuildFacts, attest  # only when asked

                facts = BuildFacts(
                    dockerfile_path=context_relative(path, context, display),
                    dockerfile_bytes=dockerfile_text.encode("utf-8", "surrogateescape"),
                    build_args=options.build_arg_map(),
                    labels=dict(options.labels),
                    target=options.target,
                    materials=materials,
                    started=now if reproducible else started,
                    finished=now if reproducible else datetime.now(UTC),
                    reproducible=reproducible,
                )
                attested = attest(
                    options.attest, plan, final, images, stage_steps, workspace,
                    destinations, facts,
                )  # fmt: skip
                final = attested.index.images()[0]
            index = attested.index if attested is not None else None
            digest = write_outputs(final, destinations, out, transport, progress, index=index)
            if attested is not None:
                attested.write_files()
        finally:
            tempfile.tempdir = saved_tempdir
            if inplace is not None:
                inplace.close(cleanup=options.cleanup)
            workspace.remove()
        log.info("Built image %s", digest)
        return BuildResult(final, digest, plan, index)
    finally:
        if own_transport:
            transport.close()
