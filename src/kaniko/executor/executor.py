"""The executor: ``build(options)`` turns a Dockerfile and a context into an image.

1. find and parse the Dockerfile (:func:`read_source`); plan the stages
   (:func:`plan_build`: base images are fetched as the planner asks for their config,
   each once per platform);
2. check that every destination accepts pushes (unless ``--no-push`` or
   ``--skip-push-permission-check``), before any work (:func:`check_destinations`);
3. build each planned stage on its base, a registry image, ``scratch`` or an earlier
   stage's image, in a work directory and the stage roots the isolation asks for
   (:func:`stage_roots`, :func:`~kaniko.executor.stage.build_stages`);
4. stamp the final image (``created`` now, or the epoch with ``--reproducible``) and write
   it where the options say (push, tarball, OCI layout, digest files).

The library never exits and never configures logging; errors are
:class:`~kaniko.errors.KanikoError` subclasses with one clear line.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kaniko.context.local import context_dir, read_dockerfile, resolve_dockerfile
from kaniko.dockerfile.ast import Dockerfile
from kaniko.dockerfile.dockerignore import PatternMatcher, load_dockerignore
from kaniko.dockerfile.parser import parse
from kaniko.errors import UsageError
from kaniko.executor.filesystem import DirectoryRoots, Snapshots, StageParts
from kaniko.executor.inplace import TOOL_DIR, InplaceBuild
from kaniko.executor.outputs import write_outputs
from kaniko.executor.stage import StageOptions, StageRoots, build_stages
from kaniko.executor.workspace import Extractor, IgnoreRules, Workspace
from kaniko.images import mutate
from kaniko.images.push import check_push_permissions
from kaniko.images.remote import fetch
from kaniko.oci.config import ImageConfig, go_time
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, OutputOptions, RegistryOptions
from kaniko.plan import BaseImages, BuildPlan, format_plan, make_plan
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


@dataclass(frozen=True)
class Source:
    """What the build reads: the context directory and its Dockerfile, parsed."""

    context: Path
    dockerfile_path: str  # where it was read
    display: str  # how logs and errors name it
    dockerfile: Dockerfile

    def dockerignore(self) -> PatternMatcher:
        """The context's ``.dockerignore`` (or the Dockerfile's own ignore file)."""
        return PatternMatcher(load_dockerignore(str(self.context), self.dockerfile_path))


def read_source(options: BuildOptions) -> Source:
    """Find the context and the Dockerfile, and parse it."""
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
    return Source(Path(context), path, display, dockerfile)


def plan_build(
    options: BuildOptions, dockerfile: Dockerfile, bases: BaseImages, environ: Mapping[str, str]
) -> BuildPlan:
    """Plan the stages to build; log the planner's warnings (and the plan, for debug)."""
    plan = make_plan(
        dockerfile,
        build_args=options.build_arg_map(),
        target=options.target or None,
        skip_unused_stages=options.skip_unused_stages,
        platform=options.platform or Platform.host(),
        environ=environ,
        bases=bases,
    )
    for warning in plan.warnings:
        log.warning("%s", warning)
    if log.isEnabledFor(logging.DEBUG):
        for line in format_plan(plan).splitlines():
            log.debug("plan: %s", line)
    return plan


def check_destinations(
    out: OutputOptions, destinations: list[Reference], transport: Transport
) -> None:
    """Refuse destinations that do not accept pushes, before any work."""
    if destinations and not out.no_push and not out.skip_push_permission_check:
        check_push_permissions(transport, destinations)


def creation_time(out: OutputOptions) -> datetime:
    """The image's ``created``: the epoch (``SOURCE_DATE_EPOCH``) with ``--reproducible``,
    else now."""
    if out.reproducible:
        return datetime.fromtimestamp(out.source_date_epoch, UTC)
    return datetime.now(UTC)


@contextmanager
def stage_roots(
    options: BuildOptions,
    isolation: str,
    plan: BuildPlan,
    workspace: Workspace,
    source: Source,
    bases: RemoteBases,
    progress: Reporter,
) -> Iterator[StageRoots]:
    """Where the stages keep their roots: directories of ``workspace``, or ``/``; closed
    (``--cleanup``: ``/`` wiped) at the end."""
    snap = options.snapshot
    parts = StageParts(
        Extractor(
            workspace,
            IgnoreRules(snap.ignore_var_run, snap.ignore_paths),
            retries=options.image_fs_extract_retry,
            progress=progress,
        ),
        Snapshots.from_options(options, workspace.spool),
        dockerfile=source.display,
    )
    context, matcher = source.context, source.dockerignore()
    roots: StageRoots
    if isolation == "inplace":
        roots = InplaceBuild(
            parts,
            plan,
            context=context,
            matcher=matcher,
            images=bases,
            kaniko_dir=options.kaniko_dir,
        )
    else:
        roots = DirectoryRoots(parts, context=context, matcher=matcher, images=bases)
    try:
        yield roots
    finally:
        roots.close(cleanup=options.cleanup)


def stage_options(options: BuildOptions, created: datetime, display: str) -> StageOptions:
    """What every stage is built with: labels, history time, layer media types."""
    return StageOptions(
        labels=options.labels,
        created=go_time(created),
        path=display,
        force_build_metadata=options.snapshot.force_build_metadata,
        compression=options.output.compression,
    )


def build(
    options: BuildOptions,
    *,
    environ: Mapping[str, str] | None = None,
    progress: Reporter = SILENT,
) -> BuildResult:
    """Build (and push) the image ``options`` describe, in the steps of the module docs.

    ``environ`` is where a bare ``--build-arg NAME`` takes its value (default:
    ``os.environ``); ``progress`` is told about pulls and pushes.
    """
    isolation = choose_isolation(options)
    source = read_source(options)
    destinations = parse_destinations(options)
    environ = os.environ if environ is None else environ
    with Transport(options.registry) as transport:
        bases = RemoteBases(transport, options.registry)
        plan = plan_build(options, source.dockerfile, bases, environ)
        check_destinations(options.output, destinations, transport)
        created = creation_time(options.output)
        opts = stage_options(options, created, source.display)
        with (
            Workspace.create(options.kaniko_dir) as workspace,
            stage_roots(options, isolation, plan, workspace, source, bases, progress) as roots,
        ):
            final = build_stages(plan, roots, bases, opts)[plan.target_index]
            if options.output.reproducible:
                final = mutate.canonical(final, created)
            digest = write_outputs(final, destinations, options.output, transport, progress)
    log.info("Built image %s", digest)
    return BuildResult(final, digest, plan)
