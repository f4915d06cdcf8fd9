"""The stage builder: one stage on its base, each step's result as it is done."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.executor.filesystem import DirectoryRoots
from kaniko.executor.stage import StageBuild, StageOptions
from kaniko.executor.workspace import Workspace
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.plan import make_plan
from kaniko.sandbox import chroot
from tests.executor.helpers import OneBase, busybox_image, stage_parts

PLATFORM = Platform.host()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return busybox_image(tmp_path_factory.mktemp("stage-base"), PLATFORM)


def test_each_step_s_result_as_it_is_done(
    base: Image, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chroot, "_refused", None)
    (tmp_path / "f").write_text("copied\n")
    text = "FROM base\nENV A=1\nRUN echo x > /x\nRUN true\nCOPY f /f\nUSER nobody\n"
    bases = OneBase(base)
    plan = make_plan(parse(text), build_args={}, platform=PLATFORM, environ={}, bases=bases)
    [stage] = plan.stages
    with Workspace.create(str(tmp_path / "kaniko")) as ws:
        roots = DirectoryRoots(stage_parts(ws), context=tmp_path, matcher=None, images=bases)
        build = StageBuild(stage, base, roots.steps(stage, base), StageOptions())
        with pytest.raises(RuntimeError, match="before run"):
            build.image()
        seen = []
        for result in build.run():
            seen.append((result.step.keyword, result.layer is not None))
            if result.layer is not None:  # the layer is final when it is yielded
                assert result.layer.diff_id
        assert seen == [("ENV", False), ("RUN", True), ("RUN", False), ("COPY", True),
                        ("USER", False)]  # fmt: skip
        image = build.image()
        assert len(image.layers()) == len(base.layers()) + 2
        history = image.config().history[-5:]
        assert [h.empty_layer for h in history] == [True, False, True, False, True]
        assert image.config().config.user == "nobody"
