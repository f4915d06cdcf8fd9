"""In-place builds (``--isolation=inplace``): a stage's root filesystem is the container's ``/``.

This is the Go kaniko's model, for the executor image in an unprivileged pod, where RUN
needs no chroot and no mounts. :class:`InplaceBuild` owns ``/`` for one build:

* Only stages that RUN something are built in ``/`` (:class:`InplaceSteps`). A stage of
  COPY/ADD/WORKDIR only is built in a directory under the workspace, as in chroot mode:
  it runs no program, so it needs nothing of ``/``, and it may write anywhere, even
  ``/kaniko`` (the executor image's own Dockerfile does).
* When such a stage starts, ``/`` is wiped except the ignore list (the kaniko directory,
  ``/proc``, ``/sys``, ``/dev``, every mount point, ``/var/run``, ``--ignore-path``, the
  workspace and the build context) and its base is extracted over it. Then its steps run
  as in chroot mode, except that RUN goes through :func:`kaniko.sandbox.inplace.run_inplace`
  and the snapshots walk ``/`` minus the ignore list. ``VOLUME`` only records the path in
  the config, as in chroot mode and BuildKit: later steps' writes below it are kept (the
  Go kaniko ignored volume paths for the rest of the stage, because its volumes were real
  mount points); a volume path that is a mount point of the container is ignored as any
  mount is.
* The wipe keeps the directories above ignored paths (``/etc`` above the mounted
  ``/etc/hosts``, ``/var`` above ``/var/run`` or a service-account token): they belong to
  the container, not to the stage, and :mod:`kaniko.executor.mountparents` makes them
  look to the stage as a chroot build would (absent until a step uses them).
* The stage that holds ``/`` stays there until another stage needs ``/``. If a later stage
  still needs it (``FROM`` it or ``COPY --from`` it) it is moved, entry by entry, into
  ``<kaniko dir>/stages/<index>`` (:mod:`kaniko.executor.rootmove`); ``COPY --from`` reads it
  there. A stage whose base is the stage in ``/``, and the only one left that needs it,
  starts from ``/`` as it is; one whose base was moved away, and the last to need it,
  moves it back; otherwise the base's layers are extracted again (pulled layers are kept
  on disk by the workspace). Where renames cannot reach the stages directory (another
  file system) a stage is kept by extracting its image there instead.

Before anything touches ``/``, :func:`kaniko.executor.preload.preload` loads what the running
process will need, so that the image being built cannot break the tool building it.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

from kaniko.dockerfile.commands import Run
from kaniko.executor.filesystem import ChrootSteps, Workspace
from kaniko.executor.mountparents import MountParents
from kaniko.executor.preload import preload
from kaniko.executor.rootmove import move_tree, same_filesystem
from kaniko.executor.stage import FilesystemSteps
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.whiteout import wipe_root
from kaniko.oci.image import Image
from kaniko.plan import BuildPlan, Stage
from kaniko.sandbox.inplace import run_inplace
from kaniko.sandbox.spec import RunSpec
from kaniko.snapshot import Snapshotter

log = logging.getLogger(__name__)

ROOT = Path("/")
TOOL_DIR = "/kaniko"
"""Where the executor image keeps the running tool (protected whatever ``--kaniko-dir``)."""

Use = tuple[int, str]
"""A later stage's need of a stage: (its index, ``"from"`` or ``"copy"``)."""


def stage_uses(plan: BuildPlan) -> dict[int, list[Use]]:
    """For each stage index, the later stages that build ``FROM`` it or read from it."""
    uses: dict[int, list[Use]] = defaultdict(list)
    for stage in plan.stages:
        if isinstance(stage.base, int):
            uses[stage.base].append((stage.index, "from"))
        for step in stage.steps:
            for ref in (step.copy_from, *step.mount_from):
                if isinstance(ref, int):
                    uses[ref].append((stage.index, "copy"))
    return uses


def runs_programs(stage: Stage) -> bool:
    """Whether ``stage`` has a RUN step (and so needs ``/`` in an in-place build)."""
    return any(isinstance(step.instruction, Run) for step in stage.steps)


def inplace_ignore_list(ws: Workspace, mountinfo: str | None = None) -> IgnoreList:
    """The ignore list of an in-place build (see the module docs)."""
    opts = ws.options
    extra = [*opts.snapshot.ignore_paths, str(ws.base)]
    if sys.executable.startswith(TOOL_DIR + "/"):
        extra.append(TOOL_DIR)
    context = str(ws.context.resolve())
    if context != "/":
        extra.append(context)  # the build context is read by every COPY: never wiped
    return IgnoreList.default(opts.kaniko_dir, opts.snapshot.ignore_var_run, extra, mountinfo)


class InplaceBuild:
    """Owner of ``/`` during one in-place build.

    ``root``, ``mountinfo`` and ``stages_dir`` let tests stand a directory in for ``/``
    (RUN then goes through the chroot sandbox).
    """

    def __init__(
        self,
        ws: Workspace,
        plan: BuildPlan,
        images: Mapping[int, Image],
        *,
        root: Path = ROOT,
        mountinfo: str | None = None,
        stages_dir: Path | None = None,
    ) -> None:
        self.ws = ws
        self.images = images
        self.root = root
        self.stages_dir = stages_dir or Path(ws.options.kaniko_dir) / "stages"
        self.ignore = inplace_ignore_list(ws, mountinfo)
        self.uses = stage_uses(plan)
        self.occupant: InplaceSteps | None = None
        self.parents = MountParents(root, ())  # those of the occupant that no step used
        self.saved: dict[int, Path] = {}
        self._tempdir = tempfile.tempdir
        private_tmp = ws.base / "tmp"  # /tmp is the image's now; this one is ignored
        private_tmp.mkdir(exist_ok=True)
        tempfile.tempdir = str(private_tmp)
        if root == ROOT:
            preload()
        log.info("Building in place: stages that RUN use %s as their root", root)
        log.debug("In-place ignore list: %s", " ".join(self.ignore))

    def steps(self, stage: Stage, base: Image) -> FilesystemSteps:
        """The filesystem steps of ``stage``: in ``root`` if it runs programs."""
        if runs_programs(stage):
            return InplaceSteps(self.ws, stage, base, self)
        return ChrootSteps(self.ws, stage, base)

    # -- who holds the root ---------------------------------------------------------------
    def _left(self, index: int, after: int) -> list[Use]:
        """The uses of stage ``index`` by stages from ``after`` on (not built yet)."""
        return [use for use in self.uses.get(index, ()) if use[0] >= after]

    def _only_base_of(self, index: int, stage: Stage) -> bool:
        """Whether ``stage`` is the last stage to need stage ``index``, and only as its base."""
        return self._left(index, stage.index) == [(stage.index, "from")]

    def enter(self, steps: InplaceSteps) -> None:
        """Make ``root`` hold ``steps``'s base, moving or dropping the stage there now."""
        stage = steps.stage
        occupant = self.occupant
        if occupant is not None and self._only_base_of(occupant.stage.index, stage):
            log.info("Stage %s starts from stage %s's files in place", stage.label, stage.base)
            self.occupant = steps
            return
        if occupant is not None and self._left(occupant.stage.index, stage.index):
            self.keep(occupant)
        self.occupant = None
        wipe_root(self.root, ignore=self.ignore)
        parents = MountParents.reset(self.root, self.ignore)
        base = stage.base
        if isinstance(base, int) and base in self.saved and self._only_base_of(base, stage):
            saved = self.saved.pop(base)
            log.info("Moving stage %s back into %s", base, self.root)
            move_tree(saved, self.root, self.ignore)
            shutil.rmtree(saved, ignore_errors=True)
        else:
            self.ws.extract(steps.base, self.root, ignore=self.ignore)
        self.parents = parents.still_new()
        self.occupant = steps

    def keep(self, steps: InplaceSteps) -> Path:
        """Keep finished ``steps``'s tree in the stages directory; return where it is."""
        index = steps.stage.index
        if index in self.saved:
            return self.saved[index]
        target = self.stages_dir / str(index)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True, mode=0o755)
        if self.occupant is steps and same_filesystem(self.root, target):
            moved = move_tree(self.root, target, steps.ignore)
            self.parents.drop_unused(target)  # COPY --from must not find them there
            log.info("Kept stage %s in %s (%d entries moved)", steps.stage.label, target, moved)
            self.occupant = None
        else:
            log.info("Keeping stage %s in %s", steps.stage.label, target)
            self.ws.extract(self.images[index], target)
        self.saved[index] = target
        return target

    def close(self, *, cleanup: bool = False) -> None:
        """Remove the kept stages; restore the process's temporary directory.

        With ``cleanup`` (``--cleanup``) the root is wiped too (except the ignore list),
        so the container can run another build from a clean ``/``.
        """
        tempfile.tempdir = self._tempdir
        if cleanup and self.occupant is not None:
            log.info("Cleaning up %s", self.root)
            wipe_root(self.root, ignore=self.ignore)
        for path in self.saved.values():
            shutil.rmtree(path, ignore_errors=True)
        self.saved.clear()
        self.occupant = None


class InplaceSteps(ChrootSteps):
    """The :class:`~kaniko.executor.stage.FilesystemSteps` of a stage built in place."""

    def __init__(self, ws: Workspace, stage: Stage, base: Image, build: InplaceBuild) -> None:
        super().__init__(ws, stage, base)
        self.build = build
        self.ignore = build.ignore

    def _ensure_root(self) -> tuple[Path, Snapshotter]:
        if self.root is None or self.snapshotter is None:
            self.build.enter(self)
            self.snapshotter = self.new_snapshotter(self.build.root, self._ignored)
            self.root = self.build.root
        return self.root, self.snapshotter

    def _ignored(self, rel: str) -> bool:
        return self.ignore.ignored_rel(rel) or self.build.parents.hides(rel)

    def finished_root(self) -> Path:
        """Where ``COPY --from`` reads this stage: its kept tree (moved out of ``/`` now)."""
        return self.build.keep(self)

    def _execute(self, spec: RunSpec, on_output: Callable[[str], None]) -> int:
        if self.build.root == ROOT:
            return run_inplace(spec, on_output=on_output)
        return super()._execute(spec, on_output)  # a directory standing in for / (tests)
