"""The SBOM of a real Debian image against the package managers inside it.

One image FROM the lab's debootstrapped Debian: ``apt-get install python3-pip npm``, a
wheel the test makes installed with pip, and a ``node_modules`` tree laid out by the
test under ``/app``. One crun run prints what ``dpkg-query -W``, ``pip list`` and
``npm ls --all`` see; the SBOM must list exactly those packages and versions (Python
ones on the interpreter's ``sys.path``, npm ones under ``/app/node_modules``), and be a
valid SPDX 2.3 document.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from kaniko.executor.executor import build
from kaniko.options import AttestOptions, BuildOptions, OutputOptions
from tests.attest.helpers import assert_valid_spdx, read_pushed
from tests.lab.crun import run_image

pytestmark = pytest.mark.e2e

WHEEL = "kaniko_demo-1.0-py3-none-any.whl"
NODE_MODULES = {
    "ms": ("2.1.3", "MIT"),
    "debug": ("4.3.4", "MIT"),
    "debug/node_modules/ms": ("2.1.2", "MIT"),
    "@scope/util": ("1.0.0", "Apache-2.0"),
}
REPORT = (
    "dpkg-query -W -f '${Package}\\t${Version}\\n'; echo @@; "
    "python3 -m pip list --format=json; echo @@; "
    "python3 -c 'import json, sys; print(json.dumps(sys.path))'; echo @@; "
    "cd /app && npm ls --all --json"
)


def _wheel(path: Path) -> None:
    info = "kaniko_demo-1.0.dist-info"
    metadata = "Metadata-Version: 2.1\nName: kaniko-demo\nVersion: 1.0\nLicense: MIT\n"
    files = {
        "kaniko_demo/__init__.py": "VALUE = 1\n",
        f"{info}/METADATA": metadata,
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
        wheel.writestr(f"{info}/RECORD", record)


def _context(ctx: Path, base: str) -> None:
    _wheel(ctx / WHEEL)
    app = ctx / "app"
    deps = {"ms": "^2.1.3", "debug": "^4.3.4", "@scope/util": "1.0.0"}
    app.mkdir()
    (app / "package.json").write_text(
        json.dumps({"name": "app", "version": "1.0.0", "dependencies": deps})
    )
    for where, (version, license_id) in NODE_MODULES.items():
        folder = app / "node_modules" / where
        folder.mkdir(parents=True)
        name = where.rsplit("node_modules/", 1)[-1]
        doc = {"name": name, "version": version, "license": license_id}
        if name == "debug":
            doc["dependencies"] = {"ms": "2.1.2"}
        (folder / "package.json").write_text(json.dumps(doc))
    (ctx / "Dockerfile").write_text(
        f"FROM {base}\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends"
        " -o Dpkg::Options::=--force-unsafe-io python3-pip npm"
        " && rm -rf /var/lib/apt/lists/*\n"
        f"COPY {WHEEL} /tmp/\n"
        f"RUN pip install --break-system-packages --no-index /tmp/{WHEEL} && rm /tmp/{WHEEL}\n"
        "COPY app /app/\n"
    )


def _npm_tree(node: dict) -> set[tuple[str, str]]:
    found = set()
    for name, child in (node.get("dependencies") or {}).items():
        found.add((name, child["version"]))
        found |= _npm_tree(child)
    return found


def test_sbom_lists_what_dpkg_pip_and_npm_list(tmp_path, debian_image, registry_plain) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _context(ctx, debian_image)
    dest = f"{registry_plain.host}/attest/debian:1"
    build(
        BuildOptions(
            dockerfile=str(ctx / "Dockerfile"),
            context=str(ctx),
            output=OutputOptions(destinations=(dest,)),
            attest=AttestOptions(sbom="spdx"),
            kaniko_dir=str(tmp_path / "kaniko"),
        )
    )
    run = run_image(dest, ["sh", "-c", REPORT], timeout=300)
    assert run.returncode == 0, run.stderr
    dpkg_text, pip_text, path_text, npm_text = run.stdout.split("@@\n")
    pushed = read_pushed(registry_plain.url, registry_plain.host, "attest/debian", "1")
    sbom = pushed.statement("https://spdx.dev/Document")["predicate"]
    assert_valid_spdx(sbom)

    def listed(kind: str) -> list[dict]:
        return [p for p in sbom["packages"] if f"-{kind}-" in p["SPDXID"]]

    dpkg = {tuple(line.split("\t")) for line in dpkg_text.splitlines()}
    assert len(dpkg) > 100
    assert {(p["name"], p["versionInfo"]) for p in listed("deb")} == dpkg

    sys_path = [p for p in json.loads(path_text) if p]
    on_path = [
        p for p in listed("python")
        if p["sourceInfo"].rsplit(": ", 1)[-1].rsplit("/", 1)[0] in sys_path
    ]  # fmt: skip
    pip = {(d["name"].lower().replace("_", "-"), d["version"]) for d in json.loads(pip_text)}
    assert ("kaniko-demo", "1.0") in pip
    assert {(p["name"].lower().replace("_", "-"), p["versionInfo"]) for p in on_path} == pip

    npm = _npm_tree(json.loads(npm_text))
    in_app = [p for p in listed("npm") if "/app/node_modules/" in p["sourceInfo"]]
    assert (
        {(p["name"], p["versionInfo"]) for p in in_app}
        == npm
        == {
            (where.rsplit("node_modules/", 1)[-1], version)
            for where, (version, _) in NODE_MODULES.items()
        }
    )
    libc = next(p for p in listed("deb") if p["name"] == "libc6")
    purl = libc["externalRefs"][0]["referenceLocator"]
    assert purl.startswith("pkg:deb/debian/libc6@") and "distro=debian-12" in purl
    assert libc["licenseDeclared"] == "NOASSERTION"  # its copyright file is free text
    coreutils = next(p for p in listed("deb") if p["name"] == "coreutils")
    assert "GPL-3.0-or-later" in coreutils["licenseDeclared"]  # machine-readable copyright
