"""Build options end to end on the lab registry: platform, reproducible, labels, triggers."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from kaniko.executor.executor import build
from kaniko.images.layout import read_oci_layout
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


def test_source_date_epoch_stamps_created_and_the_new_entries(ctx, tmp_path) -> None:
    (ctx / "file.txt").write_text("context file\n")
    layout = tmp_path / "layout"
    out = OutputOptions(
        no_push=True,
        oci_layout_path=str(layout),
        reproducible=True,
        source_date_epoch=1_700_000_000,
    )
    _build(ctx, "FROM scratch\nCOPY file.txt /d/f\n", None, output=out)
    image = read_oci_layout(str(layout))
    assert image.config().created == "2023-11-14T22:13:20Z"
    (layer,) = image.layers()
    with layer.open_uncompressed() as blob, tarfile.open(fileobj=blob, mode="r|") as tar:
        assert {(m.name, m.mtime) for m in tar} == {("d", 1_700_000_000), ("d/f", 1_700_000_000)}


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


RUNS = "RUN echo one > /one\nRUN echo two > /two && rm /one\nCOPY . /ctx/\n"


def _manifest(ref: str) -> dict:
    import json
    import subprocess

    from tests.lab.tools import require_tool

    out = subprocess.run(
        [require_tool("skopeo"), "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def test_zstd_layers_make_an_oci_image(ctx, base_images, registry_plain) -> None:
    from tests.lab.flatten import flatten

    (ctx / "f").write_text("x\n")
    dest = f"{registry_plain.host}/opts/zstd:1"
    out = OutputOptions(destinations=(dest,), compression="zstd", compression_level=5)
    _build(ctx, f"FROM {base_images['busybox']}\n" + RUNS, None, output=out)
    manifest = _manifest(dest)
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    types = [layer["mediaType"] for layer in manifest["layers"]]
    assert types[0] == "application/vnd.oci.image.layer.v1.tar+gzip"  # the base, unchanged
    assert set(types[1:]) == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    tree = flatten(dest)  # an independent reader decompresses them
    assert "/two" in tree and "/one" not in tree and "/ctx/f" in tree


def test_single_snapshot_gives_one_layer(ctx, base_images, registry_plain) -> None:
    from kaniko.options import SnapshotOptions
    from tests.lab.flatten import flatten

    (ctx / "f").write_text("x\n")
    dest = f"{registry_plain.host}/opts/single:1"
    _build(
        ctx,
        f"FROM {base_images['busybox']}\n" + RUNS,
        dest,
        snapshot=SnapshotOptions(single_snapshot=True),
    )
    assert len(_manifest(dest)["layers"]) == 2  # the base and one snapshot
    tree = flatten(dest)
    assert "/two" in tree and "/one" not in tree and "/ctx/f" in tree


@pytest.mark.parametrize("mode", ["redo", "time"])
def test_snapshot_modes_build_the_same_tree(ctx, base_images, registry_plain, mode) -> None:
    from kaniko.options import SnapshotOptions
    from tests.lab.flatten import compare_trees, flatten

    (ctx / "f").write_text("x\n")
    full = f"{registry_plain.host}/opts/mode-full:1"
    other = f"{registry_plain.host}/opts/mode-{mode}:1"
    _build(ctx, f"FROM {base_images['busybox']}\n" + RUNS, full)
    _build(
        ctx, f"FROM {base_images['busybox']}\n" + RUNS, other, snapshot=SnapshotOptions(mode=mode)
    )
    assert compare_trees(flatten(full), flatten(other)) == []


def test_ignore_path_and_context_sub_path(ctx, base_images, registry_plain, tmp_path) -> None:
    from kaniko.options import SnapshotOptions
    from tests.lab.flatten import flatten

    sub = ctx / "app"
    sub.mkdir()
    (sub / "main.txt").write_text("app\n")
    (ctx / "Dockerfile").write_text(
        f"FROM {base_images['busybox']}\nCOPY main.txt /app/\nRUN mkdir -p /scratch && "
        "echo tmp > /scratch/x && echo kept > /kept\n"
    )
    dest = f"{registry_plain.host}/opts/ignore:1"
    build(
        BuildOptions(
            dockerfile=str(ctx / "Dockerfile"),
            context=str(ctx),
            context_sub_path="app",
            kaniko_dir=str(tmp_path / "kaniko"),
            snapshot=SnapshotOptions(ignore_paths=("/scratch",)),
            output=OutputOptions(destinations=(dest,)),
        )
    )
    tree = flatten(dest)
    assert "/app/main.txt" in tree and "/kept" in tree
    assert not any(path.startswith("/scratch") for path in tree)
    assert list((tmp_path / "kaniko" / "builds").iterdir()) == []  # the workspace is gone


def test_force_build_metadata_gives_every_step_a_layer(ctx, base_images, registry_plain) -> None:
    from kaniko.options import SnapshotOptions
    from tests.lab.flatten import compare_trees, flatten

    text = f"FROM {base_images['busybox']}\nENV A=1\nRUN true\nRUN echo x > /x\nLABEL l=1\n"
    plain = f"{registry_plain.host}/opts/meta-plain:1"
    forced = f"{registry_plain.host}/opts/meta-forced:1"
    _build(ctx, text, plain)
    _build(ctx, text, forced, snapshot=SnapshotOptions(force_build_metadata=True))
    assert len(_manifest(plain)["layers"]) < 5  # ENV and LABEL add none
    assert len(_manifest(forced)["layers"]) == 5  # the base and one per instruction
    history = image_config(forced)["history"]
    assert not any(h.get("empty_layer") for h in history)
    assert compare_trees(flatten(plain), flatten(forced)) == []
