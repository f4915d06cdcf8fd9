"""Steps that change a stage's root filesystem: RUN, COPY, ADD and WORKDIR (chroot mode).

A :class:`Workspace` holds, for one build, a directory per stage root and per image that
``COPY --from`` reads. A stage's root is created when its first filesystem step runs: the
base image's layers are extracted into it (an earlier stage as base: that stage's image,
whose layers are local spool files), then the snapshotter takes its first inventory.

After each step the snapshotter finds what changed (a full walk after RUN; only the
written paths after COPY, ADD and WORKDIR) and writes one layer, or none for an empty
change. Finished stage roots stay until the build ends, so a later ``COPY --from`` reads
them directly, with no tarball round trip.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from kaniko.dockerfile.commands import Add, Copy, Run, Workdir
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.dockerfile.heredoc import heredoc_body, parse_heredoc_word
from kaniko.errors import BuildError, KanikoError, RunError, with_context
from kaniko.executor.metadata import DEFAULT_SHELL, workdir_path
from kaniko.executor.steps.copy import CopySource, copy_step
from kaniko.executor.workdirs import WorkDir, claim
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.safepath import resolve_in_root
from kaniko.fs.unpack import extract_image
from kaniko.fs.users import resolve_chown
from kaniko.iotools import TeeReader
from kaniko.oci.config import ImageConfig
from kaniko.oci.image import FileLayer, Image, Layer
from kaniko.oci.mediatypes import uses_oci_types
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions
from kaniko.plan.model import Stage, Step
from kaniko.progress import SILENT, Reporter
from kaniko.sandbox.chroot import run
from kaniko.sandbox.spec import RunSpec
from kaniko.snapshot import Snapshotter

log = logging.getLogger(__name__)

ImageLookup = Callable[[str, Platform], Image]


@dataclass
class Workspace:
    """Per-build directories: stage roots, images read by ``COPY --from``, layer spools."""

    base: Path
    context: Path
    matcher: PatternMatcher | None
    options: BuildOptions
    images: ImageLookup
    dockerfile: str = "Dockerfile"
    progress: Reporter = SILENT
    stages: dict[int, ChrootSteps] = field(default_factory=dict)
    image_roots: dict[str, Path] = field(default_factory=dict)
    work: WorkDir | None = None

    @classmethod
    def create(cls, options: BuildOptions, **kw: object) -> Workspace:
        """A workspace in a new work directory (see :mod:`kaniko.executor.workdirs`)."""
        try:
            work = claim(Path(options.kaniko_dir) / "builds")
        except OSError:
            work = claim(Path(tempfile.gettempdir()) / "kaniko-builds")
        base = work.path
        (base / "spool").mkdir()
        (base / "blobs").mkdir()
        (base / "tmp").mkdir()
        return cls(base=base, options=options, work=work, **kw)  # type: ignore[arg-type]  # untyped bag

    @property
    def tmp(self) -> Path:
        """Where the build's temporary files go (RUN steps' ``kaniko-run-*`` among them)."""
        return self.base / "tmp"

    @property
    def spool(self) -> Path:
        return self.base / "spool"

    @property
    def blobs(self) -> Path:
        return self.base / "blobs"

    def new_root(self, name: str) -> Path:
        root = self.base / name
        root.mkdir(mode=0o755)
        return root

    def ignore_list(self, root: Path) -> IgnoreList:
        snap = self.options.snapshot
        return IgnoreList.for_root(
            root,
            ignore_var_run=snap.ignore_var_run,
            extra=snap.ignore_paths,
            kaniko_dir=str(self.base),
        )

    def extract(self, image: Image, root: Path, ignore: IgnoreList | None = None) -> None:
        layers = image.layers()
        log.info("Unpacking rootfs (%d layers)", len(layers))
        extract_image(
            [self._counted(layer) for layer in layers],
            root,
            ignore=self.ignore_list(root) if ignore is None else ignore,
            retries=self.options.image_fs_extract_retry,
            diff_ids=[layer.diff_id for layer in layers],
            names=[str(layer.digest) for layer in layers],
        )

    def _counted(self, layer: Layer) -> Callable[[], AbstractContextManager[BinaryIO]]:
        """An opener of ``layer`` that advances a progress bar and keeps remote blobs.

        A layer pulled from a registry is written to the workspace's blob cache as it is
        read (its digest was verified by the time the read ends), so extracting it again
        (a later ``FROM`` an earlier stage, a retried extraction) reads it from disk.
        """

        @contextmanager
        def opener() -> Iterator[BinaryIO]:
            cached = self.blobs / layer.digest.encoded
            if cached.exists():
                with open(cached, "rb") as kept:
                    yield kept
                return
            if isinstance(layer, FileLayer):  # already on this disk
                with layer.open_compressed() as stream:
                    yield stream
                return
            task = self.progress.task(f"pull {layer.digest.short()}", layer.size)
            partial = cached.with_suffix(".partial")
            try:
                with layer.open_compressed() as stream, open(partial, "wb") as keep:

                    def observe(data: bytes) -> None:
                        keep.write(data)
                        task.advance(len(data))

                    yield TeeReader(stream, observe)  # type: ignore[misc]  # raw; only read()
                if partial.stat().st_size == layer.size:
                    partial.rename(cached)
            finally:
                task.done()
                partial.unlink(missing_ok=True)

        return opener

    def image_root(self, reference: str, platform: Platform) -> Path:
        """The extracted root of an image named by ``COPY --from=<image>``."""
        key = f"{reference}@{platform}"
        if key not in self.image_roots:
            root = self.new_root(f"image-{len(self.image_roots)}")
            self.extract(self.images(reference, platform), root)
            self.image_roots[key] = root
        return self.image_roots[key]

    def remove(self) -> None:
        if self.work is not None:
            self.work.release()
        else:
            shutil.rmtree(self.base, ignore_errors=True)


class ChrootSteps:
    """The :class:`~kaniko.executor.stage.FilesystemSteps` of one stage in chroot mode."""

    def __init__(self, ws: Workspace, stage: Stage, base: Image) -> None:
        self.ws = ws
        self.stage = stage
        self.base = base
        self.root: Path | None = None
        self.snapshotter: Snapshotter | None = None
        ws.stages[stage.index] = self

    # -- root -----------------------------------------------------------------------------
    def _ensure_root(self) -> tuple[Path, Snapshotter]:
        if self.root is None or self.snapshotter is None:
            root = self.ws.new_root(f"stage-{self.stage.index}")
            self.ws.extract(self.base, root)
            self.snapshotter = self.new_snapshotter(root, self.ws.ignore_list(root).ignored_rel)
            self.root = root
        return self.root, self.snapshotter

    def new_snapshotter(self, root: Path, ignore: Callable[[str], bool]) -> Snapshotter:
        """The stage's snapshotter of ``root``, with the build's snapshot and layer options,
        its first inventory taken."""
        out, snap = self.ws.options.output, self.ws.options.snapshot
        snapshotter = Snapshotter(
            root,
            ignore=ignore,
            mode=snap.mode,
            spool_dir=self.ws.spool,
            compression=out.compression or "gzip",
            level=out.compression_level if out.compression_level > 0 else None,
            reproducible=out.reproducible,
            epoch=out.source_date_epoch,
            oci=self.oci,
            single_snapshot=snap.single_snapshot,
        )
        snapshotter.init()
        return snapshotter

    @property
    def oci(self) -> bool:
        """Whether this stage's layers get OCI media types (an OCI base, or zstd)."""
        return uses_oci_types(self.ws.options.output.compression, self.base.media_type)

    def finished_root(self) -> Path:
        """The stage's root after its last step (extracted now if no step needed it)."""
        return self._ensure_root()[0]

    # -- steps ----------------------------------------------------------------------------
    def run_step(self, step: Step, config: ImageConfig) -> Layer | None:
        root, snap = self._ensure_root()
        instr = step.instruction
        if isinstance(instr, Run):
            self._run(step, instr, config, root)
            changes = snap.after_step()
        elif isinstance(instr, Copy | Add):
            changes = snap.after_step(self._copy(step, instr, config, root))
        elif isinstance(instr, Workdir):
            changes = snap.after_step(self._workdir(config, root))
        else:
            raise BuildError(f"{instr.keyword} does not change the filesystem")
        return snap.layer(changes)

    def finish(self) -> Sequence[Layer]:
        """With ``--single-snapshot``: the stage's one layer, from a walk at its end."""
        if self.snapshotter is None or not self.snapshotter.single_snapshot:
            return ()
        layer = self.snapshotter.layer(self.snapshotter.after_step(last=True))
        return () if layer is None else (layer,)

    def _run(self, step: Step, instr: Run, config: ImageConfig, root: Path) -> None:
        shell = config.config.shell or DEFAULT_SHELL
        argv, script = run_argv(instr, shell)
        scratch: Path | None = None
        if script is not None:  # a heredoc with a shebang runs as a file, as BuildKit does
            scratch = Path(tempfile.mkdtemp(prefix=".kaniko-heredoc-", dir=root))
            (scratch / script[0]).write_text(script[1])
            (scratch / script[0]).chmod(0o755)
            argv = ("/" + str((scratch / script[0]).relative_to(root)),)
        spec = RunSpec(
            root=root,
            argv=argv,
            env=step.run_env,
            user=config.config.user,
            workdir=config.config.working_dir or "/",
        )
        prefix = f"[{self.stage.label}:{step.line}]"
        where = f"{self.ws.dockerfile}:{step.line}"
        try:
            status = self._execute(spec, lambda line: log.info("%s %s", prefix, line))
        except BuildError as e:  # before the process ran (its USER, say): name the line
            raise (e if str(e).startswith(where) else with_context(e, where)) from None
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        if status != 0:
            raise RunError(
                f"RUN ({self.ws.dockerfile}:{step.line}) exited {status}: {' '.join(argv)[:200]}",
                status,
            )

    def _execute(self, spec: RunSpec, on_output: Callable[[str], None]) -> int:
        """Run one RUN process (in-place builds override this)."""
        return run(spec, on_output=on_output)

    def _copy(self, step: Step, instr: Copy | Add, config: ImageConfig, root: Path) -> list[str]:
        source = self._source(step, instr)
        try:
            return copy_step(
                instr,
                source=source,
                dest_root=root,
                workdir=config.config.working_dir or "/",
                user=config.config.user,
            )
        except KanikoError as e:
            raise with_context(e, f"{self.ws.dockerfile}:{step.line}") from None

    def _source(self, step: Step, instr: Copy | Add) -> CopySource:
        origin = step.copy_from
        if origin is None:
            return CopySource(self.ws.context, self.ws.matcher, True)
        if isinstance(origin, int):
            earlier = self.ws.stages.get(origin)
            if earlier is None:
                raise BuildError(f"COPY --from: stage {origin} was not built")
            return CopySource(earlier.finished_root(), None, False)
        try:
            root = self.ws.image_root(origin, self.stage.platform)
        except KanikoError as e:
            raise with_context(
                e, f"{self.ws.dockerfile}:{step.line}: COPY --from={origin}"
            ) from None
        return CopySource(root, None, False)

    def _workdir(self, config: ImageConfig, root: Path) -> list[str]:
        """Create the WORKDIR's missing directories, owned as BuildKit's mkdir file
        operation owns them for the stage's USER (no USER: root)."""
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
