"""Which root an SBOM scans, in an in-place build (a directory standing in for ``/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.attest.scan import scan
from kaniko.dockerfile.parser import parse
from kaniko.executor.attest import stage_tree
from kaniko.executor.filesystem import DirectoryRoots
from kaniko.executor.inplace import InplaceBuild
from kaniko.executor.stage import StageOptions, StageRoots, build_stages
from kaniko.executor.workspace import Workspace
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.plan import make_plan
from kaniko.sandbox import chroot
from tests.executor.helpers import OneBase, busybox_image, stage_parts

PLATFORM = Platform.host()
SITE = "/usr/lib/python3/dist-packages"


def _dist(name: str) -> str:
    folder = f"{SITE}/{name}-1.dist-info"
    return f"mkdir -p {folder} && printf 'Name: {name}\\nVersion: 1\\n' > {folder}/METADATA"


@pytest.fixture
def base(tmp_path: Path) -> Image:
    return busybox_image(tmp_path, PLATFORM)


@pytest.mark.parametrize("inplace", [True, False])
def test_scanned_roots(base: Image, tmp_path: Path, inplace: bool, monkeypatch) -> None:
    monkeypatch.setattr(chroot, "_refused", None)
    text = (
        f"FROM base AS one\nRUN {_dist('first')}\n"
        f"FROM base AS two\nRUN {_dist('second')} && mkdir -p /cache && "
        f"cd /cache && {_dist('ignored').replace(SITE, 'cache')}\n"
        "FROM two AS three\nLABEL only=metadata\n"
    )
    bases = OneBase(base)
    plan = make_plan(parse(text), build_args={}, platform=PLATFORM, environ={}, bases=bases)
    context = tmp_path / "context"
    context.mkdir()
    ws = Workspace.create(str(tmp_path / "kaniko"))
    parts = stage_parts(ws, ("/cache",))
    root = tmp_path / "root"
    root.mkdir()
    roots: StageRoots
    if inplace:
        roots = InplaceBuild(
            parts, plan, context=context, matcher=None, images=bases,
            kaniko_dir=str(tmp_path / "kaniko"), root=root, mountinfo="",
            stages_dir=tmp_path / "stages",
        )  # fmt: skip
    else:
        roots = DirectoryRoots(parts, context=context, matcher=None, images=bases)
    try:
        images = build_stages(plan, roots, bases, StageOptions())

        def names(index: int) -> list[str]:
            stage = plan.stages[index]
            tree = stage_tree(stage, images[index], roots, parts.extractor)
            return [p.name for p in scan(tree).packages]

        assert names(0) == ["first"]
        assert names(1) == ["second"]  # /cache is on the ignore list
        assert names(2) == ["second"]  # metadata only: the stage's layers, extracted
        if inplace:
            assert (root / SITE.lstrip("/") / "second-1.dist-info").is_dir()  # / left alone
    finally:
        roots.close()
        ws.remove()
