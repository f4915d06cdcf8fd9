"""ARG and ENV scoping, observed through what the planner expands (``LABEL o=…`` probes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from kaniko.dockerfile import commands as c
from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError
from kaniko.oci.platform import Platform
from kaniko.oci.runconfig import DEFAULT_PATH
from kaniko.plan import BuildPlan, make_plan
from tests.plan.helpers import Bases

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")


def plan(text: str, build_args: Mapping[str, str | None] | None = None, **kw: object) -> BuildPlan:
    kw.setdefault("environ", {})
    kw.setdefault("build_platform", AMD64)
    return make_plan(parse(text), build_args=build_args or {}, **kw)


def probes(
    text: str, build_args: Mapping[str, str | None] | None = None, **kw: object
) -> list[str]:
    """The value of every ``LABEL o=…`` in the plan, in order."""
    found = []
    for stage in plan(text, build_args, **kw).stages:
        for step in stage.steps:
            inst = step.instruction
            if isinstance(inst, c.Label):
                found += [kv.value for kv in inst.pairs if kv.key == "o"]
    return found


SCOPING = [
    # meta ARGs are only seen in a stage after ARG redeclares them
    ("meta-invisible", "ARG V=1\nFROM x\nLABEL o=$V", {}, {}, [""]),
    ("meta-redeclared", "ARG V=1\nFROM x\nARG V\nLABEL o=$V", {}, {}, ["1"]),
    ("meta-build-arg", "ARG V=1\nFROM x\nARG V\nLABEL o=$V", {"V": "2"}, {}, ["2"]),
    ("own-default-wins", "ARG V=1\nFROM x\nARG V=3\nLABEL o=$V", {}, {}, ["3"]),
    ("build-arg-beats-default", "FROM x\nARG V=3\nLABEL o=$V", {"V": "b"}, {}, ["b"]),
    ("meta-without-value", "ARG V\nFROM x\nARG V\nLABEL o=${V:-unset}", {}, {}, ["unset"]),
    ("meta-chain", "ARG A=a\nARG B=${A}b\nFROM x\nARG B\nLABEL o=$B", {}, {}, ["ab"]),
    ("meta-chain-build", "ARG A=a\nARG B=${A}b\nFROM x\nARG B\nLABEL o=$B", {"A": "z"}, {}, ["zb"]),
    # in-stage ARG defaults expand with what is in scope, pair by pair
    ("default-sees-env", "FROM x\nENV A=a\nARG B=$A-b\nLABEL o=$B", {}, {}, ["a-b"]),
    ("pairs-in-order", "FROM x\nARG A=1 B=$A\nLABEL o=$B", {}, {}, ["1"]),
    # ENV and ARG of one name: the later one wins
    ("env-after-arg", "FROM x\nARG V=arg\nENV V=env\nLABEL o=$V", {"V": "b"}, {}, ["env"]),
    ("arg-after-env", "FROM x\nENV V=env\nARG V=arg\nLABEL o=$V", {}, {}, ["arg"]),
    ("bare-arg-after-env", "FROM x\nENV V=env\nARG V\nLABEL o=$V", {}, {}, ["env"]),
    ("env-sees-old-values", "FROM x\nENV A=1\nENV A=2 B=$A\nLABEL o=$B", {}, {}, ["1"]),
    # ARGs belong to their stage; FROM <stage> inherits the whole scope
    ("per-stage", "FROM x\nARG V=1\nLABEL o=$V\nFROM y\nLABEL o=$V", {}, {}, ["1", ""]),
    ("inherit", "FROM x AS a\nARG V=1\nENV E=e\nFROM a\nLABEL o=$V-$E", {}, {}, ["1-e"]),
    ("undeclared-build-arg", "FROM x\nLABEL o=$Q", {"Q": "1"}, {}, [""]),
    # bare --build-arg K reads the environment, and is dropped when unset there
    ("bare-from-environ", "FROM x\nARG V=d\nLABEL o=$V", {"V": None}, {"V": "env"}, ["env"]),
    ("bare-unset", "FROM x\nARG V=d\nLABEL o=$V", {"V": None}, {}, ["d"]),
    ("empty-build-arg", "FROM x\nARG V=d\nLABEL o=$V", {"V": ""}, {}, [""]),
    # automatic platform args need ARG in a stage, like any global
    ("platform-needs-arg", "FROM x\nLABEL o=${TARGETARCH:-none}", {}, {}, ["none"]),
    ("targetarch", "FROM x\nARG TARGETARCH\nLABEL o=$TARGETARCH", {}, {}, ["amd64"]),
    (
        "build-arg-overrides-platform",
        "FROM x\nARG TARGETOS\nLABEL o=$TARGETOS",
        {"TARGETOS": "plan9"},
        {},
        ["plan9"],
    ),
    ("buildplatform", "FROM x\nARG BUILDPLATFORM\nLABEL o=$BUILDPLATFORM", {}, {}, ["linux/amd64"]),
    ("targetstage", "FROM x AS Final\nARG TARGETSTAGE\nLABEL o=$TARGETSTAGE", {}, {}, ["final"]),
    # an in-stage ARG's name expands (with the scope before the instruction), meta ones not
    ("name-from-env", "FROM x\nENV n=v\nARG ${n}=1\nLABEL o=$v", {}, {}, ["1"]),
    ("name-from-arg", "FROM x\nARG n=v\nARG ${n}x=2\nLABEL o=$vx", {}, {}, ["2"]),
    ("name-build-arg", "FROM x\nENV n=v\nARG $n=d\nLABEL o=$v", {"v": "b"}, {}, ["b"]),
    ("name-global", "ARG v=g\nFROM x\nENV n=v\nARG $n\nLABEL o=$v", {}, {}, ["g"]),
    ("name-not-literal", "FROM x\nENV n=v\nARG $n=1\nLABEL o=${n}", {"$n": "b"}, {}, ["v"]),
    ("name-before-instr", "FROM x\nARG n=a ${n:-u}v=1\nLABEL o=$uv", {}, {}, ["1"]),
    ("name-default-both", "FROM x\nENV n=v d=dv\nARG ${n}=$d\nLABEL o=$v", {}, {}, ["dv"]),
    ("meta-name-literal", "ARG n=v\nARG ${n}=1\nFROM x\nARG v\nLABEL o=${v:-u}", {}, {}, ["u"]),
    # quotes and the escape character
    ("quotes", 'FROM x\nENV A=1\nLABEL o="$A b" p=c', {}, {}, ["1 b"]),
    ("single-quotes", "FROM x\nENV A=1\nLABEL o='$A'", {}, {}, ["$A"]),
    ("escape-backtick", "# escape=`\nFROM x\nENV A=1\nLABEL o=`$A-$A", {}, {}, ["$A-1"]),
    ("scratch-path", "FROM scratch\nLABEL o=$PATH", {}, {}, [DEFAULT_PATH]),
]


@pytest.mark.parametrize(
    ("text", "build_args", "environ", "expected"),
    [case[1:] for case in SCOPING],
    ids=[case[0] for case in SCOPING],
)
def test_scoping(
    text: str, build_args: dict[str, str | None], environ: dict[str, str], expected: list[str]
) -> None:
    assert probes(text, build_args, environ=environ) == expected


def test_target_platform_args_follow_platform() -> None:
    text = (
        "FROM x\nARG TARGETPLATFORM TARGETVARIANT BUILDARCH\n"
        "LABEL o=$TARGETPLATFORM|$TARGETVARIANT|$BUILDARCH"
    )
    got = probes(text, platform=Platform("linux", "arm", "v7"), build_platform=ARM64)
    assert got == ["linux/arm/v7|v7|arm64"]


def test_meta_args_reach_from_lines() -> None:
    text = "ARG IMG=busybox\nARG TAG=1\nFROM ${IMG}:${TAG}\nFROM ${NOPE:-alpine}-${TARGETARCH}\n"
    first, second = plan(text, {"TAG": "2", "NOPE": "x"}).stages
    assert first.base == "busybox:2"
    assert second.base == "alpine-amd64"  # a build arg never declared as meta ARG is unseen


def test_meta_args_of_plan() -> None:
    got = dict(plan("ARG A=1\nARG B\nFROM x\n", {"B": "2"}, platform=ARM64).meta_args)
    assert (got["A"], got["B"], got["TARGETARCH"], got["BUILDARCH"]) == ("1", "2", "arm64", "amd64")


def test_base_image_env_is_seen_and_arg_overrides_it() -> None:
    calls: list[tuple[str, Platform]] = []

    def base_env(ref: str, platform: Platform) -> Sequence[str]:
        calls.append((ref, platform))
        return ["PATH=/opt/bin", "V=img"]

    text = "FROM img:1\nLABEL o=$V:$PATH\nARG V=arg\nLABEL o=$V\nFROM scratch\n"
    got = probes(text, bases=Bases(env=base_env))
    assert got == ["img:/opt/bin", "arg"]
    assert calls == [("img:1", AMD64)]


def test_step_env_and_args_are_kept_apart() -> None:
    stage = plan("FROM x\nARG V=1\nENV E=2\nRUN echo $V $E\n", {"HTTP_PROXY": "p"}).stages[0]
    run = stage.steps[-1]
    assert dict(run.env) == {"PATH": DEFAULT_PATH, "E": "2"}
    assert dict(run.args) == {"V": "1"}
    assert dict(run.run_env) == {"PATH": DEFAULT_PATH, "E": "2", "V": "1", "HTTP_PROXY": "p"}
    assert isinstance(run.instruction, c.Run)
    assert run.instruction.cmd == ("echo $V $E",)  # RUN text never expands
    assert stage.steps[0].run_env == ()


def test_arg_shadowed_by_env_shows_env_value() -> None:
    step = plan("FROM x\nARG V=a\nENV V=e\nRUN true\n").stages[0].steps[-1]
    assert dict(step.args) == {"V": "e"}
    assert dict(step.env)["V"] == "e"


def test_proxy_args_reach_run_only() -> None:
    text = "FROM x\nLABEL o=${https_proxy:-none}\nRUN true\n"
    built = plan(text, {"https_proxy": "http://p:3128", "NO_PROXY": "local"})
    label, run = built.stages[0].steps
    assert isinstance(label.instruction, c.Label)
    assert label.instruction.pairs[0].value == "none"
    assert dict(run.run_env)["https_proxy"] == "http://p:3128"
    assert dict(run.run_env)["NO_PROXY"] == "local"
    assert built.warnings == ()


def test_resolved_arg_step_records_values() -> None:
    step = plan("FROM x\nARG A=1 B C=$A\n", {"B": "b"}).stages[0].steps[0]
    assert isinstance(step.instruction, c.Arg)
    assert step.instruction.pairs == (c.ArgDef("A", "1"), c.ArgDef("B", "b"), c.ArgDef("C", "1"))


def test_expanded_arg_name_is_recorded_and_consumed() -> None:
    built = plan("FROM x\nENV n=v\nARG ${n}=1 ${n}2\n", {"v2": "b"})
    step = built.stages[0].steps[-1]
    assert isinstance(step.instruction, c.Arg)
    assert step.instruction.pairs == (c.ArgDef("v", "1"), c.ArgDef("v2", "b"))
    assert built.warnings == ()


def test_arg_name_expanding_to_nothing_is_an_error() -> None:
    with pytest.raises(DockerfileError, match=r"^Dockerfile:2: ARG names can not be blank"):
        plan("FROM x\nARG ${NOPE}=1\n")


@pytest.mark.parametrize(
    ("text", "build_args", "warning"),
    [
        ("FROM x\n", {"FOO": "1"}, "[Warning] One or more build-args [FOO] were not consumed"),
        ("FROM x\nARG B\n", {"C": "", "A": "1", "B": "2"}, "build-args [A C] were not consumed"),
        ("FROM x AS a\nARG A\nFROM y\n", {"A": "1"}, None),
        ("ARG A\nFROM x\n", {"A": "1"}, None),
        ("FROM x\n", {"HTTP_PROXY": "p", "TARGETARCH": "arm64"}, None),
        ("FROM x\n", {"GONE": None}, None),
    ],
)
def test_unconsumed_build_args_warning(
    text: str, build_args: dict[str, str | None], warning: str | None
) -> None:
    warnings = plan(text, build_args).warnings
    if warning is None:
        assert warnings == ()
    else:
        assert len(warnings) == 1
        assert warning in warnings[0]


def test_arg_of_a_skipped_stage_is_not_consumed() -> None:
    text = "FROM x AS unused\nARG ONLY_HERE\nFROM y AS final\n"
    built = plan(text, {"ONLY_HERE": "1"}, skip_unused_stages=True)
    assert [s.index for s in built.stages] == [1]
    assert built.warnings == ("[Warning] One or more build-args [ONLY_HERE] were not consumed",)
