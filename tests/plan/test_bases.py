"""The base images a Dockerfile names, found before planning: exactly what the planner
then asks the resolver for."""

from __future__ import annotations

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.oci.platform import Platform
from kaniko.plan import make_plan
from kaniko.plan.bases import base_references
from tests.plan.helpers import Bases

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")

DOCKERFILES = {
    "one": "FROM alpine\nRUN true\n",
    "meta-args": "ARG V=3.19\nARG REG=r.example\nFROM ${REG}/alpine:${V}\n",
    "chain": "FROM alpine AS a\nFROM a AS b\nFROM b\nRUN true\n",
    "independent": (
        "FROM debian AS build\nRUN make\nFROM alpine AS tools\nRUN apk add x\n"
        "FROM scratch\nCOPY --from=build /a /a\nCOPY --from=tools /b /b\n"
    ),
    "platforms": (
        "FROM --platform=$BUILDPLATFORM golang AS build\nRUN go build\n"
        "FROM --platform=linux/arm64 alpine AS arm\n"
        "FROM build AS again\n"
        "FROM alpine\nCOPY --from=build /out /out\n"
    ),
    "same-twice": "FROM alpine AS a\nFROM alpine AS b\nFROM scratch\n",
    "onbuild-copy-from-image": "FROM alpine\nCOPY --from=busybox /bin/sh /sh\n",
}


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_the_planner_asks_for_exactly_these(name: str) -> None:
    dockerfile = parse(DOCKERFILES[name])
    found = base_references(
        dockerfile, build_args={}, platform=ARM64, build_platform=AMD64, environ={}
    )
    bases = Bases()
    make_plan(
        dockerfile, build_args={}, platform=ARM64, build_platform=AMD64, environ={}, bases=bases
    )
    assert list(found) == list(dict.fromkeys(bases.calls))


def test_platforms_follow_from_platform_and_the_base_stage() -> None:
    found = base_references(
        parse(DOCKERFILES["platforms"]),
        build_args={},
        platform=ARM64,
        build_platform=AMD64,
        environ={},
    )
    assert found == (("golang", AMD64), ("alpine", ARM64))


def test_build_args_and_target() -> None:
    text = "ARG V=1\nFROM img:${V} AS a\nFROM other AS b\nFROM last\n"
    found = base_references(parse(text), build_args={"V": "2"}, target="b", environ={})
    host = Platform.host()
    assert found == (("img:2", host), ("other", host))


def test_skip_unused_stages_keeps_the_target_chain_only() -> None:
    text = "FROM unused AS u\nFROM base AS a\nFROM a AS b\nRUN true\n"
    found = base_references(parse(text), build_args={}, skip_unused_stages=True, environ={})
    assert found == (("base", Platform.host()),)


def test_a_dockerfile_the_planner_refuses_gives_what_was_found_before() -> None:
    host = Platform.host()
    dup = parse("FROM alpine AS a\nFROM b AS a\n")  # duplicate stage name
    assert base_references(dup, build_args={}, environ={}) == ()
    unknown = parse("FROM alpine\n")
    assert base_references(unknown, build_args={}, target="nope", environ={}) == ()
    bad = parse("FROM alpine\nFROM ${MISSING:?nobase}\nFROM later\n")  # expansion error
    assert base_references(bad, build_args={}, environ={}) == (("alpine", host),)
