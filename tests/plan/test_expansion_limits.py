"""Hostile variable expansion: deep nesting and doubling fail on their line, quickly.

``${A:-${A:-…}}`` recursed once per level (RecursionError past ~200 levels), and
``A1=${A0}${A0}``, ``A2=${A1}${A1}`` … doubled a value per line until MemoryError at 4 GB.
"""

from __future__ import annotations

import pytest

from kaniko.dockerfile import shell_expand
from kaniko.dockerfile.parser import parse
from kaniko.errors import DockerfileError
from kaniko.plan import expand, make_plan


def _plan(text: str, build_args: dict[str, str | None] | None = None) -> None:
    make_plan(parse(text, path="Dockerfile"), build_args=build_args or {}, environ={})


def test_deeply_nested_defaults_fail_on_their_line() -> None:
    word = "${A:-" * 5000 + "x" + "}" * 5000
    with pytest.raises(DockerfileError) as info:
        _plan(f"FROM scratch\nARG B=1\nARG A={word}\n")
    message = str(info.value)
    assert message.startswith("Dockerfile:3: failed to process ")
    assert message.endswith(
        f"expansion nested too deeply: more than {shell_expand.MAX_NESTING} levels"
    )
    assert len(message) < 300  # the word is not repeated whole


def test_nesting_within_the_limit_works() -> None:
    depth = shell_expand.MAX_NESTING
    word = "${A:-" * depth + "deep" + "}" * depth
    dockerfile = f"FROM scratch\nARG B={word}\nLABEL o=$B\n"
    plan = make_plan(parse(dockerfile), build_args={}, environ={})
    assert plan.target.steps[-1].instruction.pairs[0].value == "deep"  # type: ignore[attr-defined]


def test_doubling_args_fail_on_the_line_that_passes_the_limit() -> None:
    lines = ["FROM scratch", "ARG A0=12345678"]  # 8 bytes, doubled per line
    lines += [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 40)]
    with pytest.raises(DockerfileError) as info:
        _plan("\n".join(lines) + "\n")
    # A17 takes in 2 x 512 KiB = 1 MiB (allowed); A18 2 MiB: line 2 + 18
    assert str(info.value).startswith("Dockerfile:20: failed to process ")
    assert "expansion too large: variables add more than 1048576 bytes to one word" in str(
        info.value
    )


def test_doubling_meta_args_before_from_fail_too() -> None:
    lines = ["ARG A0=12345678"] + [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 40)]
    with pytest.raises(DockerfileError, match=r"^Dockerfile:19: .*expansion too large"):
        _plan("\n".join(lines) + "\nFROM scratch\n")


def test_many_copies_of_a_big_value_exhaust_the_dockerfile_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(expand, "MAX_GROWTH", 1 << 20)
    lines = ["FROM scratch", "ARG BIG"] + [f"ENV E{i}=$BIG" for i in range(100)]
    with pytest.raises(DockerfileError) as info:
        _plan("\n".join(lines) + "\n", {"BIG": "x" * 100_000})
    # ten copies of 100 000 bytes fit in 1 MiB, the eleventh does not: line 2 + 11
    assert str(info.value) == (
        "Dockerfile:13: variable expansion too large: more than 1 MiB added to the "
        "Dockerfile's words"
    )
