"""In-place builds, with a directory standing in for the container's ``/``.

The in-place machinery (wiping the root, extracting bases over it, keeping finished stages
by moving them out, moving them back, VOLUME and the ignore list) is exercised here on a
temporary directory: RUN then goes through the chroot sandbox, since an in-place build on
this machine's real ``/`` is never acceptable. Results are compared with chroot mode's,
which builds every stage in a fresh directory.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.errors import UsageError
from kaniko.executor import executor
from kaniko.executor.filesystem import DirectoryRoots, StageParts
from kaniko.executor.inplace import InplaceBuild
from kaniko.executor.stage import StageOptions, StageRoots, build_stage, build_stages
from kaniko.executor.workspace import Workspace
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions
from kaniko.plan import BuildPlan, make_plan
from kaniko.sandbox import chroot
from tests.executor.helpers import OneBase, busybox_image, stage_parts
from tests.lab.flatten import Tree, compare_trees, flatten_layers
from tests.lab.images import busybox_rootfs

PLATFORM = Platform.host()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """A busybox image whose one layer is a file (as a pulled layer kept on disk is)."""
    return busybox_image(tmp_path_factory.mktemp("inplace-base"), PLATFORM)


@pytest.fixture(autouse=True)
def _fresh_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroot, "_refused", None)


@pytest.fixture(scope="module")
def base_without_var(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The busybox image without ``/var`` (the parent of the container's own mounts)."""
    directory = tmp_path_factory.mktemp("inplace-base-novar")
    rootfs = busybox_rootfs(directory / "rootfs")
    shutil.rmtree(rootfs / "var")
    return busybox_image(directory, PLATFORM, rootfs)


def _inplace(
    parts: StageParts,
    plan: BuildPlan,
    context: Path,
    bases: OneBase,
    root: Path,
    stages_dir: Path | None = None,
) -> InplaceBuild:
    """An in-place build of ``plan`` with ``root`` standing in for ``/``."""
    kaniko_dir = str(parts.extractor.workspace.base.parent.parent)
    return InplaceBuild(
        parts,
        plan,
        context=context,
        matcher=None,
        images=bases,
        kaniko_dir=kaniko_dir,
        root=root,
        mountinfo="",
        stages_dir=stages_dir,
    )


def _build(
    text: str,
    base: Image,
    tmp_path: Path,
    *,
    inplace: bool,
    prepare: Iterator[None] | None = None,
    ignore_paths: tuple[str, ...] = ("/cache",),
) -> tuple[Tree, Path, int]:
    """Build ``text`` (``FROM base`` names the busybox image); the final image's tree, the
    directory that stood in for ``/`` and the number of layers the build added."""
    plan = make_plan(
        parse(text),
        build_args={},
        platform=PLATFORM,
        environ={},
        bases=OneBase(base),
    )
    context = tmp_path / "context"
    context.mkdir(parents=True, exist_ok=True)
    ws = Workspace.create(str(tmp_path / "kaniko"))
    parts = stage_parts(ws, ignore_paths)
    root = tmp_path / "root"
    root.mkdir(parents=True, exist_ok=True)
    bases = OneBase(base)
    roots: StageRoots
    if inplace:
        roots = _inplace(parts, plan, context, bases, root, tmp_path / "stages")
    else:
        roots = DirectoryRoots(parts, context=context, matcher=None, images=bases)
    try:
        final = build_stages(plan, roots, bases, StageOptions())[plan.target_index]
        tree = flatten_layers([Path(layer.path) for layer in final.layers()])
        added = len(final.layers()) - len(base.layers())
    finally:
        roots.close()
        ws.remove()
    assert not (tmp_path / "stages").exists() or not any((tmp_path / "stages").iterdir())
    return tree, root, added


def _same_as_chroot(text: str, base: Image, tmp_path: Path, **kw: object) -> Tree:
    ours, _, _ = _build(text, base, tmp_path / "inplace", inplace=True, **kw)  # type: ignore[arg-type]
    theirs, _, _ = _build(text, base, tmp_path / "chroot", inplace=False, **kw)  # type: ignore[arg-type]
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
    tree, root, _ = _build(text, base, tmp_path, inplace=True)
    assert tree["/kaniko/one"].data == b"one\n"  # /kaniko is ignored in place, not here
    assert not (root / "kaniko/one").exists()


def test_volume_is_metadata_only(base: Image, tmp_path: Path) -> None:
    """Writes below a declared VOLUME stay in the image, as in chroot mode and BuildKit."""
    (tmp_path / "inplace" / "context").mkdir(parents=True)
    (tmp_path / "inplace" / "context" / "f").write_text("copied\n")
    (tmp_path / "chroot" / "context").mkdir(parents=True)
    (tmp_path / "chroot" / "context" / "f").write_text("copied\n")
    text = (
        "FROM base\nRUN mkdir /data && echo before > /data/before\nVOLUME /data /fresh\n"
        "RUN echo after > /data/after && echo other > /other\nWORKDIR /data/wd\n"
        "COPY f /data/copied\nRUN mkdir /fresh && echo x > /fresh/y\n"
    )
    tree = _same_as_chroot(text, base, tmp_path)
    for path, data in (("/data/before", b"before\n"), ("/data/after", b"after\n"),
                       ("/data/copied", b"copied\n"), ("/fresh/y", b"x\n")):  # fmt: skip
        assert tree[path].data == data, path
    assert tree["/data/wd"].type == "dir"


def test_directories_kept_for_ignored_paths_are_not_the_stage_s(
    base_without_var: Image, tmp_path: Path
) -> None:
    """/var kept only above an ignored path (a mounted token) takes nothing from the
    container: absent from the image until a step writes below it, then a new 0755 root
    directory, as in chroot mode."""
    ignore = ("/var/lib/mounted",)
    for case in ("a", "b", "c", "d"):  # the root an in-place build stands in for /
        mounted = tmp_path / case / "inplace" / "root" / "var" / "lib" / "mounted"
        mounted.mkdir(parents=True)
        (mounted / "token").write_text("secret")
        for directory in (mounted.parent.parent, mounted.parent):
            directory.chmod(0o1755)
            os.chown(directory, 5, 5)
            os.utime(directory, ns=(0, 0))
    untouched = _same_as_chroot(
        "FROM base\nRUN echo x > /x\n", base_without_var, tmp_path / "a", ignore_paths=ignore
    )
    assert not [path for path in untouched if path.startswith("/var")]
    text = "FROM base\nRUN mkdir -p /var/cache/app && echo y > /var/cache/app/y\n"
    tree = _same_as_chroot(text, base_without_var, tmp_path / "b", ignore_paths=ignore)
    var = tree["/var"]
    assert (var.type, var.mode, var.uid, var.gid) == ("dir", 0o755, 0, 0)
    assert tree["/var/cache/app/y"].data == b"y\n"
    assert "/var/lib" not in tree and "/var/lib/mounted/token" not in tree
    text = "FROM base AS one\nRUN echo 1 > /one\nFROM base\nCOPY --from=one / /copied/\n"
    tree = _same_as_chroot(text, base_without_var, tmp_path / "c", ignore_paths=ignore)
    assert tree["/copied/one"].data == b"1\n" and "/copied/var" not in tree
    text = "FROM base\nRUN mkdir -p /var/x && rmdir /var/x\n"  # chroot: /var stays, empty
    tree = _same_as_chroot(text, base_without_var, tmp_path / "d", ignore_paths=ignore)
    assert tree["/var"].mode == 0o755 and not [p for p in tree if p.startswith("/var/")]


@pytest.mark.parametrize("inplace", [True, False], ids=["inplace", "chroot"])
def test_run_that_changes_nothing_adds_no_layer(base: Image, tmp_path: Path, inplace: bool) -> None:
    """The base has no /etc/hosts nor /etc/resolv.conf: a chroot RUN's sandbox makes them as
    mount points and removes them, moving /etc's ctime; that is no change of /etc."""
    text = "FROM base\nRUN true\nRUN mkdir /etc/tmp.d && rmdir /etc/tmp.d\n"
    _, _, added = _build(text, base, tmp_path, inplace=inplace)
    assert added == 0


def test_ignored_paths_are_neither_wiped_nor_snapshotted(base: Image, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "cache").mkdir(parents=True)
    (root / "cache/kept").write_text("an --ignore-path")
    (root / "junk").write_text("what / held before the build")
    text = "FROM base\nRUN test ! -e /junk && cat /cache/kept > /seen && echo x > /cache/new\n"
    tree, _, _ = _build(text, base, tmp_path, inplace=True)
    assert tree["/seen"].data == b"an --ignore-path"
    assert not [path for path in tree if path.startswith("/cache")]
    assert (root / "cache/kept").exists() and (root / "cache/new").exists()
    assert not (root / "junk").exists()


def test_only_stages_that_run_programs_take_the_root(base: Image, tmp_path: Path) -> None:
    plan = make_plan(parse("FROM base\nRUN true\nFROM base\nCOPY a b\n"), build_args={})
    ws = Workspace.create(str(tmp_path / "k"))
    (tmp_path / "root").mkdir()
    build = _inplace(stage_parts(ws), plan, tmp_path, OneBase(base), tmp_path / "root")
    try:
        first = build.steps(plan.stages[0], base)
        assert first.root() == tmp_path / "root"  # in place (the RUN: the chroot sandbox,
        assert first.runner is chroot.run  # as the root only stands in for /)
        second = build.steps(plan.stages[1], base)
        assert second.root().parent == ws.base  # a directory of the workspace
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
        bases=OneBase(base),
    )
    context = tmp_path / "context"
    context.mkdir()
    ws = Workspace.create(str(tmp_path / "kaniko"))
    parts = stage_parts(ws, ("/cache",))
    root = tmp_path / "root"
    (root / "cache").mkdir(parents=True)
    (root / "cache" / "kept").write_text("ignored paths survive\n")
    build = _inplace(parts, plan, context, OneBase(base), root, tmp_path / "stages")
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
