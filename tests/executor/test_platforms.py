"""Multi-platform builds without a registry: plans per platform, shared stages, the index.

End to end against registries, buildah and crun: tests/e2e/test_multiplatform.py.
"""

from __future__ import annotations

import json
import logging
import tarfile
from pathlib import Path

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.errors import BuildError
from kaniko.executor.executor import build
from kaniko.executor.filesystem import DirectoryRoots
from kaniko.executor.graph import in_root
from kaniko.executor.inplace import InplaceBuild, RootTurns
from kaniko.executor.platformgraph import PlatformGraph, Target
from kaniko.executor.platforms import platform_name, require_emulation, stage_keys
from kaniko.executor.stage import StageOptions
from kaniko.executor.workspace import Workspace
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.images.index import platform_index
from kaniko.oci import mediatypes as mt
from kaniko.oci.platform import Platform
from kaniko.options import AttestOptions, BuildOptions, CacheOptions, OutputOptions
from kaniko.plan import make_plan
from kaniko.sandbox import chroot
from tests.executor.helpers import OneBase, busybox_image, stage_parts
from tests.lab.flatten import flatten_layers

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
ARMV7 = Platform("linux", "arm", "v7")

CROSS = """\
FROM --platform=$BUILDPLATFORM scratch AS tools
COPY a /a
FROM --platform=$BUILDPLATFORM scratch AS builder
ARG TARGETARCH
COPY a /a-$TARGETARCH
FROM --platform=$BUILDPLATFORM tools AS more
COPY a /b
FROM scratch
ARG TARGETARCH
COPY --from=tools /a /from-tools
COPY --from=builder /a-$TARGETARCH /from-builder
COPY --from=more /b /from-more
"""


def _plan(text: str, target: Platform):  # type: ignore[no-untyped-def]
    return make_plan(
        parse(text, path="Dockerfile"), build_args={}, platform=target, build_platform=AMD64
    )


def test_stages_that_do_not_depend_on_the_target_have_the_same_key() -> None:
    one, two = stage_keys(_plan(CROSS, AMD64)), stage_keys(_plan(CROSS, ARM64))
    assert one[0] == two[0]  # tools: $BUILDPLATFORM, reads no TARGET* arg
    assert one[1] != two[1]  # builder: declares TARGETARCH
    assert one[2] == two[2]  # more: on tools, the same
    assert one[3] != two[3]  # the final stage is the target's


def test_a_stage_on_a_per_target_stage_is_per_target() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM scratch AS a\nARG TARGETOS\nCOPY x /x-$TARGETOS\n"
        "FROM --platform=$BUILDPLATFORM a AS b\nCOPY x /y\n"
    )
    one, two = stage_keys(_plan(text, AMD64)), stage_keys(_plan(text, ARMV7))
    assert one[0] == two[0]  # TARGETOS is linux for both
    text = text.replace("TARGETOS", "TARGETVARIANT")
    one, two = stage_keys(_plan(text, AMD64)), stage_keys(_plan(text, ARMV7))
    assert one[0] != two[0] and one[1] != two[1]  # b is on a, which differs


def _binfmt(tmp_path: Path) -> Path:
    directory = tmp_path / "binfmt"
    directory.mkdir()
    (directory / "status").write_text("enabled\n")
    return directory


def test_a_foreign_run_without_a_handler_is_refused_naming_the_line(tmp_path: Path) -> None:
    plan = _plan("FROM scratch\nCOPY a /a\n\nRUN true\n", ARM64)
    with pytest.raises(BuildError) as info:
        require_emulation(plan, "Dockerfile", _binfmt(tmp_path))
    message = str(info.value)
    assert message.startswith(
        "Dockerfile:4: RUN for linux/arm64 on this linux/amd64 host: no binfmt_misc handler"
    ) or message.startswith("Dockerfile:4: RUN for linux/arm64 on this linux/arm64")
    assert "qemu-user-static" in message and "\n" not in message


def test_copy_only_and_native_stages_need_no_emulation(tmp_path: Path) -> None:
    directory = _binfmt(tmp_path)
    require_emulation(_plan("FROM scratch\nCOPY a /a\nENV A=1\n", ARM64), "D", directory)
    text = "FROM --platform=$BUILDPLATFORM scratch\nRUN true\n"
    if Platform.host().architecture == "amd64":
        require_emulation(_plan(text, ARM64), "D", directory)


def test_unreadable_binfmt_misc_warns_and_lets_the_kernel_decide(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plan = _plan("FROM scratch\nRUN true\n", Platform("linux", "s390x"))
    require_emulation(plan, "D", tmp_path / "not-mounted")
    assert "binfmt_misc cannot be read" in caplog.text


def test_the_index_is_a_docker_list_of_docker_images_else_oci() -> None:
    docker = [(scratch(AMD64), AMD64), (scratch(ARM64), ARM64)]
    index = platform_index(docker)
    assert index.media_type == mt.DOCKER_MANIFEST_LIST
    document = json.loads(index.raw_manifest())
    assert document["mediaType"] == mt.DOCKER_MANIFEST_LIST
    assert [m["platform"]["architecture"] for m in document["manifests"]] == ["amd64", "arm64"]
    mixed = [(scratch(AMD64), AMD64), (mutate.with_media_types(scratch(ARMV7), oci=True), ARMV7)]
    index = platform_index(mixed)
    assert index.media_type == mt.OCI_INDEX
    entries = json.loads(index.raw_manifest())["manifests"]
    assert {m["mediaType"] for m in entries} == {mt.OCI_MANIFEST}
    assert entries[1]["platform"] == {"architecture": "arm", "os": "linux", "variant": "v7"}


def _cross_build(tmp_path: Path, **options: object) -> BuildOptions:
    """The options of a two-platform build (amd64, arm64) of ``CROSS`` in ``tmp_path``."""
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "a").write_text("a\n")
    (ctx / "Dockerfile").write_text(CROSS)
    return BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        platform=AMD64,
        platforms=(AMD64, ARM64),
        kaniko_dir=str(tmp_path / "kaniko"),
        **options,  # type: ignore[arg-type]
    )


def test_a_two_platform_build_shares_build_platform_stages_and_writes_the_index(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``--jobs 1``: the platforms one after another, in plan order, shared stages once."""
    out = tmp_path / "out"
    options = _cross_build(
        tmp_path,
        jobs=1,
        output=OutputOptions(
            no_push=True,
            tar_path=str(out / "image.tar"),
            oci_layout_path=str(out / "layout"),
            digest_file=str(out / "digest"),
        ),
    )
    caplog.set_level(logging.INFO, logger="kaniko")
    result = build(options)
    assert result.index is not None and len(result.index.images()) == 2
    built = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Building stage")]
    assert [m.split(" for ")[0] for m in built] == [
        "Building stage 0 (tools)",
        "Building stage 1 (builder)",
        "Building stage 2 (more)",
        "Building stage 3",
        "Building stage 1 (builder)",
        "Building stage 3",
    ]
    assert (out / "digest").read_text() == str(result.digest)
    layout = json.loads((out / "layout" / "index.json").read_text())
    assert [m["digest"] for m in layout["manifests"]] == [str(result.digest)]
    with tarfile.open(out / "image.tar") as archive:
        names = set(archive.getnames())
        top = json.load(archive.extractfile("index.json"))  # type: ignore[arg-type]
    assert top["manifests"][0]["digest"] == str(result.digest)
    for image, arch in zip(result.index.images(), ("amd64", "arm64"), strict=True):
        assert f"blobs/sha256/{image.digest().hex}" in names
        assert image.config().architecture == arch
        files = _files(out / "layout", image)
        assert files == {
            "from-tools": b"a\n",
            "from-builder": b"a\n",
            "from-more": b"a\n",
        }


def _files(layout: Path, image) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The regular files of ``image``'s layers, read from the OCI layout it was written to
    (the build's spool is gone with its workspace)."""
    found = {}
    for desc in image.manifest().layers:
        blob = layout / "blobs" / "sha256" / desc.digest.hex
        with tarfile.open(blob, mode="r:*") as tar:
            for member in tar:
                if member.isfile():
                    data = tar.extractfile(member)
                    found[member.name.lstrip("./")] = data.read() if data else b""
    return found


INPLACE = """\
FROM --platform=$BUILDPLATFORM base AS tools
RUN echo tools > /tools
FROM base
ARG TARGETARCH
RUN echo $TARGETARCH > /arch
COPY --from=tools /tools /tools
"""


@pytest.mark.parametrize("jobs", [1, 2], ids=["jobs1", "jobs2"])
@pytest.mark.parametrize("inplace", [True, False], ids=["inplace", "chroot"])
def test_a_shared_stage_is_read_by_the_next_platform_after_it_left_the_root(
    tmp_path: Path,
    inplace: bool,
    jobs: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In place, the RUN stages of every platform take the root in turn: the shared stage
    is kept out of it (moved to the first platform's stages directory) before the second
    platform wipes it, and ``COPY --from`` there reads the kept tree. A directory stands
    in for ``/``; every reference is the host's busybox (the sharing is under test here,
    not emulation: tests/e2e/test_multiplatform.py runs arm64)."""
    monkeypatch.setattr(chroot, "_refused", None)
    caplog.set_level(logging.INFO, logger="kaniko")
    base = busybox_image(tmp_path / "base", Platform.host())
    bases = OneBase(base)
    ws = Workspace.create(str(tmp_path / "kaniko"))
    parts = stage_parts(ws)
    context = tmp_path / "context"
    context.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    turns = RootTurns()
    targets = []
    try:
        for target in (AMD64, ARM64):
            plan = make_plan(
                parse(INPLACE), build_args={}, platform=target, build_platform=AMD64, bases=bases
            )
            roots: DirectoryRoots
            if inplace:
                roots = InplaceBuild(
                    parts, plan, context=context, matcher=None, images=bases,
                    kaniko_dir=str(tmp_path / "kaniko"), root=root, mountinfo="",
                    stages_dir=tmp_path / "stages" / platform_name(target),
                )  # fmt: skip
                roots.turns = turns
            else:
                roots = DirectoryRoots(parts, context=context, matcher=None, images=bases)
            targets.append(Target(target, plan, roots))
        graph = PlatformGraph(targets, in_root if inplace else None)
        built = graph.build(bases, StageOptions(), lambda position, images: None, jobs=jobs)
        finals = [
            flatten_layers([Path(layer.path) for layer in images[t.plan.target_index].layers()])
            for images, t in zip(built, targets, strict=True)
        ]
    finally:
        for t in reversed(targets):
            t.roots.close()
        ws.remove()
    for tree, arch in zip(finals, ("amd64", "arm64"), strict=True):
        assert tree["/arch"].data == f"{arch}\n".encode()
        assert tree["/tools"].data == b"tools\n"
    assert caplog.text.count("Building stage 0 (tools)") == 1
    if inplace:
        assert "Kept stage 0 (tools) in" in caplog.text


def test_each_platform_gets_its_attestations_in_the_one_index(tmp_path: Path) -> None:
    """``--sbom``/``--provenance``: every platform's image, then every platform's
    attestation manifest naming its image, as BuildKit pushes them; the files get the
    platform before their extension."""
    out = tmp_path / "out"
    options = _cross_build(
        tmp_path,
        attest=AttestOptions(
            sbom="spdx",
            sbom_file=str(out / "sbom.spdx.json"),
            provenance="max",
            provenance_file=str(out / "provenance.json"),
        ),
        output=OutputOptions(no_push=True, oci_layout_path=str(out / "layout")),
    )
    result = build(options)
    layout = out / "layout"
    top = json.loads((layout / "index.json").read_text())["manifests"][0]
    assert top["digest"] == str(result.digest)
    index = json.loads((layout / "blobs" / "sha256" / result.digest.hex).read_bytes())
    assert index["mediaType"] == mt.OCI_INDEX
    entries = index["manifests"]
    assert [e["platform"]["architecture"] for e in entries] == [
        "amd64",
        "arm64",
        "unknown",
        "unknown",
    ]
    for image, attestation in zip(entries[:2], entries[2:], strict=True):
        assert image["mediaType"] == mt.OCI_MANIFEST
        annotations = attestation["annotations"]
        assert annotations["vnd.docker.reference.type"] == "attestation-manifest"
        assert annotations["vnd.docker.reference.digest"] == image["digest"]
    for name in ("linux-amd64", "linux-arm64"):
        sbom = json.loads((out / f"sbom.{name}.spdx.json").read_text())
        provenance = json.loads((out / f"provenance.{name}.json").read_text())
        assert sbom["predicateType"].startswith("https://spdx.dev/")
        subject = provenance["subject"][0]["digest"]["sha256"]
        arch = name.split("-")[1]
        wanted = next(e for e in entries if e["platform"]["architecture"] == arch)
        assert f"sha256:{subject}" == wanted["digest"]
    assert not (out / "sbom.spdx.json").exists()


def test_the_layer_cache_serves_each_platform_its_own_layers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With ``--cache`` every platform's steps have their own keys (the platform is in
    them): a second build takes each platform's layers from the cache, and a shared
    ``$BUILDPLATFORM`` stage's once."""
    caplog.set_level(logging.INFO, logger="kaniko")
    digests = []
    for run in ("first", "second"):
        caplog.clear()
        options = _cross_build(
            tmp_path,
            cache=CacheOptions(enabled=True, repo=f"oci:{tmp_path / 'cache'}", copy_layers=True),
            output=OutputOptions(no_push=True, reproducible=True),
        )
        digests.append(str(build(options).digest))
        hits = caplog.text.count("Using cached layer")
        misses = caplog.text.count("No cached layer")
        # COPY steps: tools 1 + more 1 (shared) + builder 1 and final 3 per platform = 10
        assert (hits, misses) == ((0, 10) if run == "first" else (10, 0)), run
    assert digests[0] == digests[1]
