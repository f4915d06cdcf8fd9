"""In-place builds (``--isolation=inplace``): a stage's root filesystem is the container's ``/``.

This is the Go kaniko's model, for the executor image in an unprivileged pod, where RUN
needs no chroot and no mounts. :class:`InplaceBuild` owns ``/`` for one build, and the
conversation about it: the executor asks it for each stage's filesystem steps, tells it
each finished image, and ``COPY --from`` asks it for a finished stage's tree; the steps
of a stage in ``/`` only ask it to make ``/`` theirs, once, when their first step runs.

* Only stages that RUN something are built in ``/`` (a
  :class:`~kaniko.executor.filesystem.DirectorySteps` whose root is ``/`` and whose RUN
  goes through :func:`kaniko.sandbox.inplace.run_inplace`). A stage of
  COPY/ADD/WORKDIR only is built in a directory under the workspace, as in chroot mode:
  it runs no program, so it needs nothing of ``/``, and it may write anywhere, even
  ``/kaniko`` (the executor image's own Dockerfile does).
* When such a stage starts, ``/`` is wiped except the ignore list (the kaniko directory,
  ``/proc``, ``/sys``, ``/dev``, every mount point, ``/var/run``, ``--ignore-path``, the
  workspace and the build context) and its base is extracted over it. Then its steps run
  as in chroot mode, except for RUN's runner, and the snapshots walk ``/`` minus the
  ignore list. ``VOLUME`` only records the path in the config, as in chroot mode and
  BuildKit: later steps' writes below it are kept (the Go kaniko ignored volume paths
  for the rest of the stage, because its volumes were real mount points); a volume path
  that is a mount point of the container is ignored as any mount is.
* The wipe keeps the directories above ignored paths (``/etc`` above the mounted
  ``/etc/hosts``, ``/var`` above ``/var/run`` or a service-account token): they belong to
  the container, not to the stage, and :mod:`kaniko.executor.mountparents` makes them
  look to the stage as a chroot build would (absent until a step uses them).
* Stages that RUN are built one at a time (``/`` is one); with ``--jobs`` above 1 the
  stages built in directories may be built meanwhile (the scheduler gives the stages
  that RUN one exclusive resource), so what is decided about ``/`` is decided under one
  lock, and "a later stage needs it" means a stage not finished yet.
* A multi-platform build has one :class:`InplaceBuild` per platform, all on one ``/``
  (their stages that RUN take turns with one another too): the one that enters ``/``
  makes the one holding it vacate it (:class:`RootTurns`: the stage there is kept if a
  later stage needs it), and a stage another platform's build reads (a shared stage) is
  lent: kept when it leaves the root, until the end, never moved back.
* The stage that holds ``/`` stays there until another stage needs ``/``. If a later stage
  still needs it (``FROM`` it or ``COPY --from`` it) it is moved, entry by entry, into
  ``<kaniko dir>/stages/<index>`` (:mod:`kaniko.executor.rootmove`); ``COPY --from`` reads it
  there. A stage whose base is the stage in ``/``, and the only one left that needs it,
  starts from ``/`` as it is; one whose base was moved away, and the last to need it,
  moves it back; otherwise the base's layers are extracted again (pulled layers are kept
  on disk by the workspace). Where renames cannot reach the stages directory (another
  file system) a stage is kept by extracting its image there instead.

Before anything touches ``/``, :func:`kaniko.executor.preload.preload` loads what the running
process will need, so that the image being built cannot break the tool building it. The
process's temporary files are not in ``/tmp`` either (it is the image's now: they would
be wiped with it or land in a snapshot): the executor points ``tempfile`` at the
workspace for the whole build.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
from pathlib import Path

from kaniko.dockerfile.commands import Run
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.executor.filesystem import DirectoryRoots, DirectorySteps, Runner, StageParts
from kaniko.executor.mountparents import MountParents
from kaniko.executor.preload import preload
from kaniko.executor.rootmove import move_tree, same_filesystem
from kaniko.executor.workspace import IgnoreRules, Images, Workspace
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.inventory import IgnoreFn
from kaniko.fs.whiteout import wipe_root
from kaniko.oci.image import Image
from kaniko.plan import BuildPlan, Stage
from kaniko.plan.model import Edge
from kaniko.sandbox import chroot
from kaniko.sandbox.inplace import run_inplace

log = logging.getLogger(__name__)

ROOT = Path("/")
TOOL_DIR = "/kaniko"
"""Where the executor image keeps the running tool (protected whatever ``--kaniko-dir``)."""


def runs_programs(stage: Stage) -> bool:
    """Whether ``stage`` has a RUN step (and so needs ``/`` in an in-place build)."""
    return any(isinstance(step.instruction, Run) for step in stage.steps)


def inplace_ignore_list(
    rules: IgnoreRules,
    kaniko_dir: str,
    workspace: Workspace,
    context: Path,
    mountinfo: str | None = None,
    keep: tuple[str, ...] = (),
) -> IgnoreList:
    """The ignore list of an in-place build (see the module docs); ``keep``: more host
    paths to leave alone (the cache mounts' store)."""
    extra = [*rules.paths, str(workspace.base), *keep]
    if sys.executable.startswith(TOOL_DIR + "/"):
        extra.append(TOOL_DIR)
    if str(context.resolve()) != "/":
        extra.append(str(context.resolve()))  # read by every COPY: never wiped
    return IgnoreList.default(kaniko_dir, rules.var_run, extra, mountinfo)


class _InRoot:
    """The :class:`~kaniko.executor.filesystem.RootSource` of a stage built in ``/``."""

    def __init__(self, build: InplaceBuild, stage: Stage, base: Image) -> None:
        self._build = build
        self._stage = stage
        self._base = base

    def prepare(self) -> tuple[Path, IgnoreFn]:
        return self._build.enter(self._stage, self._base)

    def ignore_list(self, root: Path) -> IgnoreList:
        return self._build.ignore


class InplaceBuild(DirectoryRoots):
    """Owner of ``/`` during one in-place build: the
    :class:`~kaniko.executor.stage.StageRoots` of in-place mode.

    ``root``, ``mountinfo`` and ``stages_dir`` let tests stand a directory in for ``/``
    (RUN then goes through the chroot sandbox).
    """

    def __init__(
        self,
        parts: StageParts,
        plan: BuildPlan,
        *,
        context: Path,
        matcher: PatternMatcher | None,
        images: Images,
        kaniko_dir: str,
        root: Path = ROOT,
        mountinfo: str | None = None,
        stages_dir: Path | None = None,
        keep: tuple[str, ...] = (),
    ) -> None:
        super().__init__(parts, context=context, matcher=matcher, images=images)
        workspace = parts.extractor.workspace
        self.root = root
        self.stages_dir = stages_dir or Path(kaniko_dir) / "stages"
        self.ignore = inplace_ignore_list(
            parts.extractor.rules, kaniko_dir, workspace, context, mountinfo, keep
        )
        self.runner: Runner = run_inplace if root == ROOT else chroot.run  # tests: chroot
        self.users = plan.users()
        self.occupant: int | None = None  # the stage whose files are in the root
        self.parents = MountParents(root, ())  # those of the occupant that no step used
        self.saved: dict[int, Path] = {}
        self._in_root: set[int] = set()  # stages built in the root
        self._images: dict[int, Image] = {}
        self._done: set[int] = set()  # finished stages
        self._lock = threading.RLock()  # stages built at once: one decides about the root
        self.turns: RootTurns | None = None  # the other platforms' builds on the root
        self._lent: set[int] = set()  # stages another platform's build reads (--from)
        if root == ROOT:
            preload()
        log.info("Building in place: stages that RUN use %s as their root", root)
        log.debug("In-place ignore list: %s", " ".join(self.ignore))

    def steps(self, stage: Stage, base: Image) -> DirectorySteps:
        """The filesystem steps of ``stage``: in ``root`` if it runs programs, else in a
        directory of the workspace."""
        if not runs_programs(stage):
            return super().steps(stage, base)
        self._in_root.add(stage.index)
        inroot = _InRoot(self, stage, base)
        steps = DirectorySteps(stage, base, self.parts, inroot, self.sources, self.runner)
        return self._register(steps)

    def finished(self, stage: Stage, image: Image) -> None:
        """``stage`` is built: a kept copy of it, where renames cannot make one, is
        extracted from ``image``."""
        with self._lock:
            self._images[stage.index] = image
            self._done.add(stage.index)

    def tree(self, index: int) -> Path:
        """Where ``COPY --from`` reads stage ``index``: its kept tree (moved out of the
        root now, if it is there) for a stage built in place."""
        with self._lock:
            if index in self._in_root:
                return self.keep(index)
        return super().tree(index)

    def where(self, index: int) -> tuple[Path, IgnoreFn] | None:
        """A stage built in place: the root while it holds the stage (minus the ignore
        list), else its kept tree, else None (wiped); others as in chroot mode."""
        if index not in self._in_root:
            return super().where(index)
        with self._lock:
            if self.occupant == index:
                return self.root, self.ignore.ignored_rel
            if index in self.saved:
                return self.saved[index], lambda rel: False
        return None

    # -- who holds the root ---------------------------------------------------------------
    def _left(self, index: int) -> list[Edge]:
        """The needs of stage ``index`` by stages not finished yet."""
        return [edge for edge in self.users.get(index, ()) if edge.user not in self._done]

    def _only_base_of(self, index: int, stage: Stage) -> bool:
        """Whether ``stage`` is the last stage to need stage ``index``, and only as its
        base (never true of a stage lent to another platform's build)."""
        return index not in self._lent and self._left(index) == [Edge(stage.index, index, "from")]

    def _needed(self, index: int) -> bool:
        """Whether finished stage ``index``'s tree must be kept when it leaves the root."""
        return bool(self._left(index)) or index in self._lent

    def enter(self, stage: Stage, base: Image) -> tuple[Path, IgnoreFn]:
        """Make ``root`` hold ``stage``'s base, moving or dropping the stage there now;
        the root and what the stage's snapshots must not see."""
        with self._lock:
            return self._enter(stage, base)

    def _enter(self, stage: Stage, base: Image) -> tuple[Path, IgnoreFn]:
        if self.turns is not None:
            self.turns.claim(self)
        occupant = self.occupant
        if occupant is not None and self._only_base_of(occupant, stage):
            log.info("Stage %s starts from stage %s's files in place", stage.label, stage.base)
        else:
            if occupant is not None and self._needed(occupant):
                self.keep(occupant)
            self.occupant = None
            wipe_root(self.root, ignore=self.ignore)
            parents = MountParents.reset(self.root, self.ignore)
            kept = stage.base if isinstance(stage.base, int) else None
            if kept is not None and kept in self.saved and self._only_base_of(kept, stage):
                saved = self.saved.pop(kept)
                log.info("Moving stage %s back into %s", kept, self.root)
                move_tree(saved, self.root, self.ignore)
                shutil.rmtree(saved, ignore_errors=True)
            else:
                self.parts.extractor.extract(base, self.root, ignore=self.ignore)
            self.parents = parents.still_new()
        self.occupant = stage.index
        ignore, parents = self.ignore, self.parents
        return self.root, lambda rel: ignore.ignored_rel(rel) or parents.hides(rel)

    def vacate(self) -> None:
        """Another platform's build takes the root: the stage in it is kept if a stage of
        this build not finished yet needs it; this build holds nothing there any more."""
        with self._lock:
            occupant = self.occupant
            if occupant is not None and self._needed(occupant):
                self._keep(occupant)
            self.occupant = None

    def will_lend(self, index: int) -> None:
        """Another platform's build will read stage ``index``'s tree (``COPY --from`` a
        shared stage): when the stage leaves the root it is kept, and it is never built
        on in place nor moved back into the root, so the tree stays until the end."""
        with self._lock:
            self._lent.add(index)

    def keep(self, index: int) -> Path:
        """Keep finished stage ``index``'s tree in the stages directory; return where."""
        with self._lock:
            return self._keep(index)

    def _keep(self, index: int) -> Path:
        if index in self.saved:
            return self.saved[index]
        target = self.stages_dir / str(index)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True, mode=0o755)
        label = self._built[index].stage.label
        if self.occupant == index and same_filesystem(self.root, target):
            moved = move_tree(self.root, target, self.ignore)
            self.parents.drop_unused(target)  # COPY --from must not find them there
            log.info("Kept stage %s in %s (%d entries moved)", label, target, moved)
            self.occupant = None
        else:
            log.info("Keeping stage %s in %s", label, target)
            self.parts.extractor.extract(self._images[index], target)
        self.saved[index] = target
        return target

    def close(self, *, cleanup: bool = False) -> None:
        """Remove the kept stages.

        With ``cleanup`` (``--cleanup``) the root is wiped too (except the ignore list),
        so the container can run another build from a clean ``/``.
        """
        with self._lock:
            self._close(cleanup)

    def _close(self, cleanup: bool) -> None:
        if cleanup and self.occupant is not None:
            log.info("Cleaning up %s", self.root)
            wipe_root(self.root, ignore=self.ignore)
        for path in self.saved.values():
            shutil.rmtree(path, ignore_errors=True)
        self.saved.clear()
        self.occupant = None


class RootTurns:
    """The in-place builds of a multi-platform build (one per platform) share the root:
    the one that enters it makes the one holding it :meth:`~InplaceBuild.vacate` it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: InplaceBuild | None = None

    def claim(self, build: InplaceBuild) -> None:
        """``build`` enters the root now."""
        with self._lock:
            holder, self._holder = self._holder, build
        if holder is not None and holder is not build:
            holder.vacate()
