"""SBOM documents, licenses, in-toto statements and provenance predicates, in memory."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from kaniko.attest.cyclonedx import cyclonedx_document
from kaniko.attest.document import DocumentInfo
from kaniko.attest.intoto import image_purl, statement, subjects
from kaniko.attest.licenses import normalize
from kaniko.attest.materials import (
    Materials,
    collecting,
    report_context,
    report_image,
    report_url,
)
from kaniko.attest.packages import Package
from kaniko.attest.provenance import BuildRecord, StageRecord, provenance_predicate
from kaniko.attest.spdx import spdx_document
from kaniko.oci.digest import Digest
from kaniko.oci.platform import Platform
from kaniko.refs.reference import Reference
from tests.attest.helpers import assert_valid_cyclonedx, assert_valid_spdx

EPOCH = datetime.fromtimestamp(0, UTC)
D1 = Digest.of(b"one")
PACKAGES = [
    Package("bash", "5.2-1", "deb", "pkg:deb/debian/bash@5.2-1?arch=amd64", ("GPL-3+",),
            ("/var/lib/dpkg/status",), "Matthias <m@example.org>", "shell",
            "https://www.gnu.org/software/bash/", "dpkg status database"),
    Package("odd", "1", "python", "pkg:pypi/odd@1", ("GPL-2+ with OpenSSL exception",
            "public-domain"), ("/x/odd-1.dist-info",), found_by="python package metadata"),
    Package("plain", "2", "npm", "pkg:npm/plain@2", (), ("/n/node_modules/plain/package.json",)),
    Package("either", "3", "npm", "pkg:npm/either@3", ("(MIT OR Apache-2.0)",), ("/n",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("declared", "expression"),
    [
        (["GPL-2+"], "GPL-2.0-or-later"),
        (["GPL-2"], "GPL-2.0-only"),
        (["LGPL-2.1+ and GPL-2+"], "LGPL-2.1-or-later AND GPL-2.0-or-later"),
        (["GPL-2+ or Artistic"], "GPL-2.0-or-later OR Artistic-1.0-Perl"),
        (["Expat"], "MIT"),
        (["BSD-3-clause", "Zlib"], "BSD-3-Clause AND Zlib"),
        (["GPL-2.0+"], "GPL-2.0-or-later"),
        (["MIT License"], "MIT"),
        (["public-domain"], "LicenseRef-public-domain"),
        (["GPL-3+ with Bison exception"], "LicenseRef-GPL-3-plus-with-Bison-exception"),
        (["GPL-2.0-or-later WITH Classpath-exception-2.0"],
         "GPL-2.0-or-later WITH Classpath-exception-2.0"),
    ],
)  # fmt: skip
def test_licenses_become_spdx_expressions(declared, expression) -> None:
    found = normalize(declared)
    assert found is not None and found.expression == expression
    assert all(ref.startswith("LicenseRef-") for ref, _ in found.refs)


def test_spdx_document_is_valid_and_reproducible() -> None:
    info = DocumentInfo("registry.example/app:1", EPOCH, reproducible=True)
    document = spdx_document(PACKAGES, info)
    assert_valid_spdx(document)
    assert document == spdx_document(PACKAGES, info)  # same inputs, same document
    assert document["creationInfo"]["created"] == "1970-01-01T00:00:00Z"
    refs = {r["licenseId"]: r["extractedText"] for r in document["hasExtractedLicensingInfos"]}
    assert refs == {
        "LicenseRef-GPL-2-plus-with-OpenSSL-exception": "GPL-2+ with OpenSSL exception",
        "LicenseRef-public-domain": "public-domain",
    }
    bash = next(p for p in document["packages"] if p["name"] == "bash")
    assert bash["licenseDeclared"] == "GPL-3.0-or-later"
    assert bash["supplier"] == "Person: Matthias (m@example.org)"
    other = spdx_document(PACKAGES[:1], info)["documentNamespace"]
    assert other != document["documentNamespace"]
    fresh = DocumentInfo("x", EPOCH)
    assert (
        spdx_document(PACKAGES, fresh)["documentNamespace"]
        != (spdx_document(PACKAGES, fresh)["documentNamespace"])
    )  # without --reproducible: unique per document


def test_cyclonedx_document_is_valid() -> None:
    document = cyclonedx_document(PACKAGES, DocumentInfo("app", EPOCH, reproducible=True))
    assert_valid_cyclonedx(document)
    by_name = {c["name"]: c for c in document["components"]}
    assert by_name["bash"]["licenses"] == [{"license": {"id": "GPL-3.0-or-later"}}]
    assert by_name["either"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert "licenses" not in by_name["plain"]


def test_image_purls_follow_buildkit() -> None:
    linux = Platform("linux", "amd64")
    assert image_purl(Reference.parse("alpine:3.17"), linux) == (
        "pkg:docker/alpine@3.17?platform=linux%2Famd64"
    )
    assert image_purl(Reference.parse("ghcr.io/me/app"), None) == "pkg:docker/ghcr.io/me/app@latest"
    pinned = Reference.parse(f"me/app@{D1}")
    assert image_purl(pinned, None) == f"pkg:docker/me/app?digest={str(D1).replace(':', '%3A')}"


def test_statement_embeds_the_predicate_bytes() -> None:
    about = subjects(D1, [], None)
    data = statement("https://example/p", b'{"a":1}', about)
    assert json.loads(data) == {
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://example/p",
        "subject": [{"name": "_", "digest": {"sha256": D1.hex}}],
        "predicate": {"a": 1},
    }


def _record(materials: Materials, **kw: object) -> BuildRecord:
    return BuildRecord(
        dockerfile_path="Dockerfile",
        dockerfile_digest=D1,
        platform=Platform("linux", "arm64"),
        materials=materials,
        started=EPOCH,
        finished=EPOCH,
        build_args={"VERSION": "1.2"},
        labels={"team": "a"},
        stages=(StageRecord("build", "alpine", "linux/arm64", ("RUN make",), ("token",)),),
        **kw,  # type: ignore[arg-type]
    )


def test_provenance_modes_and_materials() -> None:
    materials = Materials()
    with collecting(materials):
        report_image("alpine:3.19", D1, Platform("linux", "arm64"))
        report_image("alpine:3.19", D1, Platform("linux", "arm64"))  # reported twice
        report_url("https://user:pw@example.org/f.tgz", Digest.of(b"f"))
    report_url("https://example.org/after", D1)  # outside the build: not recorded
    minimal = provenance_predicate(_record(materials), mode="min")
    definition = minimal["buildDefinition"]
    assert definition["resolvedDependencies"] == [
        {"uri": "pkg:docker/alpine@3.19?platform=linux%2Farm64", "digest": {"sha256": D1.hex}},
        {"uri": "https://example.org/f.tgz", "digest": {"sha256": Digest.of(b"f").hex}},
    ]
    assert definition["externalParameters"]["configSource"] == {
        "path": "Dockerfile",
        "digest": {"sha256": D1.hex},
    }
    request = definition["externalParameters"]["request"]
    assert request["args"] == {"platform": "linux/arm64"}
    assert "buildConfig" not in definition["internalParameters"]
    full = provenance_predicate(_record(materials, target="build"), mode="max", builder_id="b")
    request = full["buildDefinition"]["externalParameters"]["request"]
    assert request["args"] == {
        "build-arg:VERSION": "1.2",
        "label:team": "a",
        "platform": "linux/arm64",
        "target": "build",
    }
    assert request["secrets"] == [{"id": "token"}]
    assert full["runDetails"]["builder"]["id"] == "b"
    stages = full["buildDefinition"]["internalParameters"]["buildConfig"]["stages"]
    assert stages[0]["instructions"] == ["RUN make"]


def test_reproducible_provenance_pins_the_varying_fields() -> None:
    materials = Materials()
    with collecting(materials):
        report_context("https://git.example/repo.git#main", {"sha1": "a" * 40})
    one = provenance_predicate(_record(materials, reproducible=True))
    two = provenance_predicate(_record(materials, reproducible=True))
    assert one == two
    assert one["runDetails"]["metadata"]["invocationId"]
    source = one["buildDefinition"]["externalParameters"]["configSource"]
    assert source == {"uri": "https://git.example/repo.git#main", "digest": {"sha1": "a" * 40},
                      "path": "Dockerfile"}  # fmt: skip
    assert one["runDetails"]["metadata"]["kaniko_completeness"]["resolvedDependencies"]
    varying = provenance_predicate(_record(materials))
    assert (
        varying["runDetails"]["metadata"]["invocationId"]
        != (provenance_predicate(_record(materials))["runDetails"]["metadata"]["invocationId"])
    )


def test_add_url_downloads_are_recorded_with_their_digest(tmp_path) -> None:
    import httpx

    from kaniko.executor.steps.fetch import download

    body = b"downloaded bytes"
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    )
    materials = Materials()
    with collecting(materials):
        download("https://u:p@files.example/a.tgz", str(tmp_path / "a"), client=client)
    assert [(m.url, m.digest) for m in materials.urls] == [
        ("https://files.example/a.tgz", Digest.of(body))
    ]
