"""Chroot stage roots as overlay mounts over kept bases (issue 14), and when to use them.

:func:`overlay_parts` decides once per build: with ``--snapshotter=auto`` (the default)
chroot builds use overlay snapshots where a probe mount in the workspace succeeds (root,
an upper file system overlay accepts), and fall back to the metadata snapshotter with one
log line where it is refused (the unprivileged pod, in-place isolation, a workspace on
overlayfs); ``--snapshotter=overlay`` makes a refusal an error and ``metadata`` never
tries. The two give the same layers (the conformance suite runs both ways).

With overlay, each stage's root (:class:`OverlayDirectory`) is an
:class:`~kaniko.snapshot.overlay.OverlayStack` over its base's tree: for a registry
image the tree kept in the :class:`~kaniko.fs.basestore.BaseStore` (extracted once per
machine, shared read-only by every build and stage on it), for an earlier stage's image
a tree extracted into the workspace, for ``scratch`` an empty directory. The root is
still made ready only when the stage's first filesystem step runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kaniko.errors import BuildError
from kaniko.executor.filesystem import RootSource, Snapshots, StageParts
from kaniko.executor.timing import count
from kaniko.executor.workspace import Extractor
from kaniko.fs.basestore import BaseStore, chain_id
from kaniko.fs.ignore import IgnoreList
from kaniko.fs.inventory import IgnoreFn
from kaniko.fs.overlaymount import OverlayRefused, mount_overlay, unmount
from kaniko.oci.image import Image
from kaniko.options import BuildOptions
from kaniko.plan.model import Stage
from kaniko.snapshot.overlay import OverlaySnapshotter, OverlayStack

log = logging.getLogger(__name__)


def probe_overlay(directory: Path) -> str | None:
    """Mount and unmount a small overlay in ``directory``; None, or why it was refused."""
    if os.geteuid() != 0:
        return "not running as root"
    probe = Path(tempfile.mkdtemp(prefix="overlay-probe-", dir=directory))
    for name in ("lower", "upper", "work", "merged"):
        (probe / name).mkdir()
    try:
        mount_overlay(str(probe / "merged"), [str(probe / "lower")], str(probe / "upper"),
                      str(probe / "work"))  # fmt: skip
    except OSError as e:
        return e.strerror or str(e)
    unmount(str(probe / "merged"))
    return None


def store_dir(options: BuildOptions) -> Path:
    """``--extracted-base-dir``, else ``<kaniko dir>/extracted``."""
    return Path(options.perf.base_store_dir or os.path.join(options.kaniko_dir, "extracted"))


class OverlayRoots:
    """Makes each stage's overlay root (a :class:`~kaniko.executor.filesystem.RootMaker`)."""

    def __init__(self, extractor: Extractor, snapshots: Snapshots, store: BaseStore | None):
        self.extractor = extractor
        self.snapshots = snapshots
        self.store = store
        self._stacks: list[OverlayStack] = []

    def root_source(self, stage: Stage, base: Image) -> RootSource:
        return OverlayDirectory(self, stage, base)

    def base_tree(self, stage: Stage, base: Image) -> list[str]:
        """The lower directories of ``base`` (none for an image without layers)."""
        if not base.layers():
            return []
        remote = isinstance(stage.base, str) and stage.base != "scratch"
        if remote and self.store is not None:
            rules = self.extractor.rules
            fingerprint = hashlib.sha256(
                repr((rules.var_run, sorted(rules.paths))).encode()
            ).hexdigest()[:12]
            key = f"{chain_id([layer.diff_id for layer in base.layers()])}-{fingerprint}"
            tree, made = self.store.tree(key, lambda d: self._extract(base, d))
            count("base_extracted" if made else "base_kept")
            return [str(tree)]
        tree = self.extractor.workspace.new_root(f"base-{stage.index}")
        self._extract(base, tree)
        count("base_extracted")
        return [str(tree)]

    def _extract(self, image: Image, directory: Path) -> None:
        self.extractor.extract(image, directory, ignore=self.extractor.ignore_list(directory))

    def stack(self, stage: Stage, lowers: list[str]) -> OverlayStack:
        workspace = self.extractor.workspace
        root = workspace.new_root(f"stage-{stage.index}")  # stage-1.2: another platform's
        stack = OverlayStack(workspace.base / f"overlay-{root.name}", root, lowers)
        self._stacks.append(stack)
        stack.mount()
        count("overlay_stages")
        return stack

    def close(self) -> None:
        """Unmount every stage root, release the kept bases."""
        for stack in reversed(self._stacks):
            stack.close()
        self._stacks.clear()
        if self.store is not None:
            self.store.close()


class OverlayDirectory:
    """A :class:`~kaniko.executor.filesystem.RootSource`: an overlay root over ``base``."""

    def __init__(self, roots: OverlayRoots, stage: Stage, base: Image) -> None:
        self.roots = roots
        self.stage = stage
        self.base = base
        self._stack: OverlayStack | None = None
        self._ignore: IgnoreFn | None = None

    def prepare(self) -> tuple[Path, IgnoreFn]:
        lowers = self.roots.base_tree(self.stage, self.base)
        self._stack = self.roots.stack(self.stage, lowers)
        root = self._stack.root
        self._ignore = self.roots.extractor.ignore_list(root).ignored_rel
        return root, self._ignore

    def ignore_list(self, root: Path) -> IgnoreList:
        return self.roots.extractor.ignore_list(root)

    def start_snapshots(self, snapshots: Snapshots) -> OverlaySnapshotter:
        """The stage's snapshotter (after :meth:`prepare`)."""
        assert self._stack is not None
        return OverlaySnapshotter(
            self._stack,
            ignore=self._ignore,
            mode=snapshots.mode,
            layer_options=snapshots.layer_options(self.base),
            single_snapshot=snapshots.single_snapshot,
        )


@contextlib.contextmanager
def overlay_parts(options: BuildOptions, isolation: str, parts: StageParts) -> Iterator[StageParts]:
    """``parts`` with overlay roots where this build uses them (see the module docs);
    at the end every overlay is unmounted and the kept bases released."""
    wanted = options.perf.snapshotter
    if wanted == "metadata" or isolation != "chroot":
        if wanted == "overlay":
            raise BuildError("--snapshotter=overlay needs chroot isolation")
        yield parts
        return
    refused = probe_overlay(parts.extractor.workspace.tmp)
    if refused is not None:
        if wanted == "overlay":
            raise BuildError(f"--snapshotter=overlay: overlay mounts are refused here: {refused}")
        log.info("overlay mounts are refused here (%s): snapshots walk the root", refused)
        yield parts
        return
    store = None
    if options.perf.base_store_size > 0:
        store = BaseStore(store_dir(options), options.perf.base_store_size)
    roots = OverlayRoots(parts.extractor, parts.snapshots, store)
    try:
        yield dataclasses.replace(parts, roots=roots)
    finally:
        roots.close()


__all__ = ["OverlayRefused", "OverlayRoots", "overlay_parts", "probe_overlay"]
