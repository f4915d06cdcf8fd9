"""Building the stages: each from its base image, step by step, to its image.

:class:`StageBuild` builds one stage and yields each step's result as it is done;
:func:`build_stages` builds every stage of a plan: one after another, or those that do
not need each other at once (``jobs`` > 1, :mod:`kaniko.executor.scheduler`).

Metadata steps edit the config and add an ``empty_layer`` history entry. Steps that touch
the filesystem are handed to a :class:`FilesystemSteps` implementation, which owns the
stage's root filesystem (created lazily: a stage of metadata steps never extracts its
base). Every history entry of one build shares one ``created`` time.

The build's :class:`StageRoots` gives each stage its :class:`FilesystemSteps`: a new
directory per stage (:class:`~kaniko.executor.filesystem.DirectoryRoots`, chroot mode)
or the container's ``/`` (:class:`~kaniko.executor.inplace.InplaceBuild`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from kaniko import cancel
from kaniko.dockerfile.commands import Command, Run
from kaniko.executor import metadata
from kaniko.executor.scheduler import Job, run_jobs
from kaniko.executor.timing import step as timed_step
from kaniko.executor.workspace import Images
from kaniko.fs.inventory import IgnoreFn
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.oci.config import History, ImageConfig
from kaniko.oci.image import BytesLayer, Image, Layer
from kaniko.oci.mediatypes import Compression, uses_oci_types
from kaniko.plan.model import BuildPlan, Stage, Step

log = logging.getLogger(__name__)


class FilesystemSteps(Protocol):
    """Runs RUN/COPY/ADD/WORKDIR against a stage's root filesystem."""

    def run_step(self, step: Step, config: ImageConfig) -> Layer | None:
        """Execute ``step``; the layer of what it changed, or None if nothing changed."""
        ...

    def finish(self) -> Sequence[Layer]:
        """Layers still pending at the end of the stage (``--single-snapshot``)."""
        ...


class StageRoots(Protocol):
    """Where the stages of one build keep their root filesystems."""

    def steps(self, stage: Stage, base: Image) -> FilesystemSteps:
        """The filesystem steps of ``stage``, built on ``base``."""
        ...

    def finished(self, stage: Stage, image: Image) -> None:
        """``stage`` is built, as ``image``."""
        ...

    def tree(self, index: int) -> Path:
        """The root of finished stage ``index``, as ``COPY --from`` reads it."""
        ...

    def where(self, index: int) -> tuple[Path, IgnoreFn] | None:
        """Where finished stage ``index``'s files lie now, moved nowhere (``--sbom``
        scans them there), and what there is not the stage's; None if the build kept
        none (its image holds them)."""
        ...

    def close(self, *, cleanup: bool = False) -> None:
        """The build is over (``cleanup``: ``--cleanup`` was given)."""
        ...


@dataclass(frozen=True)
class StageOptions:
    """What every stage of one build is built with."""

    labels: tuple[tuple[str, str], ...] = ()  # --label
    created: str = ""  # every history entry's time
    path: str = "Dockerfile"  # how errors name the Dockerfile
    force_build_metadata: bool = False  # every step gets a layer, an empty one if need be
    compression: Compression | None = None  # --compression (zstd layers need OCI types)


def created_by(step: Step) -> str:
    """History ``created_by`` as Docker writes it: the shell command for RUN."""
    instr = step.instruction
    if isinstance(instr, Run):
        if instr.json:
            return "RUN " + json.dumps(list(instr.cmd))
        return "/bin/sh -c " + " ".join(instr.cmd)
    return metadata.created_by(instr)


def start_config(base: Image, stage: Stage, opts: StageOptions) -> ImageConfig:
    """The config a stage starts from: the base's, --label, no triggers."""
    config = base.config()
    if opts.labels:
        config = config.with_labels(dict(opts.labels))
    if config.config.on_build:
        log.info("Executing %d build triggers", len(config.config.on_build))
        config = config.with_config(on_build=())
    return config


@dataclass(frozen=True)
class StepResult:
    """One step done: the layer it added, or None (a metadata step, or no change)."""

    step: Step
    layer: Layer | None


class StageBuild:
    """One stage being built on ``base``: :meth:`run` runs the steps, yielding each one's
    result as it is done; :meth:`image` is then the stage's image."""

    def __init__(self, stage: Stage, base: Image, fs: FilesystemSteps, opts: StageOptions):
        self.stage = stage
        self.base = base
        self.fs = fs
        self.opts = opts
        self._state = metadata.ConfigState(start_config(base, stage, opts))
        self._image = base
        self._pending: list[History] = []  # entries of metadata steps, in order
        self._done = False

    def run(self) -> Iterator[StepResult]:
        """Run every step in order (``--single-snapshot``: the stage's layer at the end)."""
        for step in self.stage.steps:
            line = metadata.one_line(step.instruction.original)
            log.info("%s", line)
            with timed_step(self.stage.label, step.line, line):
                layer = self._step(step)
            yield StepResult(step, layer)
        for layer in self.fs.finish():
            history = History(created=self.opts.created, created_by="snapshot")
            self._image = mutate.append(self._image, layer, history)
        self._flush()
        self._done = True

    def image(self) -> Image:
        """The stage's image: its layers and history, the config its steps made with the
        plan's ``Env``, OCI media types where its layers need them (zstd)."""
        if not self._done:
            raise RuntimeError("StageBuild.image() before run() has finished")
        final = self._state.config.with_config(env=self.stage.config_env)  # the plan's
        created = self.opts.created
        image = mutate.with_config(self._image, lambda cfg: _merge(cfg, final, created))
        oci = uses_oci_types(self.opts.compression, self.base.media_type)
        if oci and image.manifest().is_docker:
            image = mutate.with_media_types(image, oci=True)  # zstd needs OCI types
        return image

    def _step(self, step: Step) -> Layer | None:
        instr: Command = step.instruction
        if isinstance(instr, metadata.METADATA) and not step.touches_fs:
            metadata.apply(self._state, instr, path=self.opts.path)
            if self.opts.force_build_metadata:
                self._append(step, _empty_layer(self.base))
            else:
                self._pending.append(self._history(step, empty=True))
            return None
        if instr.keyword == "WORKDIR":
            metadata.apply(self._state, instr, path=self.opts.path)
        layer = self.fs.run_step(step, self._state.config)
        self._flush()
        if layer is None and self.opts.force_build_metadata:
            self._append(step, _empty_layer(self.base))
        elif layer is None:
            self._pending.append(self._history(step, empty=True))
        else:
            self._append(step, layer)
        return layer

    def _history(self, step: Step, *, empty: bool) -> History:
        return History(created=self.opts.created, created_by=created_by(step), empty_layer=empty)

    def _append(self, step: Step, layer: Layer) -> None:
        self._image = mutate.append(self._image, layer, self._history(step, empty=False))

    def _flush(self) -> None:
        """Add the pending metadata steps' history entries (before the next layer's)."""
        for entry in self._pending:
            self._image = mutate.add_history(self._image, entry)
        self._pending.clear()


def build_stage(stage: Stage, base: Image, fs: FilesystemSteps, opts: StageOptions) -> Image:
    """The image of ``stage`` built on ``base``."""
    build = StageBuild(stage, base, fs, opts)
    for _ in build.run():
        cancel.check()  # a sibling stage failed: stop between steps
    return build.image()


def base_image(stage: Stage, built: Mapping[int, Image], images: Images) -> Image:
    """The image ``stage`` starts from: ``scratch``, an earlier stage's (in ``built``) or
    ``images``' image for the stage's platform."""
    if stage.base == "scratch":
        return scratch(stage.platform)
    if isinstance(stage.base, int):
        return built[stage.base]
    return images.image(stage.base, stage.platform)


class StageCache(Protocol):
    """The layer cache, put in front of each stage's filesystem steps (``--cache``)."""

    def steps(
        self, stage: Stage, base: Image, fs: FilesystemSteps, built: Mapping[int, Image]
    ) -> FilesystemSteps:
        """``fs`` of ``stage`` behind the cache (``built``: the stages done so far)."""
        ...


Exclusive = Callable[[Stage], str | None]
"""The resource a stage holds while it is built, if any (see :func:`stage_jobs`)."""


def stage_jobs(plan: BuildPlan, exclusive: Exclusive | None = None) -> list[Job[int]]:
    """The plan as a graph of jobs, in plan order: each stage needs the stages its edges
    name; ``exclusive`` gives the resource a stage holds (an in-place build's ``/``)."""
    needs: dict[int, list[int]] = {stage.index: [] for stage in plan.stages}
    for edge in plan.edges():
        if edge.used not in needs[edge.user]:
            needs[edge.user].append(edge.used)
    return [
        Job(s.index, s.label, tuple(needs[s.index]), exclusive(s) if exclusive else None)
        for s in plan.stages
    ]


def stage_image(
    stage: Stage,
    roots: StageRoots,
    built: Mapping[int, Image],
    images: Images,
    opts: StageOptions,
    cache: StageCache | None = None,
) -> Image:
    """Build ``stage`` on its base (``built`` holds the stages done so far) in ``roots``,
    behind the layer cache if any; ``roots`` is told it is finished."""
    base = base_image(stage, built, images)
    fs = roots.steps(stage, base)
    if cache is not None:
        fs = cache.steps(stage, base, fs, dict(built))  # others may add to it meanwhile
    image = build_stage(stage, base, fs, opts)
    roots.finished(stage, image)
    return image


def build_stages(
    plan: BuildPlan,
    roots: StageRoots,
    images: Images,
    opts: StageOptions,
    cache: StageCache | None = None,
    *,
    jobs: int = 1,
    exclusive: Exclusive | None = None,
) -> dict[int, Image]:
    """Every stage of ``plan`` on its base (``scratch``, an earlier stage's image, or
    ``images``' image): in order, or up to ``jobs`` at once as their needs allow; their
    images by stage index, in plan order."""
    built: dict[int, Image] = {}

    def one(index: int) -> None:
        stage = plan.stage(index)
        log.info("Building stage %s", stage.label)
        built[stage.index] = stage_image(stage, roots, built, images, opts, cache)

    run_jobs(stage_jobs(plan, exclusive), one, limit=jobs)
    return {stage.index: built[stage.index] for stage in plan.stages}


def _merge(current: ImageConfig, wanted: ImageConfig, created: str) -> ImageConfig:
    """``wanted``'s settings with ``current``'s layers and history."""
    return replace(
        wanted, diff_ids=current.diff_ids, history=current.history, created=created or None
    )


def _empty_layer(base: Image) -> Layer:
    """A layer with no entries (``--force-build-metadata``), typed like the base's layers."""
    return BytesLayer.from_tar(EMPTY_TAR, oci=not base.manifest().is_docker)


EMPTY_TAR = bytes(1024)  # a tar archive's end: two zero blocks
