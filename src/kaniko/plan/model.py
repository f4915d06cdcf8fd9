"""The build plan: pure data describing what to build, stage by stage and step by step.

A :class:`BuildPlan` holds the stages that will be built (in file order, each keeping its
index in the Dockerfile), the index of the target stage, the resolved global ARGs and any
warnings. A :class:`Stage` names its base (an image reference, ``scratch``, or the index
of an earlier stage) and its steps. A :class:`Step` is one instruction with its variables
expanded where Docker expands them, plus the environment it ran in. Key/value collections
are tuples of pairs (ordered, immutable); ``dict(step.env)`` gives a mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kaniko.dockerfile.commands import Command, From
from kaniko.oci.platform import Platform
from kaniko.plan.scope import ScopeView

Pairs = tuple[tuple[str, str], ...]
"""Ordered ``(name, value)`` pairs."""

StageRef = int | str
"""Where a step reads from: a stage index (int) or an image reference (str)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One instruction of a stage, ready for the executor.

    ``env`` is the image-config environment before the step (base image ENV, then the
    stage's ENV); ``args`` the ARGs in scope with their values (an ARG that a later ENV of
    the same name shadows shows the ENV's value); words were expanded with ``env``
    overlaid by ``args``. ``run_env`` is what a RUN's process gets: that overlay plus the
    predefined proxy build args given (empty for other instructions). The three are
    rebuilt on demand from ``scope``, a view into the stage's record of variable changes,
    so a long Dockerfile keeps one copy of its variables, not one per step.
    ``copy_from`` says where ``COPY --from`` reads; ``mount_from`` gives, per RUN mount,
    where its ``from=`` points (``None`` for the build context or no source).
    ``onbuild_of`` is set on triggers inherited from the base: the image reference or
    stage name that declared them. ``touches_fs`` marks steps that may change the root
    filesystem (RUN, COPY, ADD, WORKDIR).
    """

    instruction: Command
    line: int
    end_line: int
    scope: ScopeView
    touches_fs: bool
    proxies: Pairs | None = None  # the proxy args a RUN gets; None for other instructions
    copy_from: StageRef | None = None
    mount_from: tuple[StageRef | None, ...] = ()
    onbuild_of: str | None = None

    @property
    def keyword(self) -> str:
        return self.instruction.keyword

    @property
    def env(self) -> Pairs:
        return self.scope.env()

    @property
    def args(self) -> Pairs:
        return self.scope.args()

    @property
    def run_env(self) -> Pairs:
        return () if self.proxies is None else self.scope.run_env(dict(self.proxies))


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage to build.

    ``base`` is the expanded image reference, ``"scratch"``, or the index of an earlier
    stage. ``platform`` is the stage's ``--platform`` if given, else its base stage's,
    else the build's target platform. ``depends_on`` lists the stage indices this stage
    needs (its base and every ``--from``), ``images`` the image references it copies or
    mounts from (:meth:`BuildPlan.edges` gives the graph with each need's kind).
    ``base_env`` is the environment the stage starts with; ``config_env``
    is the image config's ``Env`` after its last step (the base's entries as written,
    its ENVs applied, Docker's default ``PATH`` added where BuildKit adds it): what the
    executor writes, evaluated once, here (:class:`~kaniko.plan.scope.ConfigEnv`).
    """

    index: int
    name: str
    base: int | str
    platform: Platform
    steps: tuple[Step, ...]
    depends_on: tuple[int, ...]
    line: int
    from_: From
    base_env: Pairs = ()
    images: tuple[str, ...] = ()
    config_env: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``0`` or ``0 (builder)``: how logs name the stage."""
        return f"{self.index} ({self.name})" if self.name else str(self.index)


Need = Literal["from", "copy", "mount"]
"""How a stage needs an earlier one: built ``FROM`` it, ``COPY --from`` it, or mounting
it (``RUN --mount=from=``)."""


@dataclass(frozen=True, slots=True)
class Edge:
    """Stage ``user`` needs stage ``used`` (an earlier one), as ``need`` says."""

    user: int
    used: int
    need: Need


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """The stages to build and what the planner noticed.

    ``stages`` are those that will be built, in order; ``target_index`` is the Dockerfile
    index of the last one, the image the build produces. ``meta_args`` are the global
    ARGs after resolution (the automatic platform args, then the ARGs before the first
    FROM), i.e. what FROM lines saw. ``warnings`` are one-line messages for the log.
    """

    stages: tuple[Stage, ...]
    target_index: int
    meta_args: Pairs
    warnings: tuple[str, ...] = ()

    @property
    def target(self) -> Stage:
        return self.stages[-1]

    def edges(self) -> tuple[Edge, ...]:
        """The stage graph: every need of one stage by a later one, in build order (a
        stage's base first, then its steps' ``--from`` in order; one edge per use)."""
        found: list[Edge] = []
        for stage in self.stages:
            if isinstance(stage.base, int):
                found.append(Edge(stage.index, stage.base, "from"))
            for step in stage.steps:
                if isinstance(step.copy_from, int):
                    found.append(Edge(stage.index, step.copy_from, "copy"))
                found.extend(
                    Edge(stage.index, ref, "mount")
                    for ref in step.mount_from
                    if isinstance(ref, int)
                )
        return tuple(found)

    def users(self) -> dict[int, tuple[Edge, ...]]:
        """For each stage needed by another, the edges to it, in build order."""
        grouped: dict[int, list[Edge]] = {}
        for edge in self.edges():
            grouped.setdefault(edge.used, []).append(edge)
        return {used: tuple(edges) for used, edges in grouped.items()}

    def stage(self, index: int) -> Stage:
        """The planned stage with Dockerfile index ``index``."""
        for stage in self.stages:
            if stage.index == index:
                return stage
        raise KeyError(f"stage {index} is not part of this plan")
