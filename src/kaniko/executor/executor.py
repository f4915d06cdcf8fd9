"""The executor: ``build(options)`` turns a Dockerfile and a context into an image.

1. fetch the context if it is remote, find and parse the Dockerfile (:func:`read_source`);
   plan the stages (:func:`plan_build`: base images are fetched as the planner asks for
   their config, each once per platform);
2. check that every destination accepts pushes (unless ``--no-push`` or
   ``--skip-push-permission-check``), before any work (:func:`check_destinations`);
3. build each planned stage on its base, a registry image, ``scratch`` or an earlier
   stage's image, in a work directory and the stage roots the isolation asks for
   (:func:`stage_roots`); stages that do not need each other are built at once, up to
   ``--jobs`` (:func:`~kaniko.executor.graph.build_graph`; base images are resolved
   together before planning, :func:`~kaniko.executor.graph.resolve_bases`);
4. stamp the final image (``created`` now, or the epoch with ``--reproducible``), attest
   it if asked (:func:`attest_image`), and write it where the options say (push, tarball,
   OCI layout, digest files).

Everything the build writes lives in its work directory under ``<kaniko-dir>/builds``
(:mod:`kaniko.executor.workdirs`); for the build's duration :data:`tempfile.tempdir`
points there too (:func:`temporary_files_in`). Work directories of builds that were
killed are reclaimed on start.

The library never exits and never configures logging; errors are
:class:`~kaniko.errors.KanikoError` subclasses with one clear line.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kaniko.attest.materials import Materials, collecting
from kaniko.context.fetch import prepare_context
from kaniko.context.local import read_dockerfile, resolve_dockerfile
from kaniko.dockerfile.ast import Dockerfile
from kaniko.dockerfile.dockerignore import PatternMatcher, load_dockerignore
from kaniko.dockerfile.parser import parse
from kaniko.errors import UsageError
from kaniko.executor.bases import RemoteBases
from kaniko.executor.earlypush import EarlyPush, early_push
from kaniko.executor.filesystem import DirectoryRoots, Snapshots, StageParts
from kaniko.executor.graph import build_graph, plan_arguments, resolve_bases
from kaniko.executor.inplace import TOOL_DIR, InplaceBuild
from kaniko.executor.mounts import RunMounts, check_run_steps, run_mounts_for
from kaniko.executor.outputs import write_outputs
from kaniko.executor.overlayroots import overlay_parts
from kaniko.executor.platforms import check_base_platforms, require_emulation
from kaniko.executor.stage import StageOptions, StageRoots
from kaniko.executor.timing import count, phase, recording
from kaniko.executor.workspace import Extractor, IgnoreRules, Workspace
from kaniko.images import mutate
from kaniko.images.index import ImageIndex
from kaniko.images.push import check_push_permissions
from kaniko.oci.config import go_time
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
from kaniko.options import BuildOptions, OutputOptions
from kaniko.plan import BaseImages, BuildPlan, format_plan, make_plan
from kaniko.progress import SILENT, Reporter
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference
from kaniko.registry.transport import Transport
from kaniko.sandbox.detect import in_container

if TYPE_CHECKING:
    from kaniko.executor.attest import Attested
    from kaniko.executor.cached import BuildCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    """The built image and its manifest digest."""

    image: Image
    digest: Digest
    plan: BuildPlan
    index: ImageIndex | None = None  # with --sbom/--provenance: what was pushed


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


@dataclass(frozen=True)
class Source:
    """What the build reads: the context directory and its Dockerfile, parsed."""

    context: Path
    dockerfile_path: str  # where it was read
    display: str  # how logs and errors name it
    text: str  # as read
    dockerfile: Dockerfile

    def dockerignore(self) -> PatternMatcher:
        """The context's ``.dockerignore`` (or the Dockerfile's own ignore file)."""
        return PatternMatcher(load_dockerignore(str(self.context), self.dockerfile_path))


def read_source(options: BuildOptions, context: str) -> Source:
    """Find the Dockerfile in the (local, prepared) ``context`` and parse it."""
    if options.snapshot.use_new_run:
        log.info(
            "--use-new-run: not needed, every snapshot already detects changes from "
            "file metadata without reading contents"
        )
    path, display = resolve_dockerfile(options.dockerfile, context)
    text = read_dockerfile(path, context)
    return Source(Path(context), path, display, text, parse(text, path=display))


def plan_build(
    options: BuildOptions, dockerfile: Dockerfile, bases: BaseImages, environ: Mapping[str, str]
) -> BuildPlan:
    """Plan the stages to build; log the planner's warnings (and the plan, for debug)."""
    plan = make_plan(dockerfile, **plan_arguments(options, environ), bases=bases)
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
def temporary_files_in(directory: Path) -> Iterator[None]:
    """Point :mod:`tempfile` (process-global, on purpose) at ``directory`` until the end:
    every temporary file of the build, the RUN sandbox's and libraries' too, then lies
    in its work directory, so that removing it, or reclaiming it after a SIGKILL, takes
    all, and none lands in ``/tmp``, which an in-place build gives to the image."""
    saved = tempfile.tempdir
    tempfile.tempdir = str(directory)
    try:
        yield
    finally:
        tempfile.tempdir = saved


def stage_parts(
    options: BuildOptions,
    workspace: Workspace,
    display: str,
    progress: Reporter,
    mounts: RunMounts | None = None,
) -> StageParts:
    """What every stage's filesystem steps share: extraction and snapshot settings, and
    what ``RUN --mount`` may use."""
    snap = options.snapshot
    extractor = Extractor(
        workspace,
        IgnoreRules(snap.ignore_var_run, snap.ignore_paths),
        retries=options.image_fs_extract_retry,
        progress=progress,
    )
    snapshots = Snapshots.from_options(options, workspace.spool)
    return StageParts(extractor, snapshots, display, mounts or RunMounts())


@contextmanager
def stage_roots(
    options: BuildOptions,
    isolation: str,
    plan: BuildPlan,
    parts: StageParts,
    source: Source,
    bases: RemoteBases,
    name: str = "",
) -> Iterator[DirectoryRoots]:
    """Where the stages keep their roots: directories of the workspace, or ``/``; closed
    (``--cleanup``: ``/`` wiped) at the end. ``name`` tells the roots of one platform of
    a multi-platform build apart (their kept in-place stages go to ``stages/<name>``)."""
    context, matcher = source.context, source.dockerignore()
    roots: DirectoryRoots
    if isolation == "inplace":
        stages = Path(options.kaniko_dir) / "stages"
        roots = InplaceBuild(
            parts,
            plan,
            context=context,
            matcher=matcher,
            images=bases,
            kaniko_dir=options.kaniko_dir,
            keep=(options.cache_mount_dir,),  # RUN --mount=type=cache's store
            stages_dir=stages / name if name else None,
        )
    else:
        roots = DirectoryRoots(parts, context=context, matcher=matcher, images=bases)
    try:
        yield roots
    finally:
        roots.close(cleanup=options.cleanup)


def base_images(options: BuildOptions, transport: Transport) -> RemoteBases:
    """Where base images come from: registries, and ``--cache-dir`` first with ``--cache``."""
    if not options.cache.enabled:
        return RemoteBases(transport, options.registry)
    from kaniko.cache.basecache import BaseImageDir
    from kaniko.executor.cachedbases import CachedBases

    directory = BaseImageDir(Path(options.cache.dir), options.cache.ttl)
    return CachedBases(transport, options.registry, directory)


def layer_cache(
    options: BuildOptions, transport: Transport, extractor: Extractor, bases: RemoteBases
) -> BuildCache | None:
    """The layer cache of the build (``--cache``), None without."""
    if not options.cache.enabled:
        return None
    from kaniko.executor.cached import BuildCache

    return BuildCache(options, transport, extractor, bases)


def stage_options(options: BuildOptions, created: datetime, display: str) -> StageOptions:
    """What every stage is built with: labels, history time, layer media types."""
    return StageOptions(
        labels=options.labels,
        created=go_time(created),
        path=display,
        force_build_metadata=options.snapshot.force_build_metadata,
        compression=options.output.compression,
    )


def attest_image(
    options: BuildOptions,
    plan: BuildPlan,
    final: Image,
    images: Mapping[int, Image],
    roots: StageRoots,
    extractor: Extractor,
    destinations: Sequence[Reference],
    source: Source,
    materials: Materials,
    times: tuple[datetime, datetime],
) -> Attested:
    """``--sbom`` and ``--provenance``: the index of ``final`` and its attestations
    (``times``: when the build started and when it was created)."""
    from kaniko.executor.attest import BuildFacts, attest  # only when asked

    started, created = times
    reproducible = options.output.reproducible
    facts = BuildFacts(
        dockerfile_path=context_relative(
            source.dockerfile_path, str(source.context), source.display
        ),
        dockerfile_bytes=source.text.encode("utf-8", "surrogateescape"),
        build_args=options.build_arg_map(),
        labels=dict(options.labels),
        target=options.target,
        materials=materials,
        started=created if reproducible else started,
        finished=created if reproducible else datetime.now(UTC),
        reproducible=reproducible,
    )
    return attest(options.attest, plan, final, images, roots, extractor, destinations, facts)


@dataclass
class Started:
    """What every platform of a build shares, set up before any stage is built (steps 1
    and 2 of the module docs): one plan per target platform, checked; the work directory,
    the stage parts and the layer cache."""

    options: BuildOptions
    isolation: str
    source: Source
    destinations: list[Reference]
    transport: Transport
    bases: RemoteBases
    plans: list[BuildPlan]
    started: datetime
    created: datetime
    materials: Materials
    parts: StageParts
    early: EarlyPush | None
    cache: BuildCache | None
    progress: Reporter

    def finish_push(self) -> None:
        """Wait for the layers uploaded while they were written."""
        if self.early is not None:
            count("layers_pushed_early", self.early.wait())


def start_build(
    opened: ExitStack, options: BuildOptions, environ: Mapping[str, str], progress: Reporter
) -> Started:
    """Steps 1 and 2 (see the module docs) for every target platform; what is opened is
    closed by ``opened``."""
    opened.enter_context(recording(options.perf.profile_file, options.perf.benchmark_file))
    materials = opened.enter_context(collecting(Materials()))
    started = datetime.now(UTC)
    isolation = choose_isolation(options)
    run_mounts = run_mounts_for(options, environ, isolation)  # --secret, --ssh: read now
    context = opened.enter_context(closing(prepare_context(options)))
    source = read_source(options, context.path)
    destinations = parse_destinations(options)
    transport = opened.enter_context(Transport(options.registry))
    bases = base_images(options, transport)
    targets = [replace(options, platform=p) for p in options.platforms] or [options]
    with phase("plan"):
        for one in targets:  # every FROM image at once, before the planner asks
            resolve_bases(one, source.dockerfile, bases, environ)
        plans = [plan_build(one, source.dockerfile, bases, environ) for one in targets]
    for plan in plans:
        if options.platforms:
            check_base_platforms(plan, bases, source.display)
        check_run_steps(plan, run_mounts.secrets, run_mounts.agents, source.display)
        require_emulation(plan, source.display)
    check_destinations(options.output, destinations, transport)
    created = creation_time(options.output)
    workspace = opened.enter_context(Workspace.create(options.kaniko_dir))
    opened.enter_context(temporary_files_in(workspace.tmp))
    parts = stage_parts(options, workspace, source.display, progress, run_mounts)
    parts = opened.enter_context(overlay_parts(options, isolation, parts))
    early = early_push(options.output.no_push, destinations, transport)
    if early is not None:  # layers uploaded while they are written
        parts = replace(parts, snapshots=replace(parts.snapshots, watch=early.watch))
    cache = layer_cache(options, transport, parts.extractor, bases)
    return Started(
        options, isolation, source, destinations, transport, bases, plans, started, created,
        materials, parts, early, cache, progress,
    )  # fmt: skip


def build(
    options: BuildOptions,
    *,
    environ: Mapping[str, str] | None = None,
    progress: Reporter = SILENT,
) -> BuildResult:
    """Build (and push) the image ``options`` describe, in the steps of the module docs;
    with several target platforms, one index of an image per platform
    (:mod:`kaniko.executor.platforms`).

    ``environ`` is where a bare ``--build-arg NAME`` takes its value (default:
    ``os.environ``); ``progress`` is told about pulls and pushes. What the build opens
    is closed at the end, in reverse order.
    """
    environ = os.environ if environ is None else environ
    with ExitStack() as opened:
        run = start_build(opened, options, environ, progress)
        roots_stack = opened.enter_context(ExitStack())  # stage roots go after the cache
        if run.cache is not None:
            opened.callback(run.cache.close)  # stored entries are waited for, before roots go
        if options.platforms:
            from kaniko.executor.platforms import build_platforms

            return build_platforms(run, roots_stack)
        return build_one(run, roots_stack)


def build_one(run: Started, roots_stack: ExitStack) -> BuildResult:
    """Steps 3 and 4 of the module docs for one target platform."""
    options, source, plan = run.options, run.source, run.plans[0]
    roots = roots_stack.enter_context(
        stage_roots(options, run.isolation, plan, run.parts, source, run.bases)
    )
    opts = stage_options(options, run.created, source.display)
    images = build_graph(
        options, run.isolation, plan, roots, run.bases, run.parts, opts, run.progress, run.cache
    )
    final = images[plan.target_index]
    if options.output.reproducible:
        final = mutate.canonical(final, run.created)
    attested = None
    if options.attest.enabled:
        attested = attest_image(
            options, plan, final, images, roots, run.parts.extractor, run.destinations,
            source, run.materials, (run.started, run.created),
        )  # fmt: skip
        final = attested.index.images()[0]
    index = attested.index if attested is not None else None
    with phase("push"):
        run.finish_push()
        digest = write_outputs(
            final, run.destinations, options.output, run.transport, run.progress, index=index
        )
    if attested is not None:
        attested.write_files()
    log.info("Built image %s", digest)
    return BuildResult(final, digest, plan, index)
