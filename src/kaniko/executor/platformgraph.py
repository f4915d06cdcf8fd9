"""The stages of every target platform as one graph, built as the scheduler allows.

A multi-platform build plans the Dockerfile once per target platform (:mod:`platforms`).
:class:`PlatformGraph` joins the plans into one graph of :class:`~scheduler.Job`:

* a stage is a node keyed by :func:`~kaniko.executor.platforms.stage_key`; a stage that
  several platforms share (same key: a ``FROM --platform=$BUILDPLATFORM`` stage that does
  not read ``TARGET*``) is one node, built once, by the first platform that has it, on
  that platform's roots;
* a node needs the nodes its stage's edges name (:func:`~stage.stage_jobs`);
* after each platform's stages comes its *finish* node (stamping and attesting its final
  image), which needs every node of that platform.

:func:`~kaniko.executor.scheduler.run_jobs` runs the nodes, up to ``--jobs`` at once, so
the stages of different platforms overlap where cores allow; with ``--jobs`` 1 they run in
graph order: the first platform's stages, its finish, the next platform's stages not built
yet, its finish … the order of platforms built one after another. A failing node cancels
the others (the scheduler's rules) and is the error raised; every platform's roots are
closed by the caller.

A stage that reads a shared stage another platform built (``COPY --from``, ``RUN --mount
from=``) adopts that stage's tree into its own platform's roots when it starts. In an
in-place build the stages that RUN, of every platform, hold the one resource ``/``
(:func:`~kaniko.executor.graph.in_root`), and so do finish nodes that attest (the scan
reads ``/``); the platforms' roots hand ``/`` to each other through
:class:`~kaniko.executor.inplace.RootTurns`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kaniko.executor.filesystem import DirectoryRoots
from kaniko.executor.inplace import InplaceBuild
from kaniko.executor.platforms import stage_keys
from kaniko.executor.scheduler import Job, run_jobs
from kaniko.executor.stage import (
    Exclusive,
    StageCache,
    StageOptions,
    stage_image,
    stage_jobs,
)
from kaniko.executor.workspace import Images
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.plan.model import BuildPlan

log = logging.getLogger(__name__)

Finish = Callable[[int, Mapping[int, Image]], None]
"""Called with a platform's position and its stages' images once they are all built."""


@dataclass(frozen=True)
class Target:
    """One target platform of the build: its plan and the roots its stages are built on."""

    platform: Platform
    plan: BuildPlan
    roots: DirectoryRoots


@dataclass
class _Node:
    """A stage built once: by target ``owner``, for every target in ``sharers``."""

    owner: int
    index: int
    sharers: list[int] = field(default_factory=list)


def finish_key(position: int) -> str:
    """The key of platform ``position``'s finish node (stage keys are hex digests)."""
    return f"finish:{position}"


class PlatformGraph:
    """The graph of a multi-platform build (see the module docs)."""

    def __init__(
        self,
        targets: Sequence[Target],
        exclusive: Exclusive | None = None,
        finish_holds: str | None = None,
    ) -> None:
        self.targets = targets
        self.keys = [stage_keys(t.plan) for t in targets]
        self.nodes: dict[str, _Node] = {}
        self.jobs: list[Job[str]] = []
        self.built: list[dict[int, Image]] = [{} for _ in targets]
        for position, target in enumerate(targets):
            keys = self.keys[position]
            for job in stage_jobs(target.plan, exclusive):
                key = keys[job.key]
                node = self.nodes.get(key)
                if node is None:
                    node = self.nodes[key] = _Node(position, job.key)
                    needs = tuple(keys[need] for need in job.needs)
                    label = f"{target.platform} {job.label}" if len(targets) > 1 else job.label
                    self.jobs.append(Job(key, label, needs, job.exclusive))
                node.sharers.append(position)
            every = tuple(keys[stage.index] for stage in target.plan.stages)
            self.jobs.append(Job(finish_key(position), str(target.platform), every, finish_holds))
        for position in range(len(targets)):
            for used in self._borrowed(position):
                builder = targets[self.nodes[self.keys[position][used]].owner].roots
                if isinstance(builder, InplaceBuild):
                    builder.will_lend(used)  # kept out of the root for this platform

    def build(
        self,
        images: Images,
        opts: StageOptions,
        finish: Finish,
        cache: StageCache | None = None,
        *,
        jobs: int = 1,
    ) -> list[dict[int, Image]]:
        """Build every node, up to ``jobs`` at once; each platform's stage images by
        stage index, in plan order (``finish`` has been called for each)."""
        finishers = {finish_key(p): p for p in range(len(self.targets))}

        def work(key: str) -> None:
            if key in finishers:
                position = finishers[key]
                finish(position, self._images(position))
            else:
                self._build_node(self.nodes[key], images, opts, cache)

        run_jobs(self.jobs, work, limit=jobs)
        return [self._images(p) for p in range(len(self.targets))]

    def _images(self, position: int) -> dict[int, Image]:
        built = self.built[position]
        return {stage.index: built[stage.index] for stage in self.targets[position].plan.stages}

    def _build_node(
        self, node: _Node, images: Images, opts: StageOptions, cache: StageCache | None
    ) -> None:
        target = self.targets[node.owner]
        stage = target.plan.stage(node.index)
        self._adopt(node.owner, node.index)
        log.info("Building stage %s for %s", stage.label, target.platform)
        built = self.built[node.owner]
        image = stage_image(stage, target.roots, built, images, opts, cache)
        for position in node.sharers:
            self.built[position][stage.index] = image
            if position != node.owner:
                log.info(
                    "Stage %s for %s: the same as built for %s, not built again",
                    stage.label,
                    self.targets[position].platform,
                    target.platform,
                )

    def _borrowed(self, position: int, index: int | None = None) -> list[int]:
        """The stages that target ``position``'s stage ``index`` (any, if None) reads with
        ``--from`` and another target builds (shared stages)."""
        keys = self.keys[position]
        return sorted(
            {
                edge.used
                for edge in self.targets[position].plan.edges()
                if edge.need != "from"
                and (index is None or edge.user == index)
                and self.nodes[keys[edge.used]].owner != position
            }
        )

    def _adopt(self, position: int, index: int) -> None:
        """Give target ``position``'s roots the trees of the shared stages that its stage
        ``index`` reads, where the target that built them left them."""
        for used in self._borrowed(position, index):
            builder = self.targets[self.nodes[self.keys[position][used]].owner].roots
            self.targets[position].roots.adopt(used, builder.tree(used))
