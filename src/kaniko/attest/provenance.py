"""SLSA provenance v1 predicates for a kaniko build (``--provenance``).

The predicate follows BuildKit's layout (docs/attestations/slsa-definitions.md in
moby/buildkit) under kaniko's own ``buildType`` (documented in docs/attestations.md):

* ``buildDefinition.externalParameters.configSource``: the Dockerfile path; for a local
  context the Dockerfile's digest, for a remote context the context's URL and digest;
* ``externalParameters.request``: ``frontend: dockerfile``, ``args`` (``target``,
  ``platform``; with ``mode=max`` also every ``build-arg:NAME`` and ``label:NAME``),
  ``locals`` (the local context and Dockerfile), and with ``mode=max`` the ids of the
  secret and ssh mounts (never their values);
* ``internalParameters``: ``builderPlatform``; with ``mode=max`` ``buildConfig``, the
  stages and their instructions as written;
* ``resolvedDependencies``: every base and ``COPY --from`` image as
  ``pkg:docker/...?platform=`` with the digest it resolved to, every ``ADD`` URL with the
  digest of what was downloaded, and the remote context;
* ``runDetails``: the builder (``id``, ``version``) and metadata: ``invocationId``,
  ``startedOn``, ``finishedOn`` and kaniko's completeness/hermetic/reproducible flags.

With ``--reproducible`` both times are the build's epoch and the invocation id is
derived from the other fields, so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from kaniko import __version__
from kaniko.attest.intoto import image_purl
from kaniko.attest.materials import Materials, without_credentials
from kaniko.oci.digest import Digest
from kaniko.oci.platform import Platform
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference

PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:kaniko:buildtype:dockerfile:v1"  # described in docs/attestations.md
DEFAULT_BUILDER_ID = "pkg:pypi/kaniko"
Mode = Literal["min", "max"]


@dataclass(frozen=True)
class StageRecord:
    """One built stage, for ``buildConfig`` (``mode=max``)."""

    name: str
    base: str
    platform: str
    instructions: tuple[str, ...]
    secrets: tuple[str, ...] = ()
    ssh: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildRecord:
    """What the provenance of one image says about its build."""

    dockerfile_path: str
    dockerfile_digest: Digest
    platform: Platform
    materials: Materials
    started: datetime
    finished: datetime
    target: str = ""
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    stages: Sequence[StageRecord] = ()
    runs_programs: bool = True
    reproducible: bool = False


def _time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest_set(digest: Digest) -> dict[str, str]:
    return {digest.algorithm: digest.hex}


def _image_uri(reference: str, platform: Platform | None) -> str:
    try:
        return image_purl(Reference.parse(reference), platform)
    except InvalidReferenceError:
        return reference


def resolved_dependencies(materials: Materials) -> list[dict[str, Any]]:
    deps: list[dict[str, Any]] = []
    if materials.context is not None:
        deps.append({"uri": materials.context.url, "digest": dict(materials.context.digest)})
    for image in materials.images:
        deps.append(
            {"uri": _image_uri(image.reference, image.platform),
             "digest": _digest_set(image.digest)}
        )  # fmt: skip
    for url in materials.urls:
        deps.append({"uri": url.url, "digest": _digest_set(url.digest)})
    return deps


def _request(record: BuildRecord, mode: Mode) -> dict[str, Any]:
    args: dict[str, str] = {"platform": str(record.platform)}
    if record.target:
        args["target"] = record.target
    if mode == "max":
        for name, value in record.build_args.items():
            args[f"build-arg:{name}"] = without_credentials(value)
        for name, value in record.labels.items():
            args[f"label:{name}"] = value
    request: dict[str, Any] = {"frontend": "dockerfile", "args": dict(sorted(args.items()))}
    if mode == "max":
        secrets = sorted({s for stage in record.stages for s in stage.secrets})
        ssh = sorted({s for stage in record.stages for s in stage.ssh})
        if secrets:
            request["secrets"] = [{"id": s} for s in secrets]
        if ssh:
            request["ssh"] = [{"id": s} for s in ssh]
    if record.materials.context is None:
        request["locals"] = [{"name": "context"}, {"name": "dockerfile"}]
    return request


def _config_source(record: BuildRecord) -> dict[str, Any]:
    context = record.materials.context
    if context is not None:
        return {"uri": context.url, "digest": dict(context.digest), "path": record.dockerfile_path}
    return {"path": record.dockerfile_path, "digest": _digest_set(record.dockerfile_digest)}


def _build_config(record: BuildRecord) -> dict[str, Any]:
    return {
        "stages": [
            {"name": s.name, "base": s.base, "platform": s.platform,
             "instructions": list(s.instructions)}
            for s in record.stages
        ]
    }  # fmt: skip


def provenance_predicate(
    record: BuildRecord,
    *,
    mode: Mode = "min",
    builder_id: str = DEFAULT_BUILDER_ID,
    builder_platform: Platform | None = None,
) -> dict[str, Any]:
    """The SLSA provenance v1 predicate (a JSON-ready dict) of the build ``record`` tells."""
    internal: dict[str, Any] = {"builderPlatform": str(builder_platform or Platform.host())}
    if mode == "max":
        internal["buildConfig"] = _build_config(record)
    definition = {
        "buildType": BUILD_TYPE,
        "externalParameters": {
            "configSource": _config_source(record),
            "request": _request(record, mode),
        },
        "internalParameters": internal,
        "resolvedDependencies": resolved_dependencies(record.materials),
    }
    hermetic = not record.runs_programs and not record.materials.urls
    metadata: dict[str, Any] = {
        "invocationId": "",
        "startedOn": _time(record.started),
        "finishedOn": _time(record.finished),
        "kaniko_completeness": {
            "request": mode == "max",
            "resolvedDependencies": record.materials.context is not None,
        },
        "kaniko_hermetic": hermetic,
        "kaniko_reproducible": record.reproducible,
    }
    predicate = {
        "buildDefinition": definition,
        "runDetails": {
            "builder": {"id": builder_id, "version": {"kaniko": __version__}},
            "metadata": metadata,
        },
    }
    if record.reproducible:
        seed = json.dumps(predicate, sort_keys=True).encode()
        metadata["invocationId"] = str(uuid.UUID(hashlib.sha256(seed).hexdigest()[:32]))
    else:
        metadata["invocationId"] = str(uuid.uuid4())
    return predicate
