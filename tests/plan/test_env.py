"""One ENV evaluator: the image config's ``Env`` as the planner builds it.

The planner keeps a stage's environment as the config's ``Env`` (:class:`ConfigEnv`);
expansion and RUN see it overlaid by the ARGs, and ``Stage.config_env`` is what the
executor writes. These tests pin its rules: Docker's replace-in-place ENV, BuildKit's
default ``PATH`` (appended, never on Windows), base entries kept as written.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.dockerfile import commands as c
from kaniko.dockerfile.parser import parse
from kaniko.oci.env import DEFAULT_PATH, ConfigEnv
from kaniko.oci.platform import Platform
from kaniko.plan import make_plan
from kaniko.plan.model import Stage
from tests.plan.helpers import Bases

LINUX = Platform("linux", "amd64")
WINDOWS = Platform("windows", "amd64")


def _stage(text: str, env: list[str], platform: Platform = LINUX) -> Stage:
    bases = Bases(env=lambda ref, p: env)
    return make_plan(parse(text), build_args={}, platform=platform, bases=bases).target


def test_env_replaces_in_place_and_appends() -> None:
    stage = _stage("FROM img\nENV A=2 B=3\nENV PATH=/x\n", ["PATH=/bin", "A=1"])
    assert stage.config_env == ("PATH=/x", "A=2", "B=3")


def test_default_path_only_when_missing() -> None:
    env = ConfigEnv()
    env.add_default_path("linux")
    assert env.entries() == (f"PATH={DEFAULT_PATH}",)
    mine = ConfigEnv(["PATH=/mine"])
    mine.add_default_path("linux")
    assert mine.entries() == ("PATH=/mine",)


def test_default_path_is_appended_as_buildkit_does() -> None:
    stage = _stage("FROM img\nENV B=2\nRUN true\n", ["A=1"])
    assert stage.base_env == (("A", "1"), ("PATH", DEFAULT_PATH))
    assert stage.config_env == ("A=1", f"PATH={DEFAULT_PATH}", "B=2")
    assert dict(stage.steps[-1].run_env) == {"A": "1", "PATH": DEFAULT_PATH, "B": "2"}
    scratch = _stage("FROM scratch\nENV B=2\n", [])
    assert scratch.config_env == (f"PATH={DEFAULT_PATH}", "B=2")


def test_a_windows_stage_gets_no_default_path() -> None:
    """BuildKit leaves PATH to Windows (moby/buildkit#5445): neither the RUN environment
    nor the image config gets one, from an image or from scratch."""
    stage = _stage("FROM img\nENV B=2\nRUN cmd /c echo\n", ["A=1"], WINDOWS)
    assert stage.platform == WINDOWS
    assert stage.config_env == ("A=1", "B=2")
    assert dict(stage.steps[-1].run_env) == {"A": "1", "B": "2"}
    assert _stage("FROM scratch\nENV B=2\n", [], WINDOWS).config_env == ("B=2",)
    linux = _stage("FROM --platform=linux/amd64 img\nENV B=2\n", ["A=1"], WINDOWS)
    assert linux.config_env == ("A=1", f"PATH={DEFAULT_PATH}", "B=2")


def test_base_entries_are_kept_as_written() -> None:
    """Entries no ENV changes keep their text (a duplicate, an entry without ``=``); an
    ENV of a duplicated name takes its first place and drops the others."""
    stage = _stage("FROM img\nENV C=3\n", ["PATH=/p", "A=1", "NOVALUE", "A=2"])
    assert stage.config_env == ("PATH=/p", "A=1", "NOVALUE", "A=2", "C=3")
    assert dict(stage.base_env) == {"PATH": "/p", "A": "2", "NOVALUE": ""}
    stage = _stage("FROM img\nENV A=3\n", ["PATH=/p", "A=1", "NOVALUE", "A=2"])
    assert stage.config_env == ("PATH=/p", "A=3", "NOVALUE")


def test_expansion_and_run_see_the_config_env_overlaid_by_args() -> None:
    text = "FROM img\nARG A=arg\nENV B=$A\nRUN x\nENV A=env\nRUN y\nLABEL l=$A\n"
    stage = _stage(text, ["A=base"])
    first, second = stage.steps[2], stage.steps[4]
    assert dict(first.run_env) == {"A": "arg", "PATH": DEFAULT_PATH, "B": "arg"}
    assert dict(second.run_env) == {"A": "env", "PATH": DEFAULT_PATH, "B": "arg"}
    label = stage.steps[-1].instruction
    assert isinstance(label, c.Label) and label.pairs[0].value == "env"
    assert stage.config_env == ("A=env", f"PATH={DEFAULT_PATH}", "B=arg")  # no ARG value


def test_a_stage_from_a_stage_continues_its_env() -> None:
    plan = make_plan(
        parse("FROM img AS a\nENV A=2\nFROM a\nENV B=3\n"),
        build_args={},
        platform=LINUX,
        bases=Bases(env=lambda ref, p: ["A=1"]),
    )
    assert plan.stage(0).config_env == ("A=2", f"PATH={DEFAULT_PATH}")
    assert plan.stage(1).config_env == ("A=2", f"PATH={DEFAULT_PATH}", "B=3")


def _scan_set(env: list[str], name: str, value: str) -> list[str]:
    """The rule written out plainly: replace the first entry of ``name``, drop the others,
    else append."""
    at = [i for i, entry in enumerate(env) if entry.partition("=")[0] == name]
    if not at:
        return [*env, f"{name}={value}"]
    return [f"{name}={value}" if i == at[0] else e for i, e in enumerate(env) if i not in at[1:]]


NAMES = st.sampled_from(["A", "B", "PATH", "X_1", ""])
ENTRIES = st.one_of(st.builds(lambda n, v: f"{n}={v}", NAMES, st.text("ab=", max_size=3)), NAMES)


@settings(max_examples=300, deadline=None)
@given(
    base=st.lists(ENTRIES, max_size=6),
    sets=st.lists(st.tuples(NAMES, st.text("xy=", max_size=3)), max_size=8),
)
def test_config_env_follows_the_rule(base: list[str], sets: list[tuple[str, str]]) -> None:
    env, expected = ConfigEnv(base), list(base)
    for name, value in sets:
        env.set(name, value)
        expected = _scan_set(expected, name, value)
    assert env.entries() == tuple(expected)
    values: dict[str, str] = {}
    for entry in expected:
        name, _, value = entry.partition("=")
        values[name] = value
    assert dict(env) == values and list(env) == list(values)
    assert env.copy().entries() == env.entries()
