"""A Dockerfile of 10 000 instructions builds (peak memory: ``bench/long_dockerfile.py``).

Each step derives one image from the last and plans one step's variables; both used to
grow with the step count (a recursion per step, a copy of the environment per step).
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from kaniko.executor.executor import build
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, OutputOptions

STEPS = 10_000


def _build(tmp_path: Path, dockerfile: str) -> dict:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(dockerfile)
    tar = tmp_path / "out.tar"
    options = BuildOptions(
        context=str(ctx),
        dockerfile=str(ctx / "Dockerfile"),
        kaniko_dir=str(tmp_path / "kaniko"),
        platform=Platform("linux", "amd64"),
        output=OutputOptions(no_push=True, tar_path=str(tar)),
    )
    build(options)
    with tarfile.open(tar) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        return json.load(archive.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]


def test_ten_thousand_env_lines(tmp_path: Path) -> None:
    lines = [f"ENV V{i}=value-{i} W=${{V{i - 1}}}" for i in range(STEPS)]
    config = _build(tmp_path, "FROM scratch\n" + "\n".join(lines) + "\n")
    env = config["config"]["Env"]
    assert len(env) == STEPS + 2  # PATH, the V's, and W once (replaced in place)
    assert env[1] == "V0=value-0" and env[2] == f"W=value-{STEPS - 2}"
    assert len(config["history"]) == STEPS


def test_ten_thousand_mixed_metadata_instructions(tmp_path: Path) -> None:
    forms = (
        "ARG A{g}=x{g}",
        "ENV E{g}=${{A{g}}}",
        "LABEL l{g}=${{E{g}}}",
        "ONBUILD RUN echo {i}",
        "USER {i}",
        'ENTRYPOINT ["run", "{i}"]',
        "HEALTHCHECK CMD true",
        "EXPOSE {port}",
    )
    lines = [
        forms[i % len(forms)].format(i=i, g=i // len(forms), port=1000 + i) for i in range(STEPS)
    ]
    config = _build(tmp_path, "FROM scratch\n" + "\n".join(lines) + "\n")
    run = config["config"]
    assert len(run["Labels"]) == STEPS // len(forms)
    assert run["Labels"]["l1249"] == "x1249"
    assert run["Entrypoint"] == ["run", "9997"] and run["User"] == "9996"
    assert len(run["OnBuild"]) == STEPS // len(forms)
    assert len(config["history"]) == STEPS
