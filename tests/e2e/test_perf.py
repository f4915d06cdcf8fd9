"""Issue 14 end to end: overlay snapshots over a kept base, the same layers as the
metadata snapshotter, early pushes, and the build profile (``--profile``, ``-v debug``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaniko.cli.main import main
from kaniko.executor.executor import BuildResult, build
from kaniko.options import BuildOptions, OutputOptions, PerfOptions
from tests.lab.flatten import flatten
from tests.lab.registry import Registry

pytestmark = pytest.mark.e2e

DOCKERFILE = """\
FROM {base}
RUN echo one > /one && rm /etc/group && mkdir -p /opt/app && echo x > /opt/app/x
COPY files/ /opt/app/
RUN rm -rf /opt/app && mkdir /opt/app && echo y > /opt/app/y && chmod 700 /root
WORKDIR /srv/work
RUN ln /one /srv/one-link && : > /tmp/empty
FROM {base} AS second
COPY --from=0 /opt/app /copied
RUN cat /copied/y > /copied/z
"""


@pytest.fixture
def context(tmp_path: Path, base_images: dict[str, str]) -> Path:
    ctx = tmp_path / "ctx"
    (ctx / "files" / "sub").mkdir(parents=True)
    (ctx / "files" / "a").write_text("a\n")
    (ctx / "files" / "sub" / "b").write_text("b\n")
    (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=base_images["busybox"]))
    return ctx


def cli_build(ctx: Path, ref: str, kaniko_dir: Path, *extra: str) -> dict:
    profile = kaniko_dir.parent / f"profile-{ref.rsplit(':', 1)[1]}.json"
    argv = ["--context", str(ctx), "--destination", ref, "--kaniko-dir", str(kaniko_dir),
            "--profile", str(profile), *extra]  # fmt: skip
    assert main(argv) == 0
    return json.loads(profile.read_text())


def test_kept_base_overlay_profile_and_early_push(
    context: Path, tmp_path: Path, registry_plain: Registry, capfd: pytest.CaptureFixture[str]
) -> None:
    kaniko_dir = tmp_path / "kaniko"
    ref = f"{registry_plain.host}/perf/kept"
    first = cli_build(context, f"{ref}:1", kaniko_dir, "-v", "debug")
    counters = first["counters"]
    assert counters["overlay_stages"] == 2
    assert counters["base_extracted"] == 1 and counters["base_kept"] == 1  # shared by stages
    assert counters["layers_pushed_early"] >= 4
    assert {"run", "copy", "snapshot", "compress", "push", "extract"} <= set(first["phases"])
    assert [s["line"] for s in first["steps"]][:2] == [2, 3]
    timing_lines = [line for line in capfd.readouterr().err.splitlines() if "timing:" in line]
    assert any("total" in line and "peak RSS" in line for line in timing_lines)
    assert any("[0:2] RUN echo one" in line and "run " in line for line in timing_lines)

    second = cli_build(context, f"{ref}:2", kaniko_dir)
    assert second["counters"]["base_kept"] == 2 and "base_extracted" not in second["counters"]
    assert flatten(f"{ref}:1") == flatten(f"{ref}:2")
    assert (kaniko_dir / "extracted" / "trees").is_dir()
    assert list((kaniko_dir / "builds").iterdir()) == []


def reproducible(ctx: Path, ref: str, kaniko_dir: Path, snapshotter: str) -> BuildResult:
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        kaniko_dir=str(kaniko_dir),
        output=OutputOptions(destinations=(ref,), reproducible=True),
        perf=PerfOptions(snapshotter=snapshotter),  # type: ignore[arg-type]
    )
    return build(options)


def test_overlay_and_metadata_snapshots_give_the_same_layers(
    context: Path, tmp_path: Path, registry_plain: Registry
) -> None:
    ref = f"{registry_plain.host}/perf/same"
    overlay = reproducible(context, f"{ref}:overlay", tmp_path / "k1", "overlay")
    metadata = reproducible(context, f"{ref}:metadata", tmp_path / "k2", "metadata")
    assert [layer.digest for layer in overlay.image.layers()] == [
        layer.digest for layer in metadata.image.layers()
    ]
    assert overlay.digest == metadata.digest


def test_no_kept_base_with_a_zero_size(
    context: Path, tmp_path: Path, registry_plain: Registry
) -> None:
    kaniko_dir = tmp_path / "kaniko"
    profile = cli_build(
        context, f"{registry_plain.host}/perf/nokeep:1", kaniko_dir, "--extracted-base-size=0"
    )
    assert profile["counters"]["base_extracted"] == 2
    assert not (kaniko_dir / "extracted").exists()
