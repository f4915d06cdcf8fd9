"""Steps that change a stage's root filesystem (RUN, COPY, ADD, WORKDIR), on a directory.

:class:`DirectorySteps` runs one stage's filesystem steps against a root directory that
its :class:`RootSource` makes ready when the first such step runs, so a stage of
metadata steps never extracts its base: a new directory in the workspace with the base
extracted into it (:class:`NewDirectory`, chroot mode), or the container's ``/`` in an
in-place build (:mod:`kaniko.executor.inplace`). Each step gets what it uses: RUN a
runner (the chroot sandbox, or the in-place one), COPY and ADD their
:class:`CopySources`, WORKDIR only the root.

After each step the snapshotter finds what changed (a full walk after RUN; only the
written paths after COPY, ADD and WORKDIR) and writes one layer, or none for an empty
change.

:class:`DirectoryRoots` is chroot mode's :class:`~kaniko.executor.stage.StageRoots`:
each stage gets a new directory, and finished stage roots stay until the build ends, so
a later ``COPY --from`` reads them directly, with no tarball round trip.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kaniko.dockerfile.commands import Add, Copy, Run, Workdir
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.dockerfile.heredoc import heredoc_body, parse_heredoc_word
from kaniko.errors import BuildError, KanikoError, RunError, with_context
from kaniko.executor.metadata import DEFAULT_SHELL, workdir_path
from kaniko.executor.mounts import RunMounts, StepMounts
from kaniko.executor.steps.copy import CopySource, copy_step
from kaniko.executor.timing import phase
from kaniko.executor.workspace import Extractor, Images, ImageTrees
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.inventory import IgnoreFn
from kaniko.fs.safepath import resolve_in_root
from kaniko.fs.users import resolve_chown
from kaniko.oci.config import ImageConfig
from kaniko.oci.image import Image, Layer
from kaniko.oci.mediatypes import Compression, uses_oci_types
from kaniko.oci.platform import Platform
from kaniko.oci.streams import WatchFactory
from kaniko.options import BuildOptions, SnapshotMode
from kaniko.plan.model import Stage, StageRef, Step
from kaniko.sandbox import chroot
from kaniko.sandbox.spec import RunSpec
from kaniko.snapshot import Snapshotter
from kaniko.snapshot.layer import LayerOptions

log = logging.getLogger(__name__)


class Runner(Protocol):
    """Runs one RUN process (:func:`kaniko.sandbox.chroot.run` or the in-place runner)."""

    def __call__(self, spec: RunSpec, *, on_output: Callable[[str], None]) -> int: ...


class RootSource(Protocol):
    """Makes a stage's root ready, when its first filesystem step runs."""

    def prepare(self) -> tuple[Path, IgnoreFn]:
        """The root, holding the base's files, and what its snapshots must not see."""
        ...

    def ignore_list(self, root: Path) -> IgnoreList:
        """What layers applied to the prepared ``root`` must neither write nor delete."""
        ...


class RootMaker(Protocol):
    """Makes stage roots instead of :class:`NewDirectory` (overlay roots, see
    :mod:`kaniko.executor.overlayroots`)."""

    def root_source(self, stage: Stage, base: Image) -> RootSource: ...


class StageTrees(Protocol):
    """Finished stages' roots, as ``COPY --from=<stage>`` reads them."""

    def tree(self, index: int) -> Path: ...


@dataclass(frozen=True)
class Snapshots:
    """How a stage's snapshots find changes and write layers (``--snapshot-mode``,
    ``--single-snapshot``, ``--compression``, ``--reproducible`` …), into ``spool``."""

    spool: Path
    mode: SnapshotMode = "full"
    single_snapshot: bool = False
    compression: Compression | None = None  # None: gzip
    level: int = -1  # applied only when > 0
    reproducible: bool = False
    epoch: int = 0
    watch: WatchFactory | None = None  # told how each layer's spool grows (early push)

    @classmethod
    def from_options(cls, options: BuildOptions, spool: Path) -> Snapshots:
        out, snap = options.output, options.snapshot
        return cls(
            spool=spool,
            mode=snap.mode,
            single_snapshot=snap.single_snapshot,
            compression=out.compression,
            level=out.compression_level,
            reproducible=out.reproducible,
            epoch=out.source_date_epoch,
        )

    def layer_options(self, base: Image) -> LayerOptions:
        """How a stage on ``base`` writes its layers."""
        return LayerOptions(
            str(self.spool),
            compression=self.compression or "gzip",
            level=self.level if self.level > 0 else None,
            oci=uses_oci_types(self.compression, base.media_type),  # an OCI base, or zstd
            reproducible=self.reproducible,
            epoch=self.epoch,
            watch=self.watch,
        )

    def start(self, root: Path, ignore: IgnoreFn, base: Image) -> Snapshotter:
        """A snapshotter of ``root`` for a stage on ``base``, its first inventory taken."""
        snapshotter = Snapshotter.with_layer_options(
            root,
            self.layer_options(base),
            ignore=ignore,
            mode=self.mode,
            single_snapshot=self.single_snapshot,
        )
        snapshotter.init()
        return snapshotter


@dataclass(frozen=True)
class CopySources:
    """Where COPY and ADD read: the build context (less what ``.dockerignore`` excludes),
    a finished stage's root, or an image's."""

    context: Path
    matcher: PatternMatcher | None
    images: ImageTrees
    stages: StageTrees

    def source(self, origin: StageRef | None, platform: Platform) -> CopySource:
        """The source of a step whose ``--from`` is ``origin`` (None: the context)."""
        if origin is None:
            return CopySource(self.context, self.matcher, True)
        if isinstance(origin, int):
            return CopySource(self.stages.tree(origin), None, False)
        return CopySource(self.images.tree(origin, platform), None, False)


@dataclass(frozen=True)
class StageParts:
    """What the filesystem steps of every stage of one build share."""

    extractor: Extractor
    snapshots: Snapshots
    dockerfile: str = "Dockerfile"  # how errors name it
    mounts: RunMounts = field(default_factory=RunMounts)  # what RUN --mount may use
    roots: RootMaker | None = None  # None: a new directory per stage, base extracted


class NewDirectory:
    """A :class:`RootSource`: a new directory of the workspace, ``base`` extracted in it."""

    def __init__(self, extractor: Extractor, name: str, base: Image) -> None:
        self.extractor = extractor
        self.name = name
        self.base = base

    def prepare(self) -> tuple[Path, IgnoreFn]:
        root = self.extractor.workspace.new_root(self.name)
        self.extractor.extract(self.base, root)
        return root, self.extractor.ignore_list(root).ignored_rel

    def ignore_list(self, root: Path) -> IgnoreList:
        return self.extractor.ignore_list(root)


class DirectorySteps:
    """The :class:`~kaniko.executor.stage.FilesystemSteps` of one stage whose root is a
    directory (see the module docs)."""

    def __init__(
        self,
        stage: Stage,
        base: Image,
        parts: StageParts,
        root: RootSource,
        sources: CopySources,
        runner: Runner = chroot.run,
    ) -> None:
        self.stage = stage
        self.base = base
        self.parts = parts
        self.sources = sources
        self.runner = runner
        self._source = root
        self._root: Path | None = None
        self._ignore: IgnoreFn = lambda rel: False
        self._snapshotter: Snapshotter | None = None
        self._lock = threading.Lock()  # stages built at once may COPY --from this one
        self._adopted: list[Layer] = []  # layers made elsewhere, for the root when made

    @property
    def ready(self) -> bool:
        """Whether the stage's root has been made (its base extracted)."""
        return self._root is not None

    def adopt(self, layer: Layer, paths: Callable[[], Iterable[str]]) -> None:
        """Take ``layer`` as a step's result that did not run here (a cache hit, or a
        step computed on a partial root): it is applied to the root now if the root is
        ready (the snapshots told of ``paths``, the image paths it holds), else when the
        root is made, before its first inventory."""
        if self._root is None or self._snapshotter is None:
            self._adopted.append(layer)
            return
        self._source_apply(self._root, [layer])
        self._snapshotter.absorb(list(paths()))  # part of the root, not of the next layer

    def _source_apply(self, root: Path, layers: Sequence[Layer]) -> None:
        ignore = self._source.ignore_list(root)
        self.parts.extractor.extract_layers(layers, root, ignore, over=True)

    def root(self) -> Path:
        """The stage's root, made ready now if no step needed it yet."""
        return self._ready()[0]

    def tree(self) -> tuple[Path, IgnoreFn]:
        """The stage's root (made ready now if need be) and what its snapshots ignore."""
        return self._ready()[0], self._ignore

    def _ready(self) -> tuple[Path, Snapshotter]:
        with self._lock:  # stages built at once may COPY --from this one meanwhile
            return self._make_ready()

    def _make_ready(self) -> tuple[Path, Snapshotter]:
        if self._root is None or self._snapshotter is None:
            with phase("extract"):
                root, ignore = self._source.prepare()
                if self._adopted:
                    log.info("Applying %d layers the cache served", len(self._adopted))
                    self._source_apply(root, self._adopted)
            with phase("snapshot"):
                start = getattr(self._source, "start_snapshots", None)  # overlay roots
                if start is not None:
                    self._snapshotter = start(self.parts.snapshots)
                    if self._adopted:  # in the first upper directory: not the next step's
                        self._snapshotter.absorb(())
                else:
                    self._snapshotter = self.parts.snapshots.start(root, ignore, self.base)
            self._adopted.clear()
            self._root, self._ignore = root, ignore
        return self._root, self._snapshotter

    def run_step(self, step: Step, config: ImageConfig) -> Layer | None:
        root, snap = self._ready()
        instr = step.instruction
        where = f"{self.parts.dockerfile}:{step.line}"
        if isinstance(instr, Run):
            label = f"[{self.stage.label}:{step.line}]"
            workdir = config.config.working_dir or "/"
            with_mounts = self.parts.mounts.step(
                step, instr, workdir, self.sources, self.stage.platform
            )
            with phase("run"):
                run_command(
                    step, instr, config, root, runner=self.runner, where=where, label=label,
                    mounts=with_mounts,
                )  # fmt: skip
            with phase("snapshot"):
                changes = snap.after_step()
        elif isinstance(instr, Copy | Add):
            with phase("copy"):
                try:
                    source = self.sources.source(step.copy_from, self.stage.platform)
                except KanikoError as e:
                    if isinstance(step.copy_from, int):
                        raise
                    raise with_context(e, f"{where}: COPY --from={step.copy_from}") from None
                written = copy_files(instr, config, root, source, where)
            with phase("snapshot"):
                changes = snap.after_step(written)
        elif isinstance(instr, Workdir):
            with phase("copy"):
                written = make_workdir(config, root)
            with phase("snapshot"):
                changes = snap.after_step(written)
        else:
            raise BuildError(f"{instr.keyword} does not change the filesystem")
        with phase("compress"):
            return snap.layer(changes)

    def finish(self) -> Sequence[Layer]:
        """With ``--single-snapshot``: the stage's one layer, from a walk at its end."""
        snap = self._snapshotter
        if snap is None or not snap.single_snapshot:
            return ()
        layer = snap.layer(snap.after_step(last=True))
        return () if layer is None else (layer,)


def run_command(
    step: Step,
    instr: Run,
    config: ImageConfig,
    root: Path,
    *,
    runner: Runner,
    where: str,
    label: str,
    mounts: AbstractContextManager[StepMounts] | None = None,
) -> None:
    """Run a RUN step's process in ``root`` with the plan's environment for it; its
    output is logged line by line after ``label``. ``where`` names the line in errors.
    ``mounts`` gives the step's ``RUN --mount`` mounts for as long as it runs."""
    shell = config.config.shell or DEFAULT_SHELL
    argv, script = run_argv(instr, shell)
    scratch: Path | None = None
    if script is not None:  # a heredoc with a shebang runs as a file, as BuildKit does
        scratch = Path(tempfile.mkdtemp(prefix=".kaniko-heredoc-", dir=root))
        (scratch / script[0]).write_text(script[1])
        (scratch / script[0]).chmod(0o755)
        argv = ("/" + str((scratch / script[0]).relative_to(root)),)
    try:
        with mounts or nullcontext(StepMounts()) as mounted:
            spec = RunSpec(
                root=root,
                argv=argv,
                env=step.run_env + mounted.env,
                user=config.config.user,
                workdir=config.config.working_dir or "/",
                mounts=mounted.mounts,
                network=instr.network,
            )
            status = runner(spec, on_output=lambda line: log.info("%s %s", label, line))
    except BuildError as e:  # before the process ran (its USER, say): name the line
        raise (e if str(e).startswith(where) else with_context(e, where)) from None
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if status != 0:
        raise RunError(f"RUN ({where}) exited {status}: {' '.join(argv)[:200]}", status)


def copy_files(
    instr: Copy | Add, config: ImageConfig, root: Path, source: CopySource, where: str
) -> list[str]:
    """Perform a COPY or ADD into ``root``; the in-image paths written."""
    try:
        return copy_step(
            instr,
            source=source,
            dest_root=root,
            workdir=config.config.working_dir or "/",
            user=config.config.user,
        )
    except KanikoError as e:
        raise with_context(e, where) from None


def make_workdir(config: ImageConfig, root: Path) -> list[str]:
    """Create the WORKDIR's missing directories, owned as BuildKit's mkdir file operation
    owns them for the stage's USER (no USER: root); the in-image paths created."""
    path = workdir_path("/", config.config.working_dir or "/")
    spec = config.config.user
    uid, gid = resolve_chown(root, spec, what="WORKDIR") if spec else (0, 0)
    target = resolve_in_root(root, path)
    if target.is_dir():
        return []
    created: list[str] = []
    missing = []
    probe = target
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o755)
        os.lchown(directory, uid, gid)
        created.append("/" + str(directory.relative_to(root)))
    return created


def run_argv(instr: Run, shell: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, str] | None]:
    """The argv of a RUN, and a (name, body) script to run as a file, BuildKit's way.

    Exec form runs as written. Shell form goes through SHELL; with heredocs: a command that
    is only ``<<EOF`` runs the body itself (as a file when it starts with ``#!``, else as
    the shell's script); otherwise the heredoc bodies are appended to the command text
    and the shell reads them as here-documents.
    """
    if instr.json:
        return tuple(instr.cmd), None
    text = " ".join(instr.cmd)
    if instr.heredocs:
        only = parse_heredoc_word(text.strip()) if len(instr.heredocs) == 1 else None
        if only is not None:
            body = heredoc_body(instr.heredocs[0])
            if body.startswith("#!"):
                return (), (instr.heredocs[0].name or "script", body)
            return (*shell, body), None
        for doc in instr.heredocs:
            text += "\n" + doc.content + doc.name
    return (*shell, text), None


class DirectoryRoots:
    """Chroot mode's :class:`~kaniko.executor.stage.StageRoots`: every stage's root is a
    new directory of the workspace, kept until the build ends."""

    def __init__(
        self,
        parts: StageParts,
        *,
        context: Path,
        matcher: PatternMatcher | None,
        images: Images,
    ) -> None:
        self.parts = parts
        self.sources = CopySources(context, matcher, ImageTrees(images, parts.extractor), self)
        self._built: dict[int, DirectorySteps] = {}
        self._adopted: dict[int, Path] = {}

    def adopt(self, index: int, tree: Path) -> None:
        """Stage ``index`` was built by another build's roots, whose finished tree is
        ``tree`` (a stage that the platforms of a multi-platform build share)."""
        self._adopted[index] = tree

    def steps(self, stage: Stage, base: Image) -> DirectorySteps:
        """The filesystem steps of ``stage``, on a new directory."""
        maker = self.parts.roots
        root: RootSource
        if maker is not None:
            root = maker.root_source(stage, base)
        else:
            root = NewDirectory(self.parts.extractor, f"stage-{stage.index}", base)
        return self._register(DirectorySteps(stage, base, self.parts, root, self.sources))

    def _register(self, steps: DirectorySteps) -> DirectorySteps:
        self._built[steps.stage.index] = steps
        return steps

    def finished(self, stage: Stage, image: Image) -> None:
        """``stage`` is built (its directory stays, for ``COPY --from``)."""

    def tree(self, index: int) -> Path:
        if index in self._adopted:
            return self._adopted[index]
        steps = self._built.get(index)
        if steps is None:
            raise BuildError(f"COPY --from: stage {index} was not built")
        return steps.root()

    def where(self, index: int) -> tuple[Path, IgnoreFn] | None:
        steps = self._built.get(index)
        return None if steps is None else steps.tree()

    def close(self, *, cleanup: bool = False) -> None:
        """Nothing to release: the stage directories go with the workspace."""
