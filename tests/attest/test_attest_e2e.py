"""Builds with --sbom and --provenance, read back by skopeo, HTTP, umoci and crun.

A busybox image with a Python distribution, an npm package and a Java archive in it
(laid out by the test), built FROM the lab's busybox and pushed: the tag must name an
OCI index of the image and one attestation manifest in BuildKit's layout, whose
statements' subject is the image manifest and whose provenance lists the base image by
the digest the registry serves. The image still runs under crun.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from kaniko.executor.executor import build
from kaniko.options import AttestOptions, BuildOptions, OutputOptions
from tests.attest.helpers import (
    assert_valid_cyclonedx,
    assert_valid_spdx,
    raw_manifest,
    read_pushed,
    sha256,
)
from tests.lab.crun import run_image

pytestmark = pytest.mark.e2e

SPDX = "https://spdx.dev/Document"
CDX = "https://cyclonedx.org/bom"
SLSA = "https://slsa.dev/provenance/v1"


def _context(ctx: Path, base: str) -> None:
    site = ctx / "site" / "demo_pkg-1.2.3.dist-info"
    site.mkdir(parents=True)
    (site / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.2.3\nLicense: MIT\n"
    )
    module = ctx / "app" / "node_modules" / "@scope" / "thing"
    module.mkdir(parents=True)
    (module / "package.json").write_text(
        json.dumps({"name": "@scope/thing", "version": "0.4.0", "license": "ISC"})
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as jar:
        jar.writestr(
            "META-INF/maven/org.example/lib/pom.properties",
            "groupId=org.example\nartifactId=lib\nversion=2.0\n",
        )
    (ctx / "lib.jar").write_bytes(buffer.getvalue())
    (ctx / "Dockerfile").write_text(
        f"FROM {base}\n"
        "ARG GREETING=hello\n"
        "COPY site /usr/lib/python3/dist-packages/\n"
        "COPY app /app/\n"
        "COPY lib.jar /opt/lib.jar\n"
        'RUN echo "$GREETING" > /greeting\n'
        'CMD ["cat", "/greeting"]\n'
    )


def _build(ctx: Path, dest: str, attest: AttestOptions, **out: object) -> object:
    return build(
        BuildOptions(
            dockerfile=str(ctx / "Dockerfile"),
            context=str(ctx),
            build_args=(("GREETING", "hi from a build arg"),),
            output=OutputOptions(destinations=(dest,), **out),  # type: ignore[arg-type]
            attest=attest,
            kaniko_dir=str(ctx.parent / "kaniko"),
        )
    )


def test_pushed_index_holds_the_image_and_its_attestations(
    tmp_path, base_images, registry_plain
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _context(ctx, base_images["busybox"])
    dest = f"{registry_plain.host}/attest/busybox:1"
    layout, tar = tmp_path / "layout", tmp_path / "image.tar"
    sbom_file, prov_file = tmp_path / "sbom.spdx.json", tmp_path / "provenance.json"
    result = _build(
        ctx,
        dest,
        AttestOptions(
            sbom="spdx",
            provenance="max",
            sbom_file=str(sbom_file),
            provenance_file=str(prov_file),
        ),
        oci_layout_path=str(layout),
        tar_path=str(tar),
        digest_file=str(tmp_path / "digest"),
    )
    pushed = read_pushed(registry_plain.url, registry_plain.host, "attest/busybox", "1")
    image_digest = pushed.image_entry["digest"]
    assert (tmp_path / "digest").read_text() == sha256(raw_manifest(dest))
    assert str(result.digest) == sha256(raw_manifest(dest))

    # BuildKit's layout: the descriptor, the manifest, the layers.
    entry = pushed.attestation_entry
    assert entry["platform"] == {"architecture": "unknown", "os": "unknown"}
    assert entry["annotations"] == {
        "vnd.docker.reference.digest": image_digest,
        "vnd.docker.reference.type": "attestation-manifest",
    }
    assert pushed.index["manifests"][-1] == entry  # attestations after the images
    att = pushed.attestation
    assert att["artifactType"] == "application/vnd.docker.attestation.manifest.v1+json"
    assert att["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert att["subject"]["digest"] == image_digest
    assert [layer["mediaType"] for layer in att["layers"]] == ["application/vnd.in-toto+json"] * 2
    assert [layer["annotations"]["in-toto.io/predicate-type"] for layer in att["layers"]] == [
        SPDX,
        SLSA,
    ]
    for statement, layer in zip(pushed.statements, att["layers"], strict=True):
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
        assert statement["predicateType"] == layer["annotations"]["in-toto.io/predicate-type"]
        assert statement["subject"] == [
            {
                "name": "pkg:docker/" + f"{registry_plain.host}/attest/busybox@1"
                + "?platform=" + pushed.image_entry["platform"]["os"] + "%2F"
                + pushed.image_entry["platform"]["architecture"],
                "digest": {"sha256": image_digest.removeprefix("sha256:")},
            }
        ]  # fmt: skip

    # The SBOM: valid SPDX 2.3 listing what the test put in the image.
    sbom = pushed.statement(SPDX)["predicate"]
    assert_valid_spdx(sbom)
    purls = {
        ref["referenceLocator"]
        for package in sbom["packages"]
        for ref in package.get("externalRefs", [])
    }
    assert purls == {
        "pkg:pypi/demo-pkg@1.2.3",
        "pkg:npm/%40scope/thing@0.4.0",
        "pkg:maven/org.example/lib@2.0",
    }
    licenses = {p["name"]: p["licenseDeclared"] for p in sbom["packages"]}
    assert licenses["demo_pkg"] == "MIT" and licenses["@scope/thing"] == "ISC"

    # The provenance: the base by the digest the registry serves, the invocation.
    provenance = pushed.statement(SLSA)["predicate"]
    base_digest = sha256(raw_manifest(base_images["busybox"]))
    deps = provenance["buildDefinition"]["resolvedDependencies"]
    assert [d["digest"] for d in deps] == [{"sha256": base_digest.removeprefix("sha256:")}]
    assert deps[0]["uri"].startswith(f"pkg:docker/{registry_plain.host}/library/busybox@latest")
    external = provenance["buildDefinition"]["externalParameters"]
    dockerfile = (ctx / "Dockerfile").read_bytes()
    assert external["configSource"] == {
        "path": "Dockerfile",
        "digest": {"sha256": sha256(dockerfile).removeprefix("sha256:")},
    }
    assert external["request"]["args"]["build-arg:GREETING"] == "hi from a build arg"
    assert provenance["runDetails"]["builder"]["version"]["kaniko"]

    # The same statements on disk, in the OCI layout and in the tarball.
    assert sbom_file.read_bytes() == pushed.raw_statements[0]
    assert prov_file.read_bytes() == pushed.raw_statements[1]
    layout_index = json.loads((layout / "index.json").read_text())
    top = layout_index["manifests"][0]
    assert top["digest"] == sha256(raw_manifest(dest))
    nested = (layout / "blobs" / "sha256" / top["digest"].removeprefix("sha256:")).read_bytes()
    assert nested == raw_manifest(dest)
    for layer in att["layers"]:
        assert (layout / "blobs" / "sha256" / layer["digest"].removeprefix("sha256:")).exists()
    with tarfile.open(tar) as archive:
        names = set(archive.getnames())
        load = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert {"oci-layout", "index.json", "manifest.json"} <= names
    assert load[0]["RepoTags"] == [dest]
    assert all(f"blobs/sha256/{layer['digest'][7:]}" in names for layer in att["layers"])

    # The image still runs.
    run = run_image(dest)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "hi from a build arg\n"


def test_cyclonedx_and_reproducible_give_the_same_bytes(
    tmp_path, base_images, registry_plain
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _context(ctx, base_images["busybox"])
    dest = f"{registry_plain.host}/attest/repro:1"
    attest = AttestOptions(sbom="cyclonedx", provenance="min")
    first = _build(ctx, dest, attest, reproducible=True)
    raw_first = raw_manifest(dest)
    (ctx / "lib.jar").touch()
    second = _build(ctx, dest, attest, reproducible=True)
    assert first.digest == second.digest  # type: ignore[attr-defined]
    assert raw_manifest(dest) == raw_first
    pushed = read_pushed(registry_plain.url, registry_plain.host, "attest/repro", "1")
    bom = pushed.statement(CDX)["predicate"]
    assert_valid_cyclonedx(bom)
    assert bom["metadata"]["timestamp"] == "1970-01-01T00:00:00Z"
    assert {c["purl"] for c in bom["components"]} == {
        "pkg:pypi/demo-pkg@1.2.3",
        "pkg:npm/%40scope/thing@0.4.0",
        "pkg:maven/org.example/lib@2.0",
    }
    provenance = pushed.statement(SLSA)["predicate"]
    args = provenance["buildDefinition"]["externalParameters"]["request"]["args"]
    assert not any(k.startswith("build-arg:") for k in args)  # mode=min: no values
    metadata = provenance["runDetails"]["metadata"]
    assert metadata["startedOn"] == metadata["finishedOn"] == "1970-01-01T00:00:00Z"


def test_scan_stages_and_a_final_stage_that_never_extracted(
    tmp_path, base_images, registry_plain
) -> None:
    """The final stage has metadata steps only: its root is extracted from its layers for
    the scan. ``--sbom-scan-stages`` adds the SBOM of the build stage."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _context(ctx, base_images["busybox"])
    (ctx / "Dockerfile").write_text(
        f"FROM {base_images['busybox']} AS tools\n"
        "COPY site /usr/lib/python3/dist-packages/\n"
        "FROM tools AS final\n"
        "LABEL stage=final\n"
    )
    dest = f"{registry_plain.host}/attest/stages:1"
    sbom_file = tmp_path / "out" / "sbom.spdx.json"
    _build(ctx, dest, AttestOptions(sbom="spdx", sbom_scan_stages=True, sbom_file=str(sbom_file)))
    pushed = read_pushed(registry_plain.url, registry_plain.host, "attest/stages", "1")
    documents = [s["predicate"] for s in pushed.statements]
    assert [d["name"] for d in documents] == [dest, "stage tools"]
    for document in documents:
        assert_valid_spdx(document)
        names = {p["name"] for p in document["packages"]} - {document["name"]}
        assert names == {"demo_pkg"}
    assert sbom_file.read_bytes() == pushed.raw_statements[0]
    assert (tmp_path / "out" / "sbom.tools.spdx.json").read_bytes() == pushed.raw_statements[1]


def test_an_unwritable_sbom_file_is_one_clear_error(tmp_path, base_images, registry_plain) -> None:
    from kaniko.errors import FilesystemError

    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _context(ctx, base_images["busybox"])
    (tmp_path / "a-file").write_text("x")
    target = tmp_path / "a-file" / "sbom.json"
    with pytest.raises(FilesystemError) as caught:
        _build(
            ctx,
            f"{registry_plain.host}/attest/badfile:1",
            AttestOptions(sbom="spdx", sbom_file=str(target)),
        )
    message = str(caught.value)
    assert str(target) in message and "\n" not in message
    assert not list(tmp_path.glob("a-file*/*"))  # nothing half-written
