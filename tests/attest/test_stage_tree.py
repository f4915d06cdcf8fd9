"""Which root an SBOM scans, in an in-place build (a directory standing in for ``/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.attest.scan import scan
from kaniko.dockerfile.parser import parse
from kaniko.executor.attest import stage_tree
from kaniko.executor.filesystem import ChrootSteps, Workspace
from kaniko.executor.inplace import InplaceBuild
from kaniko.executor.stage import FilesystemSteps, StageOptions, build_stage
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.oci.image import FileLayer, Image
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, SnapshotOptions
from kaniko.plan import make_plan
from kaniko.sandbox import chroot
from tests.lab.images import DOCKER_LAYER, busybox_rootfs, layer_from_dir

PLATFORM = Platform.host()
SITE = "/usr/lib/python3/dist-packages"


def _dist(name: str) -> str:
    folder = f"{SITE}/{name}-1.dist-info"
    return f"mkdir -p {folder} && printf 'Name: {name}\\nVersion: 1\\n' > {folder}/METADATA"


@pytest.fixture
def base(tmp_path: Path) -> Image:
    blob = tmp_path / "layer.tar.gz"
    blob.write_bytes(layer_from_dir(busybox_rootfs(tmp_path / "rootfs")))
    return mutate.append(scratch(PLATFORM), FileLayer.from_file(str(blob), DOCKER_LAYER))


@pytest.mark.parametrize("inplace", [True, False])
def test_scanned_roots(base: Image, tmp_path: Path, inplace: bool, monkeypatch) -> None:
    monkeypatch.setattr(chroot, "_refused", None)
    text = (
        f"FROM base AS one\nRUN {_dist('first')}\n"
        f"FROM base AS two\nRUN {_dist('second')} && mkdir -p /cache && "
        f"cd /cache && {_dist('ignored').replace(SITE, 'cache')}\n"
        "FROM two AS three\nLABEL only=metadata\n"
    )
    plan = make_plan(
        parse(text),
        build_args={},
        platform=PLATFORM,
        environ={},
        base_env=lambda ref, p: base.config().config.env,
        base_onbuild=lambda ref, p: (),
    )
    options = BuildOptions(
        kaniko_dir=str(tmp_path / "kaniko"), snapshot=SnapshotOptions(ignore_paths=("/cache",))
    )
    context = tmp_path / "context"
    context.mkdir()
    ws = Workspace.create(options, context=context, matcher=None, images=lambda r, p: base)
    root = tmp_path / "root"
    root.mkdir()
    images: dict[int, Image] = {}
    steps: dict[int, FilesystemSteps] = {}
    build = (
        InplaceBuild(ws, plan, images, root=root, mountinfo="", stages_dir=tmp_path / "stages")
        if inplace
        else None
    )
    try:
        for stage in plan.stages:
            start = images[stage.base] if isinstance(stage.base, int) else base
            steps[stage.index] = (
                build.steps(stage, start) if build else ChrootSteps(ws, stage, start)
            )
            images[stage.index] = build_stage(stage, start, steps[stage.index], StageOptions())

        def names(index: int) -> list[str]:
            stage = plan.stages[index]
            tree = stage_tree(stage, images[index], steps.get(index), ws)
            return [p.name for p in scan(tree).packages]

        assert names(0) == ["first"]
        assert names(1) == ["second"]  # /cache is on the ignore list
        assert names(2) == ["second"]  # metadata only: the stage's layers, extracted
        if inplace:
            assert (root / SITE.lstrip("/") / "second-1.dist-info").is_dir()  # / left alone
    finally:
        if build is not None:
            build.close()
        ws.remove()
