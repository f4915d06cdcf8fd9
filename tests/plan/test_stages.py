"""Stage planning: bases, targets, dependencies, skipped stages, ONBUILD triggers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from kaniko.dockerfile import commands as c
from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError
from kaniko.oci.platform import Platform
from kaniko.plan import BuildPlan, make_plan
from kaniko.plan.model import Edge
from tests.plan.helpers import Bases

AMD64 = Platform("linux", "amd64")

MULTI = """\
FROM alpine:3 AS base
RUN build
FROM base AS tools
RUN more
FROM busybox AS docs
RUN doc
FROM scratch AS final
COPY --from=tools /bin/tool /tool
FROM debian AS after
"""


def plan(text: str, build_args: Mapping[str, str | None] | None = None, **kw: object) -> BuildPlan:
    kw.setdefault("environ", {})
    kw.setdefault("build_platform", AMD64)
    return make_plan(parse(text), build_args=build_args or {}, **kw)


def indices(built: BuildPlan) -> list[int]:
    return [s.index for s in built.stages]


def test_single_stage() -> None:
    built = plan("FROM busybox:1.36\nRUN true\n")
    (stage,) = built.stages
    assert (stage.index, stage.name, stage.base, stage.line) == (0, "", "busybox:1.36", 1)
    assert (built.target_index, built.target) == (0, stage)
    assert (stage.depends_on, stage.images, stage.platform) == ((), (), AMD64)


def test_default_builds_every_stage_up_to_the_last() -> None:
    built = plan(MULTI)
    assert indices(built) == [0, 1, 2, 3, 4]
    assert built.target_index == 4


@pytest.mark.parametrize(("target", "expected"), [("final", [0, 1, 2, 3]), ("TOOLS", [0, 1])])
def test_target_cuts_later_stages(target: str, expected: list[int]) -> None:
    built = plan(MULTI, target=target)
    assert indices(built) == expected
    assert built.target.name == target.lower()


@pytest.mark.parametrize(
    ("target", "expected"), [("final", [0, 1, 3]), ("docs", [2]), ("after", [4])]
)
def test_skip_unused_stages_keeps_what_the_target_reaches(target: str, expected: list[int]) -> None:
    assert indices(plan(MULTI, target=target, skip_unused_stages=True)) == expected


def test_unknown_target_is_named() -> None:
    with pytest.raises(DockerfileError, match=r'^Dockerfile: target stage "nope" could not be'):
        plan(MULTI, target="nope")


def test_dependencies_through_from_copy_and_mounts() -> None:
    text = (
        "FROM a AS one\nFROM b AS two\nFROM c AS three\n"
        "FROM one AS four\n"
        "COPY --from=1 /x /x\n"
        "RUN --mount=type=bind,from=three,target=/t --mount=type=cache,target=/c make\n"
        "COPY --from=ghcr.io/org/img:2 /y /y\n"
    )
    four = plan(text).stage(3)
    assert four.base == 0
    assert four.depends_on == (0, 1, 2)
    assert four.images == ("ghcr.io/org/img:2",)
    copy1, run, copy2 = four.steps
    assert (copy1.copy_from, run.mount_from, copy2.copy_from) == (1, (2, None), "ghcr.io/org/img:2")
    assert indices(plan(text, skip_unused_stages=True)) == [0, 1, 2, 3]


def test_the_stage_graph_names_each_need() -> None:
    text = (
        "FROM a AS one\nFROM b AS two\nCOPY --from=one /x /x\n"
        "FROM one AS three\nRUN --mount=from=two,target=/t make\nCOPY --from=one /y /y\n"
    )
    built = plan(text)
    assert built.edges() == (
        Edge(1, 0, "copy"),
        Edge(2, 0, "from"),
        Edge(2, 1, "mount"),
        Edge(2, 0, "copy"),
    )
    users = built.users()
    assert users[0] == (Edge(1, 0, "copy"), Edge(2, 0, "from"), Edge(2, 0, "copy"))
    assert users[1] == (Edge(2, 1, "mount"),) and 2 not in users
    assert {e.used for e in built.edges() if e.user == 2} == set(built.stage(2).depends_on)


def test_skip_unused_follows_dependencies_transitively() -> None:
    text = "FROM a AS one\nFROM b AS two\nCOPY --from=one / /\nFROM c AS three\nFROM two\n"
    assert indices(plan(text, skip_unused_stages=True)) == [0, 1, 3]


def test_stage_names_are_case_insensitive() -> None:
    built = plan("FROM a AS Build\nFROM BUILD\nCOPY --from=bUiLd / /\n")
    assert built.stage(1).base == 0
    assert built.stage(1).steps[0].copy_from == 0


def test_from_naming_itself_is_an_image_with_a_warning() -> None:
    built = plan("FROM nginx AS nginx\nRUN true\n")
    assert built.stage(0).base == "nginx"
    assert built.warnings == (
        "Dockerfile:1: FROM nginx: 'nginx' is the name of this stage; "
        "it is used as an image reference",
    )


def test_from_naming_a_later_stage_is_an_image_with_a_warning() -> None:
    built = plan("FROM later\nFROM alpine AS later\n")
    assert built.stage(0).base == "later"
    assert "'later' is the name of a later stage (line 2)" in built.warnings[0]


def test_copy_from_scratch_is_an_image() -> None:
    step = plan("FROM a\nCOPY --from=scratch / /\n").stages[0].steps[0]
    assert step.copy_from == "scratch"


def test_platform_is_explicit_inherited_or_target() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM golang AS build\n"
        "FROM build AS child\n"
        "FROM --platform=linux/arm/v7 alpine\n"
        "FROM alpine\n"
    )
    built = plan(text, platform=Platform("linux", "arm64"))
    platforms = [str(s.platform) for s in built.stages]
    assert platforms == ["linux/amd64", "linux/amd64", "linux/arm/v7", "linux/arm64"]
    assert built.stage(0).from_.platform == "linux/amd64"


def test_onbuild_of_a_base_stage_runs_in_children_only() -> None:
    text = (
        "FROM a AS parent\nENV P=1\nONBUILD RUN echo $P\nONBUILD COPY . /src\n"
        "FROM parent AS child\nRUN mine\n"
        "FROM child AS grandchild\n"
    )
    built = plan(text)
    child = built.stage(1)
    assert [s.keyword for s in child.steps] == ["RUN", "COPY", "RUN"]
    assert [s.onbuild_of for s in child.steps] == ["parent", "parent", None]
    assert [(s.line, s.end_line) for s in child.steps[:2]] == [(5, 5), (5, 5)]
    assert built.stage(2).steps == ()


def test_base_image_onbuild_triggers_are_planned_first() -> None:
    seen: list[str] = []

    def onbuild(ref: str, platform: Platform) -> Sequence[str]:
        seen.append(f"{ref}@{platform}")
        return ["COPY --from=assets /a /a", "WORKDIR $HOME/app"] if ref == "app-base" else []

    def env(ref: str, platform: Platform) -> Sequence[str]:
        return ["HOME=/home/app"]

    text = "FROM x AS assets\nFROM y AS unused\nFROM app-base\nRUN go\nFROM scratch AS s\n"
    built = plan(text, target="", skip_unused_stages=True, bases=Bases(env, onbuild), environ={})
    assert indices(built) == [3]
    built = plan(
        text.replace("FROM scratch AS s\n", ""),
        skip_unused_stages=True,
        bases=Bases(env, onbuild),
    )
    assert indices(built) == [0, 2]
    steps = built.stage(2).steps
    assert [s.onbuild_of for s in steps] == ["app-base", "app-base", None]
    assert steps[0].copy_from == 0
    workdir = steps[1].instruction
    assert isinstance(workdir, c.Workdir)
    assert workdir.path == "/home/app/app"
    assert built.stage(2).depends_on == (0,)
    assert "y@linux/amd64" not in seen and "app-base@linux/amd64" in seen


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ("FROM other", "FROM isn't allowed as an ONBUILD trigger"),
        ("ONBUILD RUN x", "ONBUILD isn't allowed as an ONBUILD trigger"),
        ("RUN a\nRUN b", "should be a single expression"),
        ("COPY only", "COPY requires at least two arguments"),
    ],
)
def test_bad_base_image_trigger(trigger: str, message: str) -> None:
    bases = Bases(onbuild=lambda ref, p: [trigger] if ref == "img" else [])
    with pytest.raises(DockerfileError) as info:
        plan("FROM x\nFROM img\n", bases=bases)
    assert str(info.value).startswith("Dockerfile:2: ONBUILD trigger ")
    assert message in str(info.value)
    assert str(info.value).count("ONBUILD trigger '") == 1


def test_base_callbacks_not_called_for_scratch_or_stages() -> None:
    calls: list[str] = []

    def base_env(ref: str, platform: Platform) -> Sequence[str]:
        calls.append(ref)
        return []

    bases = Bases(env=base_env, onbuild=base_env)
    plan("FROM scratch AS a\nFROM a\nFROM img\n", bases=bases)
    assert calls == ["img", "img"]  # the config's Env and OnBuild, of the one image
    assert bases.calls == [("img", AMD64)]  # asked once


def test_stage_base_env_is_what_the_stage_starts_with() -> None:
    built = plan("FROM x AS a\nENV A=1\nFROM a\n", bases=Bases(lambda r, p: ["PATH=/p", "Z=z"]))
    assert built.stage(0).base_env == (("PATH", "/p"), ("Z", "z"))
    assert built.stage(1).base_env == (("PATH", "/p"), ("Z", "z"), ("A", "1"))


def test_touches_fs() -> None:
    text = "FROM x\nRUN a\nCOPY a b\nADD a b\nWORKDIR /w\nENV A=1\nUSER u\nLABEL l=1\nCMD x\n"
    assert [s.touches_fs for s in plan(text).stages[0].steps] == [True] * 4 + [False] * 4


def test_reserved_stage_name_warns() -> None:
    built = plan("FROM busybox AS context\n")
    assert built.warnings == (
        "Dockerfile:1: stage name 'context' is reserved and may be confused with the "
        "'context' source",
    )
