"""The build as a graph: base images resolved together, independent stages built at once.

Two hooks of :func:`kaniko.executor.executor.build`:

* :func:`resolve_bases`, before planning: every registry image the ``FROM`` lines name
  (:func:`kaniko.plan.bases.base_references`) is resolved concurrently, so the planner,
  which asks for their configs one stage after another, finds them all resolved;
* :func:`build_graph`, the stages: the images ``COPY --from`` reads are resolved
  concurrently too, the layers of the images that stages starting later will extract
  are pulled ahead while the first stages work (:class:`~kaniko.executor.pulls.PullAhead`;
  layers that several of the first stages extract are pulled once, before they start
  extracting them), and the stages are built as the graph allows, up to ``--jobs`` at
  once (:mod:`kaniko.executor.scheduler`).

``--jobs`` defaults to the number of cores (at least 2); ``--jobs 1`` builds the stages
one after another in plan order, as before. In an in-place build the stages that RUN
share ``/``: they are built one at a time (one exclusive resource), while stages of
COPY/ADD/WORKDIR and metadata only, built in directories, may overlap with them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from kaniko.dockerfile.ast import Dockerfile
from kaniko.errors import KanikoError
from kaniko.executor.bases import RemoteBases
from kaniko.executor.filesystem import StageParts
from kaniko.executor.inplace import runs_programs
from kaniko.executor.pulls import PullAhead, shared_layers
from kaniko.executor.scheduler import default_jobs, first_wave
from kaniko.executor.stage import (
    Exclusive,
    StageCache,
    StageOptions,
    StageRoots,
    build_stages,
    stage_jobs,
)
from kaniko.oci.image import Image, Layer
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions
from kaniko.plan import BuildPlan, PlanArguments, Stage
from kaniko.plan.bases import base_references
from kaniko.progress import SILENT, Reporter

log = logging.getLogger(__name__)

ROOT_RESOURCE = "/"


def effective_jobs(options: BuildOptions) -> int:
    """How many stages may be built at once: ``--jobs``, or the cores (at least 2)."""
    return options.jobs if options.jobs > 0 else default_jobs()


def plan_arguments(options: BuildOptions, environ: Mapping[str, str]) -> PlanArguments:
    """What ``options`` say to the planner, for resolving the bases and for planning."""
    return PlanArguments(
        build_args=options.build_arg_map(),
        target=options.target or None,
        skip_unused_stages=options.skip_unused_stages,
        platform=options.platform or Platform.host(),
        environ=environ,
    )


def resolve_bases(
    options: BuildOptions,
    dockerfile: Dockerfile,
    bases: RemoteBases,
    environ: Mapping[str, str],
) -> None:
    """Resolve every base image the Dockerfile's stages are built ``FROM``, at once."""
    bases.resolve_all(base_references(dockerfile, **plan_arguments(options, environ)))


def in_root(stage: Stage) -> str | None:
    """The resource of a stage in an in-place build: ``/`` for a stage that RUNs."""
    return ROOT_RESOURCE if runs_programs(stage) else None


def copied_images(plan: BuildPlan) -> list[tuple[str, Platform]]:
    """The images the stages copy or mount from, with the platform each is read for."""
    return [(ref, stage.platform) for stage in plan.stages for ref in stage.images]


def _bases(plan: BuildPlan, bases: RemoteBases, among: set[int]) -> list[Image]:
    """The resolved registry images the stages in ``among`` are built on, one per stage."""
    wanted = [
        (stage.base, stage.platform)
        for stage in plan.stages
        if stage.index in among and isinstance(stage.base, str) and stage.base != "scratch"
    ]
    found = (bases.known(ref, platform) for ref, platform in wanted)
    return [image for image in found if image is not None]


def _ahead(plan: BuildPlan, bases: RemoteBases, later: set[int]) -> Sequence[Image]:
    """The resolved images whose layers are pulled ahead: the bases of the stages in
    ``later`` and the images every stage copies from."""
    found = (bases.known(ref, platform) for ref, platform in copied_images(plan))
    return [*_bases(plan, bases, later), *(image for image in found if image is not None)]


def _shared(plan: BuildPlan, bases: RemoteBases, first: set[int]) -> Sequence[Layer]:
    """The registry layers that more than one of the stages in ``first`` extract."""
    try:
        return shared_layers(_bases(plan, bases, first))
    except KanikoError as e:  # best effort: each stage then pulls its own
        log.debug("pulling ahead: cannot list the shared layers: %s", e)
        return ()


def build_graph(
    options: BuildOptions,
    isolation: str,
    plan: BuildPlan,
    roots: StageRoots,
    bases: RemoteBases,
    parts: StageParts,
    opts: StageOptions,
    progress: Reporter = SILENT,
    cache: StageCache | None = None,
) -> dict[int, Image]:
    """Every stage of ``plan``, built as the graph allows (see the module docs)."""
    jobs = effective_jobs(options)
    exclusive: Exclusive | None = in_root if isolation == "inplace" else None
    bases.resolve_all(copied_images(plan), report=True)
    graph = stage_jobs(plan, exclusive)
    first: list[int] = first_wave(graph, jobs)
    later = {job.key for job in graph} - set(first)
    extractor = parts.extractor
    ahead = PullAhead(
        lambda: _ahead(plan, bases, later),
        extractor.workspace.blobs,
        extractor.pulls,
        progress,
        first=_shared(plan, bases, set(first)) if jobs > 1 else (),
    )
    try:
        return build_stages(plan, roots, bases, opts, cache, jobs=jobs, exclusive=exclusive)
    finally:
        ahead.close()
