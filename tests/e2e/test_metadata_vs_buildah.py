"""Metadata-only Dockerfiles built by kaniko and by buildah: the configs must match.

Each case is a Dockerfile body (``{base}`` is the lab busybox) and the build args. Both
images are pushed to the lab registry and read back with skopeo; the run config fields
(Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal,
Healthcheck, Shell, OnBuild), the author and the metadata history entries are compared.

Where buildah 1.28 is wrong, the case states the expected value itself:
- ``EXPOSE 8000-8002``: Docker expands a range into one entry per port; buildah keeps
  ``8000-8002/tcp`` (tested in :func:`test_expose_range_expands_like_docker`);
- shell-form CMD/ENTRYPOINT after SHELL: Docker wraps them in the SHELL; buildah ignores
  SHELL there (known pitfall), so those cases check Docker's result directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.executor.executor import build
from kaniko.options import BuildOptions, OutputOptions
from tests.lab.flatten import compare_configs, image_config
from tests.lab.oracle import buildah_build

pytestmark = pytest.mark.e2e

CASES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "env-forms": ('FROM {base}\nENV A=1 B="two words"\nENV C 3 4\nENV D=${A}-$B\n', ()),
    "env-override-path": ("FROM {base}\nENV PATH=/opt/bin:$PATH\n", ()),
    "labels": ('FROM {base}\nLABEL a=b "c d"="e f"\nLABEL a=override multi="1\\\n2"\n', ()),
    "expose": ("FROM {base}\nEXPOSE 80 53/udp 8000\nEXPOSE 443/tcp\n", ()),
    "volumes": ('FROM {base}\nVOLUME /data\nVOLUME ["/logs", "/cache"]\n', ()),
    "workdir-chain": ("FROM {base}\nWORKDIR /a\nWORKDIR b\nWORKDIR ../c\n", ()),
    "user": ("FROM {base}\nUSER nobody:nogroup\n", ()),
    "cmd-exec": ('FROM {base}\nCMD ["echo", "hi"]\n', ()),
    "cmd-shell": ("FROM {base}\nCMD echo $HOME\n", ()),
    "entrypoint-clears-cmd": ('FROM {base}\nENTRYPOINT ["/bin/sh"]\n', ()),
    "entrypoint-then-cmd": ('FROM {base}\nENTRYPOINT ["/bin/echo"]\nCMD ["x"]\n', ()),
    "stopsignal": ("FROM {base}\nSTOPSIGNAL SIGINT\n", ()),
    "healthcheck": (
        "FROM {base}\nHEALTHCHECK --interval=5s --timeout=3s --start-period=1s --retries=4 "
        "CMD wget -q localhost || exit 1\n",
        (),
    ),
    "healthcheck-none": ("FROM {base}\nHEALTHCHECK NONE\n", ()),
    "maintainer": ("FROM {base}\nMAINTAINER someone@example.com\n", ()),
    "onbuild": ("FROM {base}\nONBUILD RUN echo one\nONBUILD COPY . /src\n", ()),
    "args": (
        "ARG TAG=latest\nFROM {base_repo}:${TAG}\nARG V=1\nLABEL v=$V tag=${TAG:-none}\n",
        (("V", "42"),),
    ),
    "multi-stage": (
        "FROM {base} AS one\nENV FROM_ONE=1\nFROM one\nLABEL stage=two\nFROM {base} AS three\n"
        "ENV OTHER=3\n",
        (),
    ),
    "shell-exec-forms": ('FROM {base}\nSHELL ["/bin/sh", "-e", "-c"]\nCMD ["a"]\n', ()),
}

HISTORY_FIELDS = ("created_by", "empty_layer")


def _kaniko(ctx: Path, ref: str, build_args) -> None:
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        build_args=tuple(build_args),
        output=OutputOptions(destinations=(ref,)),
    )
    build(options)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_matches_buildah(name, tmp_path, base_images, registry_plain) -> None:
    text, build_args = CASES[name]
    base = base_images["busybox"]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    text = text.replace("{base_repo}", base.rsplit(":", 1)[0]).replace("{base}", base)
    (ctx / "Dockerfile").write_text(text)
    ours = f"{registry_plain.host}/meta/{name}:kaniko"
    _kaniko(ctx, ours, build_args)
    theirs = buildah_build(
        ctx,
        ctx / "Dockerfile",
        registry=registry_plain,
        repo_tag=f"meta/{name}:buildah",
        build_args=[f"{k}={v}" for k, v in build_args],
    )
    a, b = image_config(ours), image_config(theirs)
    assert (
        compare_configs(a.get("config") or {}, b.get("config") or {}, labels=("kaniko", "buildah"))
        == []
    )
    assert a.get("author", "") == b.get("author", "")
    assert a["architecture"] == b["architecture"] and a["os"] == b["os"]
    # one history entry per instruction (the base's entries included) on both sides
    assert len(a["history"]) == len(b["history"])
    assert a["created"] and a["created"] >= b["history"][0].get("created", "")


def test_expose_range_expands_like_docker(tmp_path, base_images, registry_plain) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {base_images['busybox']}\nEXPOSE 8000-8002/udp 80\n")
    ref = f"{registry_plain.host}/meta/expose-range:kaniko"
    _kaniko(ctx, ref, ())
    ports = image_config(ref)["config"]["ExposedPorts"]
    assert ports == {"80/tcp": {}, "8000/udp": {}, "8001/udp": {}, "8002/udp": {}}


def test_shell_wraps_shell_form_cmd_like_docker(tmp_path, base_images, registry_plain) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f'FROM {base_images["busybox"]}\nSHELL ["/bin/sh", "-xc"]\nCMD echo hi\n'
        "ENTRYPOINT exec top\n"
    )
    ref = f"{registry_plain.host}/meta/shell-forms:kaniko"
    _kaniko(ctx, ref, ())
    config = image_config(ref)["config"]
    assert config["Shell"] == ["/bin/sh", "-xc"]
    assert config["Cmd"] == ["/bin/sh", "-xc", "echo hi"]
    assert config["Entrypoint"] == ["/bin/sh", "-xc", "exec top"]
