"""In-place builds, with a directory standing in for the container's ``/``.

The in-place machinery (wiping the root, extracting bases over it, keeping finished stages
by moving them out, moving them back, VOLUME and the ignore list) is exercised here on a
temporary directory: RUN then goes through the chroot sandbox, since an in-place build on
this machine's real ``/`` is never acceptable. Results are compared with chroot mode's,
which builds every stage in a fresh directory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.errors import UsageError
from kaniko.executor import executor
from kaniko.executor.filesystem import ChrootSteps, Workspace
from kaniko.executor.inplace import InplaceBuild, InplaceSteps
from kaniko.executor.stage import StageOptions, build_stage
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.oci.image import FileLayer, Image
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, SnapshotOptions
from kaniko.plan import make_plan
from kaniko.sandbox import chroot
from tests.lab.flatten import Tree, compare_trees, flatten_layers
from tests.lab.images import DOCKER_LAYER, busybox_rootfs, layer_from_dir

PLATFORM = Platform.host()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """A busybox image whose one layer is a file (as a pulled layer kept on disk is)."""
    directory = tmp_path_factory.mktemp("inplace-base")
    blob = directory / "layer.tar.gz"
    blob.write_bytes(layer_from_dir(busybox_rootfs(directory / "rootfs")))
    return mutate.append(scratch(PLATFORM), FileLayer.from_file(str(blob), DOCKER_LAYER))


@pytest.fixture(autouse=True)
def _fresh_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroot, "_refused", None)


def _build(
    text: str, base: Image, tmp_path: Path, *, inplace: bool, prepare: Iterator[None] | None = None
) -> tuple[Tree, Path]:
    """Build ``text`` (``FROM base`` names the busybox image); the final image's tree and
    the directory that stood in for ``/``."""
    plan = make_plan(
        parse(text),
        build_args={},
        platform=PLATFORM,
        environ={},
        base_env=lambda ref, p: base.config().config.env,
        base_onbuild=lambda ref, p: (),
    )
    context = tmp_path / "context"
    context.mkdir(parents=True, exist_ok=True)
    options = BuildOptions(
        kaniko_dir=str(tmp_path / "kaniko"),
        snapshot=SnapshotOptions(ignore_paths=("/cache",)),
    )
    ws = Workspace.create(options, context=context, matcher=None, images=lambda r, p: base)
    root = tmp_path / "root"
    root.mkdir(parents=True, exist_ok=True)
    images: dict[int, Image] = {}
    build = (
        InplaceBuild(ws, plan, images, root=root, mountinfo="", stages_dir=tmp_path / "stages")
        if inplace
        else None
    )
    try:
        for stage in plan.stages:
            if stage.base == "scratch":
                start = scratch(PLATFORM)
            else:
                start = images[stage.base] if isinstance(stage.base, int) else base
            steps = build.steps(stage, start) if build else ChrootSteps(ws, stage, start)
            images[stage.index] = build_stage(stage, start, steps, StageOptions())
        final = images[plan.target_index]
        tree = flatten_layers([Path(layer.path) for layer in final.layers()])
    finally:
        if build is not None:
            build.close()
        ws.remove()
    assert not (tmp_path / "stages").exists() or not any((tmp_path / "stages").iterdir())
    return tree, root


def _same_as_chroot(text: str, base: Image, tmp_path: Path) -> Tree:
    ours, _ = _build(text, base, tmp_path / "inplace", inplace=True)
    theirs, _ = _build(text, base, tmp_path / "chroot", inplace=False)
    assert compare_trees(ours, theirs, labels=("inplace", "chroot")) == []
    return ours


def test_a_stage_needed_later_is_moved_out_and_read_by_copy_from(
    base: Image, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (
        "FROM base AS one\nRUN echo one > /one && mkdir /keep && echo kept > /keep/x\n"
        "FROM base\nRUN test ! -e /one && echo two > /two\nCOPY --from=one /keep /from-one\n"
    )
    with caplog.at_level(logging.INFO):
        tree = _same_as_chroot(text, base, tmp_path)
    assert tree["/from-one/x"].data == b"kept\n"
    assert tree["/two"].data == b"two\n"
    assert "/one" not in tree
    assert "Kept stage 0 (one) in" in caplog.text


def test_a_stage_from_the_stage_in_place_starts_from_its_files(
    base: Image, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "FROM base AS one\nRUN echo one > /one\nFROM one\nRUN test -e /one && echo 2 > /two\n"
    with caplog.at_level(logging.INFO):
        tree = _same_as_chroot(text, base, tmp_path)
    assert tree["/one"].data == b"one\n" and tree["/two"].data == b"2\n"
    assert "Stage 1 starts from stage 0's files in place" in caplog.text


def test_a_kept_stage_moves_back_for_the_last_stage_built_from_it(
    base: Image, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (
        "FROM base AS one\nRUN echo one > /one\n"
        "FROM base AS two\nRUN test ! -e /one && echo two > /two\nCOPY --from=one /one /copied\n"
        "FROM one\nRUN test -e /one && test ! -e /two && echo three > /three\n"
    )
    with caplog.at_level(logging.INFO):
        tree = _same_as_chroot(text, base, tmp_path)
    assert {"/one", "/three"} <= set(tree) and "/two" not in tree
    assert "Moving stage 0 back into" in caplog.text


def test_a_stage_without_run_is_built_in_a_directory(base: Image, tmp_path: Path) -> None:
    text = "FROM base AS one\nRUN echo one > /one\nFROM scratch\nCOPY --from=one /one /kaniko/one\n"
    tree, root = _build(text, base, tmp_path, inplace=True)
    assert tree["/kaniko/one"].data == b"one\n"  # /kaniko is ignored in place, not here
    assert not (root / "kaniko/one").exists()


def test_volume_paths_are_ignored_from_their_volume_on(base: Image, tmp_path: Path) -> None:
    text = (
        "FROM base\nRUN mkdir /data && echo before > /data/before\nVOLUME /data\n"
        "RUN echo after > /data/after && echo other > /other\n"
    )
    tree, root = _build(text, base, tmp_path, inplace=True)
    assert tree["/data/before"].data == b"before\n"
    assert tree["/other"].data == b"other\n"
    assert "/data/after" not in tree
    assert (root / "data/after").read_text() == "after\n"


def test_ignored_paths_are_neither_wiped_nor_snapshotted(base: Image, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "cache").mkdir(parents=True)
    (root / "cache/kept").write_text("an --ignore-path")
    (root / "junk").write_text("what / held before the build")
    text = "FROM base\nRUN test ! -e /junk && cat /cache/kept > /seen && echo x > /cache/new\n"
    tree, _ = _build(text, base, tmp_path, inplace=True)
    assert tree["/seen"].data == b"an --ignore-path"
    assert not [path for path in tree if path.startswith("/cache")]
    assert (root / "cache/kept").exists() and (root / "cache/new").exists()
    assert not (root / "junk").exists()


def test_only_stages_that_run_programs_take_the_root(base: Image, tmp_path: Path) -> None:
    plan = make_plan(parse("FROM base\nRUN true\nFROM base\nCOPY a b\n"), build_args={})
    ws = Workspace.create(
        BuildOptions(kaniko_dir=str(tmp_path / "k")), context=tmp_path, matcher=None,
        images=lambda r, p: base,
    )  # fmt: skip
    build = InplaceBuild(ws, plan, {}, root=tmp_path / "root", mountinfo="")
    try:
        assert isinstance(build.steps(plan.stages[0], base), InplaceSteps)
        second = build.steps(plan.stages[1], base)
        assert type(second) is ChrootSteps
        assert "/proc" in build.ignore.paths and str(ws.base) in build.ignore.paths
    finally:
        build.close()
        ws.remove()


def test_choose_isolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "in_container", lambda: False)
    assert executor.choose_isolation(BuildOptions()) == "chroot"
    with pytest.raises(UsageError, match="--force"):
        executor.choose_isolation(BuildOptions(isolation="inplace"))
    assert executor.choose_isolation(BuildOptions(isolation="inplace", force=True)) == "inplace"
    monkeypatch.setattr(executor, "in_container", lambda: True)
    monkeypatch.setattr(executor, "in_executor_image", lambda: True)
    assert executor.choose_isolation(BuildOptions(isolation="auto")) == "inplace"
    assert executor.choose_isolation(BuildOptions(isolation="chroot")) == "chroot"


def test_auto_is_chroot_outside_the_executor_image() -> None:
    assert not executor.in_executor_image()  # tests run from a venv, never from /kaniko
    assert executor.choose_isolation(BuildOptions(isolation="auto")) == "chroot"


def test_cleanup_wipes_the_root_but_not_the_ignore_list(base: Image, tmp_path: Path) -> None:
    plan = make_plan(
        parse("FROM base\nRUN echo built > /built\n"),
        build_args={},
        platform=PLATFORM,
        environ={},
        base_env=lambda ref, p: base.config().config.env,
        base_onbuild=lambda ref, p: (),
    )
    context = tmp_path / "context"
    context.mkdir()
    options = BuildOptions(
        kaniko_dir=str(tmp_path / "kaniko"), snapshot=SnapshotOptions(ignore_paths=("/cache",))
    )
    ws = Workspace.create(options, context=context, matcher=None, images=lambda r, p: base)
    root = tmp_path / "root"
    (root / "cache").mkdir(parents=True)
    (root / "cache" / "kept").write_text("ignored paths survive\n")
    build = InplaceBuild(ws, plan, {}, root=root, mountinfo="", stages_dir=tmp_path / "stages")
    try:
        [stage] = plan.stages
        build_stage(stage, base, build.steps(stage, base), StageOptions())
        assert (root / "built").read_text() == "built\n"
    finally:
        build.close(cleanup=True)
        ws.remove()
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())
    assert left == ["cache/kept"]  # only directories leading to ignored paths stay besides
    assert not (root / "built").exists()
