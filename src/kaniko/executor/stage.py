"""Building one stage: start from the base image, apply each step, return the image.

Metadata steps edit the config and add an ``empty_layer`` history entry. Steps that touch
the filesystem are handed to a :class:`FilesystemSteps` implementation, which owns the
stage's root filesystem (created lazily: a stage of metadata steps never extracts its
base). Every history entry of one build shares one ``created`` time.

The build's :class:`StageRoots` gives each stage its :class:`FilesystemSteps`: a new
directory per stage (:class:`~kaniko.executor.filesystem.DirectoryRoots`, chroot mode)
or the container's ``/`` (:class:`~kaniko.executor.inplace.InplaceBuild`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from kaniko.dockerfile.commands import Command, Run
from kaniko.executor import metadata
from kaniko.images import mutate
from kaniko.oci.config import History, ImageConfig
from kaniko.oci.image import BytesLayer, Image, Layer
from kaniko.plan.model import Stage, Step

log = logging.getLogger(__name__)


class FilesystemSteps(Protocol):
    """Runs RUN/COPY/ADD/WORKDIR against a stage's root filesystem."""

    def run_step(self, step: Step, config: ImageConfig) -> Layer | None:
        """Execute ``step``; the layer of what it changed, or None if nothing changed."""
        ...

    def finish(self) -> Sequence[Layer]:
        """Layers still pending at the end of the stage (``--single-snapshot``)."""
        ...


class StageRoots(Protocol):
    """Where the stages of one build keep their root filesystems."""

    def steps(self, stage: Stage, base: Image) -> FilesystemSteps:
        """The filesystem steps of ``stage``, built on ``base``."""
        ...

    def finished(self, stage: Stage, image: Image) -> None:
        """``stage`` is built, as ``image``."""
        ...

    def tree(self, index: int) -> Path:
        """The root of finished stage ``index``, as ``COPY --from`` reads it."""
        ...

    def close(self, *, cleanup: bool = False) -> None:
        """The build is over (``cleanup``: ``--cleanup`` was given)."""
        ...


@dataclass(frozen=True)
class StageOptions:
    labels: tuple[tuple[str, str], ...] = ()
    created: str = ""
    path: str = "Dockerfile"
    force_build_metadata: bool = False  # every step gets a layer, an empty one if need be


def created_by(step: Step) -> str:
    """History ``created_by`` as Docker writes it: the shell command for RUN."""
    instr = step.instruction
    if isinstance(instr, Run):
        if instr.json:
            return "RUN " + json.dumps(list(instr.cmd))
        return "/bin/sh -c " + " ".join(instr.cmd)
    return metadata.created_by(instr)


def start_config(base: Image, stage: Stage, opts: StageOptions) -> ImageConfig:
    """The config a stage starts from: the base's, --label, no triggers."""
    config = base.config()
    if opts.labels:
        config = config.with_labels(dict(opts.labels))
    if config.config.on_build:
        log.info("Executing %d build triggers", len(config.config.on_build))
        config = config.with_config(on_build=())
    return config


def build_stage(stage: Stage, base: Image, fs: FilesystemSteps, opts: StageOptions) -> Image:
    """The image of ``stage`` built on ``base``."""
    state = metadata.ConfigState(start_config(base, stage, opts))
    image = base
    pending: list[History] = []  # entries of metadata steps, in order

    def history(step: Step, empty: bool) -> History:
        return History(created=opts.created, created_by=created_by(step), empty_layer=empty)

    for step in stage.steps:
        instr: Command = step.instruction
        log.info("%s", metadata.one_line(instr.original))
        if isinstance(instr, metadata.METADATA) and not step.touches_fs:
            metadata.apply(state, instr, path=opts.path)
            if opts.force_build_metadata:
                image = mutate.append(image, _empty_layer(base), history(step, False))
            else:
                pending.append(history(step, True))
            continue
        if instr.keyword == "WORKDIR":
            metadata.apply(state, instr, path=opts.path)
        layer = fs.run_step(step, state.config)
        for entry in pending:
            image = mutate.add_history(image, entry)
        pending.clear()
        if layer is None and opts.force_build_metadata:
            image = mutate.append(image, _empty_layer(base), history(step, False))
        elif layer is None:
            pending.append(history(step, True))
        else:
            image = mutate.append(image, layer, history(step, False))
    for layer in fs.finish():
        image = mutate.append(image, layer, History(created=opts.created, created_by="snapshot"))
    for entry in pending:
        image = mutate.add_history(image, entry)
    final = state.config.with_config(env=stage.config_env)  # the plan's evaluation
    return mutate.with_config(image, lambda cfg: _merge(cfg, final, opts.created))


def _merge(current: ImageConfig, wanted: ImageConfig, created: str) -> ImageConfig:
    """``wanted``'s settings with ``current``'s layers and history."""
    return replace(
        wanted, diff_ids=current.diff_ids, history=current.history, created=created or None
    )


def _empty_layer(base: Image) -> Layer:
    """A layer with no entries (``--force-build-metadata``), typed like the base's layers."""
    return BytesLayer.from_tar(EMPTY_TAR, oci=not base.manifest().is_docker)


EMPTY_TAR = bytes(1024)  # a tar archive's end: two zero blocks
