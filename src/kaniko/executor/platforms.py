"""Multi-platform builds: one Dockerfile, several target platforms, one image index.

``--custom-platform=linux/amd64,linux/arm64`` plans the Dockerfile once per target
platform (each plan has its own ``TARGET*`` args and picks its base images from their
indexes for that platform), checks every plan before any work (bases present for each
platform, RUN steps of a foreign architecture runnable through binfmt_misc:
:func:`require_emulation`), builds the stages of every platform as one graph, up to
``--jobs`` at once (:mod:`kaniko.executor.platformgraph`), and writes one index
(:func:`~kaniko.images.index.platform_index`) wherever the options say: registries,
``--tar-path``, ``--oci-layout-path``, the digest files (the index's digest).

Stages shared by every platform are built once (one node of the graph): a stage whose
planned content, platform and inputs are the same in two plans (:func:`stage_key`), which
is what ``FROM --platform=$BUILDPLATFORM`` stages that do not read ``TARGET*`` args are
(the cross-compilation pattern). Like BuildKit, sharing follows content, not syntax: a
``$BUILDPLATFORM`` stage that declares ``ARG TARGETARCH`` differs per target platform and
is built once per target. Another platform reads a shared stage's image and, for
``COPY --from``, its tree where the platform that built it left it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kaniko.dockerfile.commands import Run
from kaniko.errors import BuildError, ImageError
from kaniko.executor.timing import phase
from kaniko.images import mutate
from kaniko.images.index import Artifact, ImageIndex, make_index, platform_index
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.options import AttestOptions
from kaniko.plan import BaseImages
from kaniko.plan.model import BuildPlan, Stage, StageRef
from kaniko.sandbox import binfmt

if TYPE_CHECKING:
    from kaniko.executor.attest import Attested
    from kaniko.executor.executor import BuildResult, Started

log = logging.getLogger(__name__)


def require_emulation(plan: BuildPlan, dockerfile: str, directory: Path | None = None) -> None:
    """Refuse, before any work, a plan with RUN steps for a platform this host cannot
    run: one line naming the Dockerfile line, the platform and how to register an
    emulator. COPY-only and metadata-only stages need none. Where binfmt_misc cannot be
    read (a pod's ``/proc``), say so once and let the kernel decide."""
    checked: set[Platform] = set()
    for stage in plan.stages:
        runs = [step for step in stage.steps if isinstance(step.instruction, Run)]
        platform = stage.platform
        if not runs or platform in checked or binfmt.native(platform):
            continue
        checked.add(platform)
        try:
            handler = binfmt.emulation(platform, directory or binfmt.BINFMT_DIR)
        except binfmt.Unreadable as exc:
            log.warning(
                "RUN steps for %s need an emulator and binfmt_misc cannot be read (%s): "
                "they run only if this node has a fix-binary handler registered",
                platform,
                exc,
            )
            continue
        except LookupError as exc:
            raise BuildError(
                f"{dockerfile}:{runs[0].line}: RUN for {platform} on this "
                f"{Platform.host()} host: {exc}; {binfmt.REGISTER_HINT}"
            ) from None
        log.info("RUN for %s runs through %s (%s)", platform, handler.name, handler.interpreter)


def check_base_platforms(plan: BuildPlan, bases: BaseImages, dockerfile: str) -> None:
    """Refuse a base image that is one image of another platform (an index without the
    platform is refused when it is read): in a multi-platform build it would put one
    architecture's files under another's name in the index."""
    for stage in plan.stages:
        if not isinstance(stage.base, str) or stage.base == "scratch":
            continue
        config = bases.config(stage.base, stage.platform)
        if not config.architecture:
            continue
        got = Platform(config.os or "linux", config.architecture, config.variant)
        if not stage.platform.matches(got):
            raise ImageError(
                f"{dockerfile}:{stage.line}: FROM {stage.base}: the image is for {got} only, "
                f"it has no image for platform {stage.platform}"
            )


def stage_key(stage: Stage, keys: Mapping[int, str]) -> str:
    """A digest of what ``stage`` builds: its platform, base, steps (instructions with
    their expanded variables) and, for the earlier stages it reads, their keys."""

    def ref(r: StageRef | None) -> object:
        return ("stage", keys[r]) if isinstance(r, int) else r

    steps = [
        (
            step.instruction,
            step.line,
            step.env,
            step.args,
            step.run_env,
            ref(step.copy_from),
            tuple(ref(m) for m in step.mount_from),
            step.onbuild_of,
        )
        for step in stage.steps
    ]
    text = repr((stage.index, str(stage.platform), ref(stage.base), stage.base_env,
                 stage.config_env, steps))  # fmt: skip
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def stage_keys(plan: BuildPlan) -> dict[int, str]:
    """Every planned stage's :func:`stage_key`, by stage index."""
    keys: dict[int, str] = {}
    for stage in plan.stages:
        keys[stage.index] = stage_key(stage, keys)
    return keys


def platform_attest(opts: AttestOptions, platform: Platform) -> AttestOptions:
    """``--sbom-file`` and ``--provenance-file`` of one platform of several: the platform
    named before the extension (``sbom.linux-arm64.spdx.json``)."""
    from kaniko.executor.attest import side_file  # only when asked: it loads the scanners

    name = platform_name(platform)
    return replace(
        opts,
        sbom_file=side_file(opts.sbom_file, name) if opts.sbom_file else "",
        provenance_file=side_file(opts.provenance_file, name) if opts.provenance_file else "",
    )


def attested_index(attested: Sequence[Attested]) -> ImageIndex:
    """One index of every platform's image (OCI types) and then every platform's
    attestation manifest (each names its image's digest), as BuildKit pushes them."""
    images = [e for one in attested for e in one.index.entries if not isinstance(e.item, Artifact)]
    artifacts = [e for one in attested for e in one.index.entries if isinstance(e.item, Artifact)]
    return make_index(images, artifacts)


def platform_name(platform: Platform) -> str:
    """A file name for ``platform``'s work (``linux-arm-v7``)."""
    return str(platform).replace("/", "-")


def build_platforms(run: Started, roots_stack: ExitStack) -> BuildResult:
    """Build every target platform of ``run`` into one index (see the module docs); each
    platform's stage roots are closed by ``roots_stack``."""
    from kaniko.executor import executor as ex
    from kaniko.executor.graph import ROOT_RESOURCE, effective_jobs, in_root
    from kaniko.executor.inplace import InplaceBuild, RootTurns
    from kaniko.executor.outputs import write_outputs
    from kaniko.executor.platformgraph import PlatformGraph, Target

    options, source = run.options, run.source
    platforms: Sequence[Platform] = options.platforms
    opts = ex.stage_options(options, run.created, source.display)
    inplace = run.isolation == "inplace"
    turns = RootTurns()
    targets: list[Target] = []
    for platform, plan in zip(platforms, run.plans, strict=True):
        roots = roots_stack.enter_context(
            ex.stage_roots(
                options, run.isolation, plan, run.parts, source, run.bases,
                name=platform_name(platform),
            )
        )  # fmt: skip
        if isinstance(roots, InplaceBuild):
            roots.turns = turns  # one / for every platform
        targets.append(Target(platform, plan, roots))
    finals: dict[int, tuple[Image, Platform]] = {}
    attested: dict[int, Attested] = {}

    def finish(position: int, images: Mapping[int, Image]) -> None:
        platform, plan, roots = (
            targets[position].platform,
            targets[position].plan,
            targets[position].roots,
        )
        final = images[plan.target_index]
        if options.output.reproducible:
            final = mutate.canonical(final, run.created)
        if options.attest.enabled:
            one = ex.attest_image(
                replace(options, attest=platform_attest(options.attest, platform)),
                plan, final, images, roots, run.parts.extractor, run.destinations, source,
                run.materials, (run.started, run.created),
            )  # fmt: skip
            attested[position] = one
            final = one.index.images()[0]
        finals[position] = (final, platform)
        log.info("Built the image for %s", platform)

    holds = ROOT_RESOURCE if inplace and options.attest.enabled else None  # scans read /
    graph = PlatformGraph(targets, in_root if inplace else None, holds)
    jobs = effective_jobs(options)
    log.info("Building for %s, up to %d stages at once", ", ".join(map(str, platforms)), jobs)
    graph.build(run.bases, opts, finish, run.cache, jobs=jobs)
    order = range(len(targets))
    ones = [attested[p] for p in order] if attested else []
    index = attested_index(ones) if ones else platform_index([finals[p] for p in order])
    with phase("push"):
        run.finish_push()
        digest = write_outputs(
            index.images()[0], run.destinations, options.output, run.transport, run.progress,
            index=index,
        )  # fmt: skip
    for one in ones:
        one.write_files()
    log.info("Built image index %s for %s", digest, ", ".join(map(str, platforms)))
    return ex.BuildResult(index.images()[0], digest, run.plans[0], index)
