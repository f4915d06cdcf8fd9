"""The image's ``Env`` and a RUN's environment come from one evaluation, the planner's.

A stage is planned and built for real (busybox base, RUN through the chroot sandbox):
the image config's ``Env`` is ``Stage.config_env``, and what the RUN process sees is that
``Env`` as it stood before the step, overlaid by the ARGs in scope. A Windows stage gets
no default ``PATH`` in either (BuildKit's rule).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.executor.filesystem import DirectoryRoots
from kaniko.executor.stage import StageOptions, build_stages
from kaniko.executor.workspace import Workspace
from kaniko.images import mutate
from kaniko.oci.config import ImageConfig
from kaniko.oci.env import DEFAULT_PATH
from kaniko.oci.image import FileLayer, Image
from kaniko.oci.platform import Platform
from kaniko.plan import make_plan
from kaniko.plan.model import Stage
from kaniko.sandbox import chroot
from tests.executor.helpers import OneBase, busybox_image, stage_parts
from tests.lab.flatten import Tree, flatten_layers

PLATFORM = Platform.host()
SHELL_ADDS = {"HOME", "PWD", "SHLVL"}  # the sandbox's HOME, the shell's own


@pytest.fixture(scope="module")
def busybox_without_path(tmp_path_factory: pytest.TempPathFactory) -> Image:
    image = busybox_image(tmp_path_factory.mktemp("env-base"), PLATFORM)
    return mutate.with_config(image, lambda c: c.with_config(env=("Z=z", "A=1")))


@pytest.fixture(autouse=True)
def _fresh_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroot, "_refused", None)


def _build(
    text: str, base: Image, tmp_path: Path, platform: Platform
) -> tuple[Stage, ImageConfig, Tree]:
    """The planned stage, its image's config and its flattened tree."""
    bases = OneBase(base)
    plan = make_plan(parse(text), build_args={}, platform=platform, environ={}, bases=bases)
    ws = Workspace.create(str(tmp_path / "kaniko"))
    roots = DirectoryRoots(stage_parts(ws), context=tmp_path, matcher=None, images=bases)
    try:
        [stage] = plan.stages
        image = build_stages(plan, roots, bases, StageOptions())[stage.index]
        layers = [Path(layer.path) for layer in image.layers() if isinstance(layer, FileLayer)]
        return stage, image.config(), flatten_layers(layers)
    finally:
        ws.remove()


def test_run_sees_the_image_env_overlaid_by_args(
    busybox_without_path: Image, tmp_path: Path
) -> None:
    text = "FROM base\nENV A=2 B=$A\nARG Z=arg C=c\nRUN env > /env.txt\nENV D=d\n"
    stage, config, tree = _build(text, busybox_without_path, tmp_path, PLATFORM)
    env = config.config.env
    assert env == stage.config_env == ("Z=z", "A=2", f"PATH={DEFAULT_PATH}", "B=1", "D=d")
    data = tree["/env.txt"].data
    assert data is not None
    seen = dict(line.split("=", 1) for line in data.decode().splitlines())
    before_run = dict(entry.split("=", 1) for entry in env[:-1])  # D=d comes after the RUN
    assert {k: v for k, v in seen.items() if k not in SHELL_ADDS} == {
        **before_run,
        "Z": "arg",
        "C": "c",
    }


def test_a_windows_stage_has_no_default_path(busybox_without_path: Image, tmp_path: Path) -> None:
    windows = Platform("windows", "amd64")
    _, config, _ = _build("FROM base\nENV B=2\n", busybox_without_path, tmp_path, windows)
    assert config.config.env == ("Z=z", "A=1", "B=2")
    _, config, _ = _build("FROM base\nENV B=2\n", busybox_without_path, tmp_path, PLATFORM)
    assert config.config.env == ("Z=z", "A=1", f"PATH={DEFAULT_PATH}", "B=2")
