from __future__ import annotations

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError, RegistryError, with_context
from kaniko.plan import make_plan
from tests.plan.helpers import Bases


def test_base_lookup_failures_name_the_from_line() -> None:
    def refuse(ref: str, platform: object) -> list[str]:
        raise RegistryError(f"registry r.io: {ref}: DENIED: no")

    dockerfile = parse("ARG V=1\nFROM scratch AS a\nFROM r.io/app:$V\nRUN true\n", path="Df")
    with pytest.raises(RegistryError) as info:
        make_plan(dockerfile, build_args={}, bases=Bases(env=refuse))
    assert str(info.value) == "Df:3: FROM r.io/app:1: registry r.io: r.io/app:1: DENIED: no"


def test_with_context_keeps_type_and_leaves_dockerfile_errors() -> None:
    error = with_context(RegistryError("boom"), "Dockerfile:4: COPY --from=x")
    assert isinstance(error, RegistryError) and str(error) == "Dockerfile:4: COPY --from=x: boom"
    own = DockerfileError("bad", line=2)
    assert with_context(own, "ignored") is own and str(own) == "Dockerfile:2: bad"
