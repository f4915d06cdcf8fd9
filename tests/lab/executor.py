"""The executor image built on the host, shared by the image tests and the pod tests.

``deploy/Dockerfile`` is built by kaniko with ``--reproducible`` (its builder stage FROM
the lab's Debian), so that the self-hosting pod test can ask for the same digest from a
build inside the pod. Its context is a snapshot of what the Dockerfile reads from the
repository, taken once, so both builds read the same bytes even if the working tree
changes meanwhile. The first xdist worker builds it into an OCI layout in the directory
the workers share, behind a lock; every other worker pushes that layout's bytes to its
own registry, so every worker runs the same digest. The CA certificates this machine added
(``/usr/local/share/ca-certificates``) are passed to the builder's pip as
``EXTRA_CA_CERTS``, for networks that intercept TLS; they never reach the image.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx

from kaniko.executor.executor import build
from kaniko.options import BuildOptions, OutputOptions
from tests.lab.images import BuiltImage, push_raw
from tests.lab.registry import Registry

REPO = Path(__file__).resolve().parents[2]
CONTEXT_ENTRIES = ("pyproject.toml", "README.md", "src", "deploy")
"""What ``deploy/Dockerfile`` may read from the repository (its .dockerignore is stricter)."""


def extra_ca_certs() -> str:
    """The CA certificates this machine added (for networks that intercept TLS)."""
    found = sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt"))
    return "".join(path.read_text() for path in found)


def executor_build_args(debian_image: str) -> tuple[tuple[str, str], ...]:
    return (("BUILDER_BASE", debian_image), ("EXTRA_CA_CERTS", extra_ca_certs()))


@dataclass(frozen=True)
class ExecutorImage:
    """The executor image the pod runs: its reference, manifest digest and build context."""

    ref: str
    digest: str
    context: Path


def snapshot_context(target: Path) -> Path:
    """Copy what ``deploy/Dockerfile`` reads from the repository into ``target``."""
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    target.mkdir()
    for name in CONTEXT_ENTRIES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=skip)
        else:
            shutil.copy2(source, target / name)
    return target


def build_executor_image(
    registry_plain: Registry, debian_image: str, tmp_path_factory
) -> ExecutorImage:
    """Build (first worker) or push (the others) the reproducible executor image."""
    repo_name, tag = "kaniko/executor", "reproducible"
    reference = f"{registry_plain.host}/{repo_name}:{tag}"
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    layout, context = shared / "pod-executor-layout", shared / "pod-executor-context"
    with open(shared / "pod-executor.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (layout / "index.json").exists():
            shutil.rmtree(context, ignore_errors=True)
            snapshot_context(context)
            options = BuildOptions(
                dockerfile=str(context / "deploy" / "Dockerfile"),
                context=str(context),
                build_args=executor_build_args(debian_image),
                output=OutputOptions(
                    destinations=(reference,), oci_layout_path=str(layout), reproducible=True
                ),
            )
            return ExecutorImage(reference, str(build(options).digest), context)
    descriptor = json.loads((layout / "index.json").read_text())["manifests"][-1]

    def blob(digest: str) -> bytes:
        return (layout / "blobs" / Path(*digest.split(":", 1))).read_bytes()

    manifest = blob(descriptor["digest"])
    document = json.loads(manifest)
    digests = [document["config"]["digest"], *(layer["digest"] for layer in document["layers"])]
    image = BuiltImage(manifest, descriptor["mediaType"], {d: blob(d) for d in digests})
    with httpx.Client(timeout=120) as client:
        push_raw(client, registry_plain.url, repo_name, tag, image)
    return ExecutorImage(reference, descriptor["digest"], context)
