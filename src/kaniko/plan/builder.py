"""Planning a build: :func:`make_plan` turns a parsed Dockerfile into a :class:`BuildPlan`.

Which stages: without ``skip_unused_stages`` every stage up to the target (as the Go
kaniko does); with it, only the target and the stages it reaches through ``FROM``,
``COPY --from`` and ``RUN --mount=from=``, transitively (as BuildKit does). Stages after
the target are never planned, so their variables are never expanded.

Base images: the planner does not talk to registries. It asks one resolver
(:class:`BaseImages`, BuildKit's ``ImageMetaResolver``) for a base image's config, with
the expanded image reference and the stage's platform, once per stage that will be
built: the config's ``Env`` is what variable expansion in that stage starts from, its
``OnBuild`` triggers are parsed and inserted at the start of the stage (each step's
``onbuild_of`` names the image). Without a resolver a base image has no env and no
triggers. A stage based on an earlier stage inherits that stage's whole scope and runs
the ``ONBUILD`` instructions written in it. A stage whose environment has no ``PATH``
gets Docker's default one, as BuildKit does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypedDict

from kaniko.dockerfile.ast import Dockerfile
from kaniko.dockerfile.commands import (
    Add,
    Arg,
    ArgDef,
    Command,
    Copy,
    Env,
    From,
    Maintainer,
    Onbuild,
    Run,
    StageDef,
    Workdir,
)
from kaniko.dockerfile.instructions import parse_instruction, split_stages
from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError, KanikoError, UsageError, with_context
from kaniko.oci.config import ImageConfig
from kaniko.oci.env import ConfigEnv
from kaniko.oci.platform import Platform
from kaniko.plan.expand import Expander
from kaniko.plan.model import BuildPlan, Stage, StageRef, Step
from kaniko.plan.scope import (
    PLATFORM_ARGS,
    PROXY_ARGS,
    StageScope,
    platform_args,
    resolve_build_args,
)
from kaniko.plan.stages import StageTable, check_image


class BaseImages(Protocol):
    """What the planner needs of base images: their config, by reference and platform."""

    def config(self, reference: str, platform: Platform) -> ImageConfig:
        """The config of image ``reference`` for ``platform`` (errors: a KanikoError)."""
        ...


class PlanArguments(TypedDict):
    """What a build's options say to the planner (:func:`make_plan` and
    :func:`~kaniko.plan.bases.base_references` take them as keywords)."""

    build_args: Mapping[str, str | None]
    target: str | None
    skip_unused_stages: bool
    platform: Platform | None
    environ: Mapping[str, str] | None


def make_plan(
    dockerfile: Dockerfile,
    *,
    build_args: Mapping[str, str | None],
    target: str | None = None,
    skip_unused_stages: bool = False,
    platform: Platform | None = None,
    build_platform: Platform | None = None,
    environ: Mapping[str, str] | None = None,
    bases: BaseImages | None = None,
) -> BuildPlan:
    """Plan the build of ``dockerfile`` (see the module docstring).

    ``build_args`` maps ``--build-arg`` names to values (``None`` for a bare name, read
    from ``environ``, which defaults to ``os.environ``). ``platform`` is the target
    platform and ``build_platform`` this machine's (both default to the host's).
    """
    planner, target_index = start_planning(
        dockerfile,
        build_args=build_args,
        target=target,
        platform=platform,
        build_platform=build_platform,
        environ=environ,
        bases=bases,
    )
    if skip_unused_stages:
        planner.plan_reachable(target_index)
    else:
        for index in range(target_index + 1):
            planner.plan(index)
    stages = tuple(planner.done[i].stage for i in sorted(planner.done))
    return BuildPlan(
        stages=stages,
        target_index=target_index,
        meta_args=tuple(planner.global_args.items()),
        warnings=(*dockerfile.warnings, *planner.table.warnings, *planner.unused_warning()),
    )


def start_planning(
    dockerfile: Dockerfile,
    *,
    build_args: Mapping[str, str | None],
    target: str | None,
    platform: Platform | None,
    build_platform: Platform | None,
    environ: Mapping[str, str] | None,
    bases: BaseImages | None,
) -> tuple[_Planner, int]:
    """A planner with the global ARGs resolved, and the target's index (arguments as for
    :func:`make_plan`); nothing is planned yet."""
    meta, stage_defs = split_stages(dockerfile)
    table = StageTable(stage_defs, dockerfile.path)
    target_index = table.target_index(target)
    args = resolve_build_args(build_args, os.environ if environ is None else environ)
    build_p = build_platform or Platform.host()
    planner = _Planner(
        dockerfile=dockerfile,
        table=table,
        build_args=args,
        target_platform=platform or build_p,
        bases=bases,
    )
    planner.resolve_globals(meta, build_p, target or table.name_of(target_index))
    return planner, target_index


@dataclass
class _Planned:
    stage: Stage
    scope: StageScope  # at the end of the stage, for stages based on it
    onbuild: tuple[str, ...]  # the ONBUILD expressions written in the stage


class _Planner:
    def __init__(
        self,
        *,
        dockerfile: Dockerfile,
        table: StageTable,
        build_args: dict[str, str],
        target_platform: Platform,
        bases: BaseImages | None,
    ) -> None:
        self.path = dockerfile.path
        self.table = table
        self.build_args = build_args
        self.target_platform = target_platform
        self.bases = bases
        self.ex = Expander(dockerfile.escape, self.path)
        self.proxy_pairs = tuple((k, v) for k, v in build_args.items() if k in PROXY_ARGS)
        self.global_args: dict[str, str] = {}
        self.consumed: set[str] = set()
        self.done: dict[int, _Planned] = {}

    def _error(self, message: str, line: int) -> DockerfileError:
        return DockerfileError(message, path=self.path, line=line)

    def resolve_globals(self, meta: Sequence[Arg], build_p: Platform, stage: str) -> None:
        """The automatic platform args, then the meta ARGs before the first FROM."""
        found = platform_args(self.target_platform, build_p, stage, self.build_args)
        for inst in meta:
            for pair in inst.pairs:
                self.consumed.add(pair.key)
                if pair.key in self.build_args:
                    found[pair.key] = self.build_args[pair.key]
                elif pair.value is not None:
                    found[pair.key] = self.ex.word(pair.value, found, inst.line)
        self.global_args = found

    def unused_warning(self) -> tuple[str, ...]:
        builtin = PROXY_ARGS | PLATFORM_ARGS
        unused = sorted(k for k in self.build_args if k not in self.consumed | builtin)
        if not unused:
            return ()
        return (f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed",)

    def plan_reachable(self, index: int) -> None:
        pending, seen = [index], set()
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(self.plan(current).stage.depends_on)

    def plan(self, index: int) -> _Planned:
        if index not in self.done:
            self.done[index] = self._plan_stage(index, self.table.stages[index])
        return self.done[index]

    def from_of(self, index: int) -> tuple[From, Platform | None, int | None]:
        """Stage ``index``'s ``FROM`` with its base and platform expanded, the platform
        it names (if any), and the index of the stage it is built on (if it is one)."""
        f, chosen = self._from(self.table.stages[index])
        return f, chosen, self.table.base_of(f.base, index, f.line)

    def _from(self, stage: StageDef) -> tuple[From, Platform | None]:
        f = stage.from_
        base = self.ex.word(f.base, self.global_args, f.line)
        if not base:
            raise self._error(f"base name ({f.base}) should not be blank", f.line)
        if not f.platform:
            return replace(f, base=base), None
        text = self.ex.word(f.platform, self.global_args, f.line)
        if not text:
            raise self._error(f"empty platform value from expression {f.platform}", f.line)
        try:
            chosen = Platform.parse(text)
        except UsageError as exc:
            raise self._error(f"failed to parse platform {f.platform}: {exc}", f.line) from None
        return replace(f, base=base, platform=text), chosen

    def _plan_stage(self, index: int, stage: StageDef) -> _Planned:
        f, chosen = self._from(stage)
        base: int | str
        base_index = self.table.base_of(f.base, index, f.line)
        if base_index is not None:
            parent = self.plan(base_index)
            base, scope = base_index, parent.scope.copy()
            platform = chosen or parent.stage.platform
            triggers, origin = parent.onbuild, parent.stage.name or str(base_index)
        else:
            platform = chosen or self.target_platform
            base, scope, triggers, origin = self._image_base(f), StageScope(), (), f.base
            if base != "scratch" and self.bases is not None:
                try:
                    config = self.bases.config(f.base, platform).config
                except KanikoError as e:
                    raise with_context(e, f"{self.path}:{f.line}: FROM {f.base}") from None
                scope.env = ConfigEnv(config.env)
                triggers = config.on_build
        scope.env.add_default_path(platform.os)
        start_env = tuple(scope.env.items())
        stage_state = _StageState(index, scope)
        for text in triggers:
            self._step(stage_state, self._trigger(text, origin, f.line), origin)
        for command in stage.commands:
            self._step(stage_state, command, None)
        deps = {base} if isinstance(base, int) else set()
        deps.update(r for r in stage_state.refs if isinstance(r, int))
        images = tuple(dict.fromkeys(r for r in stage_state.refs if isinstance(r, str)))
        planned = Stage(
            index=index,
            name=f.name,
            base=base,
            platform=platform,
            steps=tuple(stage_state.steps),
            depends_on=tuple(sorted(deps)),
            line=f.line,
            from_=f,
            base_env=start_env,
            config_env=scope.env.entries(),
            images=images,
        )
        return _Planned(planned, scope, tuple(stage_state.onbuild))

    def _image_base(self, f: From) -> str:
        if f.base.lower() == "scratch":
            return "scratch"
        check_image(f.base, self.path, f.line, "FROM")
        return f.base

    def _trigger(self, text: str, origin: str, line: int) -> Command:
        """Parse one ONBUILD trigger of the base; it runs where the stage's FROM is."""
        where = f"ONBUILD trigger {text!r} of {origin}"
        try:
            nodes = parse(text, path=self.path).nodes
            inst = parse_instruction(nodes[0], path=self.path) if len(nodes) == 1 else None
        except DockerfileError as exc:
            raise self._error(f"{where}: {exc.message}", line) from None
        if inst is None:
            raise self._error(f"{where}: should be a single expression", line)
        if isinstance(inst, From | Onbuild | Maintainer):
            raise self._error(f"{where}: {inst.keyword} isn't allowed as an ONBUILD trigger", line)
        return replace(inst, line=line, end_line=line)

    def _step(self, st: _StageState, inst: Command, origin: str | None) -> None:
        scope = st.scope
        view, lookup = scope.snapshot(), scope.lookup()
        copy_from: StageRef | None = None
        mount_from: tuple[StageRef | None, ...] = ()
        if isinstance(inst, Arg):
            names = [self._arg_name(p.key, lookup, inst.line) for p in inst.pairs]
            pairs = tuple(
                self._declare(scope, ArgDef(name, p.value), inst.line)
                for name, p in zip(names, inst.pairs, strict=True)
            )
            expanded: Command = replace(inst, pairs=pairs)
        else:
            expanded = self.ex.instruction(inst, lookup)
        if isinstance(expanded, Env):
            for kv in expanded.pairs:
                scope.set_env(kv.key, kv.value)
        elif isinstance(expanded, Onbuild):
            st.onbuild.append(expanded.expression)
        elif isinstance(expanded, Copy) and expanded.from_:
            copy_from = self._source(expanded.from_, st.index, inst.line, "COPY --from")
            st.refs.append(copy_from)
        elif isinstance(expanded, Run):
            mount_from = tuple(
                self._source(m.from_, st.index, inst.line, "RUN --mount from")
                if m.from_ and m.type not in ("secret", "ssh")
                else None
                for m in expanded.mounts
            )
            st.refs.extend(r for r in mount_from if r is not None)
        st.steps.append(
            Step(
                instruction=expanded,
                line=inst.line,
                end_line=inst.end_line,
                scope=view,
                touches_fs=isinstance(inst, Run | Copy | Add | Workdir),
                proxies=self.proxy_pairs if isinstance(inst, Run) else None,
                copy_from=copy_from,
                mount_from=mount_from,
                onbuild_of=origin,
            )
        )

    def _arg_name(self, key: str, lookup: Mapping[str, str], line: int) -> str:
        """An in-stage ARG's name, expanded with what was in scope before the instruction
        (as ENV keys are, and as BuildKit up to dockerfile 1.7, the classic builder and the
        Go kaniko do; meta ARG names before the first FROM never expand)."""
        name = self.ex.word(key, lookup, line)
        if not name:
            raise self._error(f"ARG names can not be blank (from {key!r})", line)
        return name

    def _declare(self, scope: StageScope, pair: ArgDef, line: int) -> ArgDef:
        self.consumed.add(pair.key)
        value = scope.declare(
            pair,
            self.build_args,
            self.global_args,
            lambda text: self.ex.word(text, scope.lookup(), line),
        )
        return ArgDef(pair.key, value)

    def _source(self, ref: str, index: int, line: int, what: str) -> StageRef:
        if self.ex.word(ref, {}, line) != ref:
            raise self._error(
                f"{what}: variable expansion is not supported for --from, define a new stage "
                "with FROM using ARG from global scope as a workaround",
                line,
            )
        return self.table.source(ref, index, line, what)


@dataclass
class _StageState:
    """A stage while its steps are planned."""

    index: int
    scope: StageScope
    steps: list[Step] = field(default_factory=list)
    refs: list[StageRef] = field(default_factory=list)  # --from targets, in order
    onbuild: list[str] = field(default_factory=list)  # ONBUILD expressions written here
