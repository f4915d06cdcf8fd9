"""Stages built at once (``--jobs``): overlap, the same result as one after another, and
in-place builds, whose stages that RUN share one ``/`` (a directory stands in for it)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.executor import stage as stage_module
from kaniko.executor.filesystem import DirectoryRoots
from kaniko.executor.graph import in_root
from kaniko.executor.inplace import InplaceBuild
from kaniko.executor.stage import StageOptions, StageRoots, build_stages
from kaniko.executor.workspace import Workspace
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.plan import make_plan
from kaniko.sandbox import chroot
from tests.executor.helpers import OneBase, busybox_image, stage_parts
from tests.lab.flatten import Tree, compare_trees, flatten_layers

PLATFORM = Platform.host()

Spans = dict[int, tuple[float, float]]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return busybox_image(tmp_path_factory.mktemp("parallel-base"), PLATFORM)


@pytest.fixture(autouse=True)
def _fresh_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroot, "_refused", None)


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Spans:
    """When each stage was built (by stage index); a stage with no RUN takes 1 s more, so
    that an overlap with it shows."""
    found: Spans = {}
    lock = threading.Lock()
    real = stage_module.build_stage

    def timed(stage, base, fs, opts):  # type: ignore[no-untyped-def]
        start = time.monotonic()
        if not any(step.keyword == "RUN" for step in stage.steps):
            time.sleep(1)
        try:
            return real(stage, base, fs, opts)
        finally:
            with lock:
                found[stage.index] = (start, time.monotonic())

    monkeypatch.setattr(stage_module, "build_stage", timed)
    return found


def overlap(spans: Spans, a: int, b: int) -> bool:
    (a0, a1), (b0, b1) = spans[a], spans[b]
    return a0 < b1 and b0 < a1


def build(text: str, base: Image, tmp_path: Path, *, jobs: int, inplace: bool = False) -> Tree:
    """Build ``text`` (every ``FROM base`` is the busybox image); the final image's tree."""
    bases = OneBase(base)
    plan = make_plan(parse(text), build_args={}, platform=PLATFORM, environ={}, bases=bases)
    context = tmp_path / "context"
    context.mkdir(parents=True)
    workspace = Workspace.create(str(tmp_path / "kaniko"))
    parts = stage_parts(workspace, ("/cache",))
    roots: StageRoots
    if inplace:
        (tmp_path / "root").mkdir()
        roots = InplaceBuild(
            parts,
            plan,
            context=context,
            matcher=None,
            images=bases,
            kaniko_dir=str(tmp_path / "kaniko"),
            root=tmp_path / "root",
            mountinfo="",
            stages_dir=tmp_path / "stages",
        )
    else:
        roots = DirectoryRoots(parts, context=context, matcher=None, images=bases)
    exclusive = in_root if inplace else None
    try:
        images = build_stages(plan, roots, bases, StageOptions(), jobs=jobs, exclusive=exclusive)
        final = images[plan.target_index]
        return flatten_layers([Path(layer.path) for layer in final.layers()])
    finally:
        roots.close()
        workspace.remove()


STAMP = "date +%s > /{n}.start && sleep 2 && date +%s > /{n}.end"

TWO_STAGES = (
    f"FROM base AS a\nRUN {STAMP.format(n='a')}\n"
    f"FROM base AS b\nRUN {STAMP.format(n='b')}\n"
    "FROM base\nCOPY --from=a /a.start /a.end /\nCOPY --from=b /b.start /b.end /\n"
)


def _stamps(tree: Tree, name: str) -> tuple[int, int]:
    start, end = (tree[f"/{name}.{w}"].data for w in ("start", "end"))
    assert start is not None and end is not None
    return int(start), int(end)


def test_independent_stages_overlap_and_give_the_same_tree(base: Image, tmp_path: Path) -> None:
    tree = build(TWO_STAGES, base, tmp_path / "two", jobs=2)
    (a0, a1), (b0, b1) = _stamps(tree, "a"), _stamps(tree, "b")
    assert a0 < b1 and b0 < a1  # each RUN started before the other ended
    sequential = build(TWO_STAGES, base, tmp_path / "one", jobs=1)
    (a0, a1), (b0, b1) = _stamps(sequential, "a"), _stamps(sequential, "b")
    assert b0 >= a1  # one after another
    stamps = [f"/{n}.{w}" for n in "ab" for w in ("start", "end")]
    assert compare_trees(tree, sequential, allow=dict.fromkeys(stamps, "times")) == []


INPLACE = (
    "FROM base AS one\nRUN echo one > /one && sleep 1\n"
    "FROM base AS two\nRUN echo two > /two && sleep 1\n"
    "FROM base AS copier\nCOPY --from=one /one /copied-one\n"
    "FROM one AS three\nRUN test -e /one && test ! -e /two && echo three > /three\n"
    "FROM base\nCOPY --from=copier /copied-one /c1\nCOPY --from=two /two /t2\n"
    "COPY --from=three /three /t3\n"
)


def test_in_place_stages_that_run_take_turns_others_overlap(
    base: Image, tmp_path: Path, spans: Spans
) -> None:
    tree = build(INPLACE, base, tmp_path / "jobs3", jobs=3, inplace=True)
    runs = (0, 1, 3)
    for a in runs:
        for b in runs:
            assert a == b or not overlap(spans, a, b), (a, b, spans)
    assert any(overlap(spans, 2, other) for other in runs)  # the COPY-only stage
    sequential = build(INPLACE, base, tmp_path / "jobs1", jobs=1, inplace=True)
    assert compare_trees(tree, sequential, labels=("jobs 3", "jobs 1")) == []
    assert tree["/c1"].data == b"one\n" and tree["/t3"].data == b"three\n"


def test_in_place_results_match_chroot(base: Image, tmp_path: Path) -> None:
    ours = build(INPLACE, base, tmp_path / "inplace", jobs=2, inplace=True)
    theirs = build(INPLACE, base, tmp_path / "chroot", jobs=2)
    assert compare_trees(ours, theirs, labels=("inplace", "chroot")) == []
