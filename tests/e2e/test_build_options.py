"""Build options end to end on the lab registry: platform, reproducible, labels, triggers."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.build.executor import build
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, OutputOptions
from tests.lab.flatten import image_config

pytestmark = pytest.mark.e2e


def _build(ctx: Path, text: str, dest: str | None, **kw) -> str:
    (ctx / "Dockerfile").write_text(text)
    out = kw.pop("output", None) or OutputOptions(
        destinations=(dest,) if dest else (), no_push=dest is None
    )
    result = build(
        BuildOptions(dockerfile=str(ctx / "Dockerfile"), context=str(ctx), output=out, **kw)
    )
    return str(result.digest)


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    path = tmp_path / "ctx"
    path.mkdir()
    return path


def test_custom_platform_picks_the_base_and_stamps_the_config(
    ctx, base_images, registry_plain
) -> None:
    dest = f"{registry_plain.host}/opts/arm:1"
    _build(
        ctx,
        f"FROM {base_images['multiarch']}\nENV X=1\n",
        dest,
        platform=Platform.parse("linux/arm64"),
    )
    config = image_config(dest)
    assert config["architecture"] == "arm64"
    assert config["config"]["Labels"] == {"a": "arm64"}  # the arm64 entry was chosen


def test_scratch_gets_the_custom_platform(ctx, registry_plain) -> None:
    dest = f"{registry_plain.host}/opts/scratch-arm:1"
    _build(ctx, "FROM scratch\nENV A=1\n", dest, platform=Platform.parse("linux/arm/v7"))
    config = image_config(dest)
    assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm", "v7")
    assert config["config"]["Env"][0].startswith("PATH=")


def test_reproducible_builds_have_one_digest(ctx, base_images, registry_plain) -> None:
    text = f"FROM {base_images['busybox']}\nRUN echo data > /f && mkdir /d\nCOPY . /ctx/\n"
    (ctx / "file.txt").write_text("context file\n")
    out = OutputOptions(destinations=(f"{registry_plain.host}/opts/repro:1",), reproducible=True)
    first = _build(ctx, text, None, output=out)
    (ctx / "file.txt").touch()  # a new mtime must not change the image
    second = _build(ctx, text, None, output=out)
    assert first == second
    config = image_config(f"{registry_plain.host}/opts/repro:1")
    assert config["created"] == "1970-01-01T00:00:00Z"


def test_labels_option_is_overridden_by_dockerfile_label(ctx, base_images, registry_plain) -> None:
    dest = f"{registry_plain.host}/opts/labels:1"
    _build(
        ctx,
        f"FROM {base_images['busybox']}\nLABEL b=from-dockerfile\n",
        dest,
        labels=(("a", "from-flag"), ("b", "from-flag")),
    )
    assert image_config(dest)["config"]["Labels"] == {"a": "from-flag", "b": "from-dockerfile"}


def test_onbuild_triggers_run_in_the_child(ctx, base_images, registry_plain) -> None:
    parent = f"{registry_plain.host}/opts/onbuild-parent:1"
    _build(
        ctx,
        f"FROM {base_images['busybox']}\nONBUILD RUN echo triggered > /t\n"
        "ONBUILD ENV FROM_TRIGGER=yes\n",
        parent,
    )
    assert image_config(parent)["config"]["OnBuild"] == [
        "RUN echo triggered > /t",
        "ENV FROM_TRIGGER=yes",
    ]
    child = f"{registry_plain.host}/opts/onbuild-child:1"
    _build(ctx, f'FROM {parent}\nRUN test "$(cat /t)" = triggered\n', child)
    config = image_config(child)["config"]
    assert "FROM_TRIGGER=yes" in config["Env"]
    assert not config.get("OnBuild")  # triggers are consumed, as Docker does
