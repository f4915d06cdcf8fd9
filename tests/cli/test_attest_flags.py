"""--sbom, --provenance and their companions on the command line."""

from __future__ import annotations

import pytest

from kaniko.errors import UsageError
from kaniko.options import AttestOptions
from tests.cli.helpers import options


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], AttestOptions()),
        (["--sbom"], AttestOptions(sbom="spdx")),
        (["--sbom=true"], AttestOptions(sbom="spdx")),
        (["--sbom=false"], AttestOptions()),
        (["--sbom=cyclonedx", "--sbom-scan-stages"],
         AttestOptions(sbom="cyclonedx", sbom_scan_stages=True)),
        (["--sbom", "--sbom-file", "/out/sbom.json"],
         AttestOptions(sbom="spdx", sbom_file="/out/sbom.json")),
        (["--provenance"], AttestOptions(provenance="min")),
        (["--provenance=max"], AttestOptions(provenance="max")),
        (["--provenance=mode=max,builder-id=https://ci.example/run/1"],
         AttestOptions(provenance="max", builder_id="https://ci.example/run/1")),
        (["--provenance", "--provenance-file=/p.json"],
         AttestOptions(provenance="min", provenance_file="/p.json")),
    ],
)  # fmt: skip
def test_attest_flags(argv, expected) -> None:
    assert options(["--no-push", *argv]).attest == expected


def test_a_bare_optional_flag_does_not_take_the_next_word() -> None:
    opts = options(["--sbom", "--no-push"])
    assert opts.attest.sbom == "spdx" and opts.output.no_push


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sbom=xml"], 'invalid argument "xml" for "--sbom" flag'),
        (["--provenance=mode=all"], 'invalid argument "all" for "--provenance" flag'),
        (["--provenance=secrets=yes"], '"--provenance" flag'),
        (["--sbom-file=/x"], "--sbom-file needs --sbom"),
        (["--sbom-scan-stages"], "--sbom-scan-stages needs --sbom"),
        (["--provenance-file=/x"], "--provenance-file needs --provenance"),
    ],
)
def test_attest_flag_errors(argv, message) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        options(["--no-push", *argv])
