"""``--sbom`` and ``--provenance``: the final image becomes an index with its attestations.

After the last stage is built (and before the workspace goes), :func:`attest` turns the
final image into what BuildKit pushes: an OCI index of the image (OCI media types, which
attestations need) and one attestation manifest holding in-toto statements, an SBOM
(SPDX by default, CycloneDX on request), one more SBOM per intermediate stage with
``--sbom-scan-stages``, and the SLSA provenance.

What a stage's SBOM reads (:func:`stage_tree`):

* a chroot build scans the stage's root directory as it was after its last step;
* an in-place build whose stage still holds ``/`` scans ``/`` minus the build's ignore
  list (``/proc``, ``/sys``, ``/kaniko``, mount points, ``VOLUME`` paths …), which is
  also what its snapshots saw, and leaves ``/`` as it is;
* a stage that never extracted a root (only metadata steps, or its root was given up
  in an in-place build) is extracted into the workspace once, from its image's layers,
  with the same whiteout rules as any extraction, and scanned there. Extraction is the
  one path that reads layers with whiteouts right; a second, in-memory flattener would
  be a twin to keep in step with it.

``--sbom-file`` and ``--provenance-file`` get, once the image is out, the same statement
bytes the attestation manifest holds (as BuildKit's local exporter writes ``sbom.spdx.json`` and
``provenance.json``); with ``--sbom-scan-stages`` each stage's statement goes beside the
SBOM file as ``<name>.<stage>.<ext>``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from kaniko.attest import cyclonedx, intoto, spdx
from kaniko.attest.document import DocumentInfo, dumps
from kaniko.attest.manifest import attestation_entry
from kaniko.attest.materials import Materials, without_credentials
from kaniko.attest.provenance import (
    DEFAULT_BUILDER_ID,
    BuildRecord,
    StageRecord,
    provenance_predicate,
)
from kaniko.attest.provenance import (
    PREDICATE_TYPE as PROVENANCE_TYPE,
)
from kaniko.attest.scan import scan
from kaniko.attest.tree import RootTree
from kaniko.dockerfile.commands import Run
from kaniko.errors import FilesystemError
from kaniko.executor.stage import StageRoots
from kaniko.executor.workspace import Extractor
from kaniko.fs.atomic import write_atomic
from kaniko.images import mutate
from kaniko.images.index import ImageIndex, image_entry, make_index
from kaniko.oci import mediatypes as mt
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image
from kaniko.options import AttestOptions
from kaniko.plan import BuildPlan, Stage
from kaniko.redact import redact
from kaniko.refs.reference import Reference

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attested:
    """The index to write instead of the image, and the statement files to write after."""

    index: ImageIndex
    files: tuple[tuple[str, bytes], ...] = ()

    def write_files(self) -> None:
        """``--sbom-file`` and ``--provenance-file``, once the image is out."""
        for path, data in self.files:
            try:
                write_atomic(path, data)
            except OSError as exc:
                raise FilesystemError(f"cannot write {path}: {exc.strerror or exc}") from None
            log.info("Wrote %s", path)


@dataclass(frozen=True)
class BuildFacts:
    """What the provenance needs to know about the build, gathered by the executor."""

    dockerfile_path: str
    dockerfile_bytes: bytes
    build_args: Mapping[str, str | None]  # None: the value came from the environment
    labels: Mapping[str, str]
    target: str
    materials: Materials
    started: datetime
    finished: datetime
    reproducible: bool


def stage_tree(stage: Stage, image: Image, roots: StageRoots, extractor: Extractor) -> RootTree:
    """The root filesystem to scan for ``stage`` (see the module docs)."""
    found = roots.where(stage.index)
    if found is not None:
        return RootTree(*found)
    root = extractor.workspace.new_root(f"scan-{stage.index}")
    extractor.extract(image, root)
    return RootTree(root, extractor.ignore_list(root).ignored_rel)


def _stage_name(stage: Stage) -> str:
    return stage.name or str(stage.index)


def _sbom_statement(
    fmt: str,
    tree: RootTree,
    name: str,
    when: datetime,
    reproducible: bool,
    about: Sequence[intoto.Subject],
) -> tuple[str, bytes, int]:
    result = scan(tree)
    info = DocumentInfo(name, when, reproducible)
    if fmt == "cyclonedx":
        body, kind = cyclonedx.cyclonedx_json(result.packages, info), cyclonedx.PREDICATE_TYPE
    else:
        body, kind = spdx.spdx_json(result.packages, info), spdx.PREDICATE_TYPE
    return kind, intoto.statement(kind, body, about), len(result.packages)


def build_record(plan: BuildPlan, facts: BuildFacts) -> BuildRecord:
    """The provenance's view of the build (build-arg values from the environment left out)."""
    args = {}
    for name, value in facts.build_args.items():
        if value is None:
            log.debug("provenance: --build-arg %s came from the environment: value left out", name)
            continue
        args[name] = redact(without_credentials(value))
    stages = []
    for stage in plan.stages:
        mounts = [
            m for s in stage.steps if isinstance(s.instruction, Run) for m in s.instruction.mounts
        ]
        stages.append(
            StageRecord(
                name=_stage_name(stage),
                base=stage.base if isinstance(stage.base, str) else f"stage {stage.base}",
                platform=str(stage.platform),
                instructions=tuple(redact(s.instruction.original) for s in stage.steps),
                secrets=tuple(sorted({m.id for m in mounts if m.type == "secret" and m.id})),
                ssh=tuple(sorted({m.id or "default" for m in mounts if m.type == "ssh"})),
            )
        )
    return BuildRecord(
        dockerfile_path=facts.dockerfile_path,
        dockerfile_digest=Digest.of(facts.dockerfile_bytes),
        platform=plan.target.platform,
        materials=facts.materials,
        started=facts.started,
        finished=facts.finished,
        target=facts.target,
        build_args=dict(sorted(args.items())),
        labels=dict(sorted(facts.labels.items())),
        stages=tuple(stages),
        runs_programs=any(isinstance(s.instruction, Run) for st in plan.stages for s in st.steps),
        reproducible=facts.reproducible,
    )


def side_file(path: str, stage: str) -> str:
    """``path`` with ``stage`` before its extension (``sbom.spdx.json`` →
    ``sbom.<stage>.spdx.json``): a stage's or a platform's own file."""
    base, ext = os.path.splitext(path)
    if base.endswith(".spdx") or base.endswith(".cdx"):
        base, inner = os.path.splitext(base)
        ext = inner + ext
    return f"{base}.{stage}{ext}"


def attest(
    opts: AttestOptions,
    plan: BuildPlan,
    final: Image,
    images: Mapping[int, Image],
    roots: StageRoots,
    extractor: Extractor,
    destinations: Sequence[Reference],
    facts: BuildFacts,
) -> Attested:
    """The index of ``final`` (converted to OCI media types) and its attestations."""
    if final.media_type != mt.OCI_MANIFEST:
        final = mutate.with_media_types(final, oci=True)  # attestations need an OCI index
    target = plan.target
    entry = image_entry(final, target.platform)
    about = intoto.subjects(final.digest(), destinations, target.platform)
    statements: list[tuple[str, bytes]] = []
    files: list[tuple[str, bytes]] = []
    when = facts.finished
    if opts.sbom is not None:
        tree = stage_tree(target, final, roots, extractor)
        name = str(destinations[0]) if destinations else _stage_name(target)
        kind, data, count = _sbom_statement(opts.sbom, tree, name, when, facts.reproducible, about)
        statements.append((kind, data))
        log.info("SBOM: %d packages in the image (%s)", count, opts.sbom)
        if opts.sbom_file:
            files.append((opts.sbom_file, data))
        if opts.sbom_scan_stages:
            for stage in plan.stages:
                if stage.index == target.index:
                    continue
                tree = stage_tree(stage, images[stage.index], roots, extractor)
                label = _stage_name(stage)
                kind, data, count = _sbom_statement(
                    opts.sbom, tree, f"stage {label}", when, facts.reproducible, about
                )
                statements.append((kind, data))
                log.info("SBOM: %d packages in stage %s", count, stage.label)
                if opts.sbom_file:
                    files.append((side_file(opts.sbom_file, label), data))
    if opts.provenance is not None:
        predicate = provenance_predicate(
            build_record(plan, facts),
            mode=opts.provenance,
            builder_id=opts.builder_id or DEFAULT_BUILDER_ID,
        )
        data = intoto.statement(PROVENANCE_TYPE, dumps(predicate), about)
        statements.append((PROVENANCE_TYPE, data))
        log.info("Provenance: SLSA v1, mode=%s", opts.provenance)
        if opts.provenance_file:
            files.append((opts.provenance_file, data))
    index = make_index([entry], [attestation_entry(entry.descriptor, statements)])
    return Attested(index, tuple(files))
