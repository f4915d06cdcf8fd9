"""The layer cache in the executor: which steps are looked up, and what a hit leaves to do.

:class:`BuildCache` is one build's cache (``--cache``): the store (``--cache-repo``, a
registry repository or ``oci:PATH``), the checks of :class:`~kaniko.cache.layercache.
LayerCache`, the background :class:`~kaniko.cache.layercache.CacheWriter` (none with
``--no-push-cache``) and the layer indexes of :mod:`kaniko.cache.view`. For each stage it
wraps the stage's :class:`~kaniko.executor.filesystem.DirectorySteps` in a
:class:`CachedSteps`.

When a stage starts, :class:`CachedSteps` computes the key of every filesystem step at once
(replaying the stage's metadata steps as the stage will, so each step sees its USER,
WORKDIR and SHELL) and starts looking up every cacheable one in parallel: RUN with
``--cache-run-layers`` (default on), COPY and ADD with ``--cache-copy-layers``. A miss
does not stop the look-ups of later steps (oss#703): each has its own key.

Then each step, in order:

* a hit appends the cached layer as it was built (the stage replays the step's config
  changes, as for any step); the stage's root is not touched: it is not even made until
  a step needs it, and then the layers the cache served are applied over the base;
* a RUN that misses runs in the stage's full root (made now if need be);
* a COPY, ADD or WORKDIR that misses, before the root is made, runs on a partial root
  holding only what it reads of the image so far (:mod:`kaniko.executor.sparse`), so a
  rebuild whose last COPY changed extracts neither the base nor the cached RUN layers;
* the layer of a cacheable step that ran is stored in the background (each key once).

A stage whose every step hit is never built: a later ``COPY --from`` of it, or an
``--sbom`` scan, extracts its image, cached layers included, and runs nothing. A key that
cannot be computed (a COPY source missing, a URL that cannot be reached) leaves that step
and the stage's later ones uncached: the step runs and fails, or not, as without cache.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kaniko.cache import keys
from kaniko.cache.layercache import CacheStore, CacheWriter, Clock, Hit, LayerCache, utc_now
from kaniko.cache.layoutstore import LayoutStore, is_layout_repo
from kaniko.cache.registrystore import RegistryStore, cache_repository
from kaniko.cache.view import ImageView, IndexStore, LayerIndex, ViewTooLarge
from kaniko.dockerfile.commands import Add, Copy, Run, Workdir
from kaniko.errors import KanikoError
from kaniko.executor import metadata
from kaniko.executor.filesystem import DirectorySteps
from kaniko.executor.sourcedigest import context_path_digest, source_digest
from kaniko.executor.sparse import PartialRoot, needed_entries
from kaniko.executor.stage import FilesystemSteps, created_by
from kaniko.executor.workspace import Extractor, Images
from kaniko.oci.config import ImageConfig
from kaniko.oci.digest import Digest
from kaniko.oci.image import Image, Layer
from kaniko.oci.mediatypes import uses_oci_types
from kaniko.options import BuildOptions
from kaniko.plan.model import Stage, Step
from kaniko.plan.mountkeys import step_mount_keys
from kaniko.registry.transport import Transport

log = logging.getLogger(__name__)

LOOKUP_WORKERS = 4
INDEX_DIR = "layer-index"
"""Where layer indexes are kept under ``--cache-dir`` (ignored by the Go kaniko)."""


def make_store(options: BuildOptions, transport: Transport) -> CacheStore:
    """The store ``--cache-repo`` names (or the one kaniko infers from the destination)."""
    repo = options.cache.repo
    if is_layout_repo(repo):
        return LayoutStore(repo.removeprefix("oci:"))
    return RegistryStore(transport, cache_repository(repo, options.output.destinations))


def mount_inputs(
    step: Step, origin: Callable[[int | str], str], context: Callable[[str], str]
) -> str:
    """What the ``RUN --mount`` sources of ``step`` add to its key (the hook of the mounts
    work, :mod:`kaniko.plan.mountkeys`): each mount's canonical text, and for a bind (or a
    seeded cache) the identity of its ``from=`` stage or image, or the digest of its
    source in the build context (``context``). A cache's content and a secret's value
    never count; a secret is never read here."""
    mount_keys = step_mount_keys(step)
    found = []
    for mount_key, ref in zip(
        mount_keys, step.mount_from or (None,) * len(mount_keys), strict=True
    ):
        if mount_key.content is None:
            found.append([mount_key.text])
        elif ref is None:
            found.append([mount_key.text, context(mount_key.content[1])])
        else:
            found.append([mount_key.text, origin(ref)])
    return json.dumps(found)


@dataclass(frozen=True)
class Policy:
    """What the options say of every stage's cache."""

    run_layers: bool
    copy_layers: bool
    layer_options: str
    run_ignore: str
    compression: str | None

    @classmethod
    def from_options(cls, options: BuildOptions, oci: bool) -> Policy:
        out, snap = options.output, options.snapshot
        return cls(
            run_layers=options.cache.run_layers,
            copy_layers=options.cache.copy_layers,
            layer_options=keys.layer_options(
                reproducible=out.reproducible,
                epoch=out.source_date_epoch,
                compression=out.compression,
                level=out.compression_level,
                snapshot_mode=snap.mode,
                oci=oci,
            ),
            run_ignore=json.dumps([snap.ignore_var_run, sorted(snap.ignore_paths)]),
            compression=out.compression,
        )

    def cacheable(self, step: Step) -> bool:
        instr = step.instruction
        if isinstance(instr, Run):
            return self.run_layers
        return self.copy_layers and isinstance(instr, Copy | Add)


class BuildCache:
    """The layer cache of one build (see the module docs); :meth:`close` waits for the
    entries being stored.

    Stages built at once share it, from their own threads: each key is looked up once per
    build (stages whose steps share a key get the same answer, and the entry is read and
    its blob checked once), on the lookup pool, in a copy of the asking stage's context
    (its log lines name the stage).
    """

    def __init__(
        self,
        options: BuildOptions,
        transport: Transport,
        extractor: Extractor,
        images: Images,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.options = options
        self.images = images
        store = make_store(options, transport)
        self.store = store
        blobs = extractor.workspace.blobs
        self.cache = LayerCache(store, ttl=options.cache.ttl, blobs=blobs, clock=clock)
        self.writer = None if options.cache.no_push_cache else CacheWriter(store, clock)
        self.indexes = IndexStore(index_directory(options.cache.dir), extractor.open_layer)
        self._pool = ThreadPoolExecutor(LOOKUP_WORKERS, thread_name_prefix="cache-lookup")
        self._lock = threading.Lock()  # guards the two below: stages call in at once
        self._lookups: dict[str, Future[Hit | None]] = {}
        self._warned_single = False

    def steps(
        self, stage: Stage, base: Image, fs: FilesystemSteps, built: Mapping[int, Image]
    ) -> FilesystemSteps:
        """``fs`` with the cache in front of it (``fs`` itself where the cache cannot be)."""
        if not isinstance(fs, DirectorySteps):
            return fs
        if self.options.snapshot.single_snapshot:
            with self._lock:
                warn, self._warned_single = not self._warned_single, True
            if warn:
                log.warning("--single-snapshot: one layer per stage, so no layer is cached")
            return fs
        return CachedSteps(self, stage, base, fs, built)

    def lookup(self, key: str) -> Future[Hit | None]:
        """The look-up of ``key``: started now, or the one a stage started already."""
        with self._lock:
            found = self._lookups.get(key)
            if found is None:
                context = contextvars.copy_context()
                found = self._pool.submit(context.run, self.cache.lookup, key)
                self._lookups[key] = found
            return found

    def made(self, key: str, layer: Layer | None) -> None:
        """The step of ``key`` ran in this build and made ``layer``: a stage asking for
        ``key`` from now on is given that layer, not the miss an earlier look-up found
        (nor a store round trip racing the background write)."""
        done: Future[Hit | None] = Future()
        done.set_result(Hit(key, layer, utc_now(), this_build=True))
        with self._lock:
            self._lookups[key] = done

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.writer is not None:
            self.writer.close()


def index_directory(cache_dir: str) -> Path | None:
    """``<cache-dir>/layer-index`` when the cache directory is there and writable."""
    if cache_dir and os.path.isdir(cache_dir) and os.access(cache_dir, os.W_OK | os.X_OK):
        return Path(cache_dir) / INDEX_DIR
    return None


@dataclass
class _Planned:
    """One filesystem step's key (None: not computable) and its look-up, if any."""

    key: str | None
    parts: keys.KeyParts
    parent: str = ""
    lookup: Future[Hit | None] | None = None


class CachedSteps:
    """The cache in front of one stage's :class:`DirectorySteps` (see the module docs)."""

    def __init__(
        self,
        cache: BuildCache,
        stage: Stage,
        base: Image,
        fs: DirectorySteps,
        built: Mapping[int, Image],
    ) -> None:
        self.cache = cache
        self.stage = stage
        self.base = base
        self.fs = fs
        self.built = built
        self.oci = uses_oci_types(cache.options.output.compression, base.media_type)
        self.policy = Policy.from_options(cache.options, self.oci)
        self.layers: list[Layer] = []  # what this stage appended, in order
        self._indexes: list[LayerIndex] | None = None
        self._partials = 0
        self._made: set[Digest] = set()  # digests of the layers made on partial roots
        self._inputs: dict[int, dict[str, str]] = {}
        self._planned: dict[int, _Planned] = {}
        self._plan()
        self._chain: str | None = self._base_identity()  # the key of the last step run

    # -- keys ---------------------------------------------------------------------------
    def _origin(self, ref: int | str) -> str:
        """The identity of a stage's result or of an image (``--from``, ``from=``)."""
        platform = self.stage.platform
        if isinstance(ref, int):
            return keys.rootfs_identity(self.built[ref].config().diff_ids, platform)
        return keys.image_identity(self.cache.images.image(ref, platform), platform)

    def _base_identity(self) -> str:
        base = self.stage.base
        kind = "scratch" if base == "scratch" else "stage" if isinstance(base, int) else "image"
        return keys.base_identity(kind, self.base, self.stage.platform)

    def _step_inputs(self, step: Step) -> dict[str, str]:
        """What a step reads besides its instruction and config: sources, ``--from``."""
        instr = step.instruction
        found: dict[str, str] = {}
        if isinstance(instr, Copy | Add):
            if step.copy_from is not None:
                found["from"] = self._origin(step.copy_from)
            else:
                source = self.fs.sources.source(None, self.stage.platform)
                found["sources"] = source_digest(instr, source)
        elif isinstance(instr, Run):
            context = self.fs.sources.source(None, self.stage.platform)
            found["mounts"] = mount_inputs(
                step, self._origin, lambda path: context_path_digest(context, path)
            )
        return found

    def _parts(self, step: Step, config: ImageConfig, inputs: dict[str, str]) -> keys.KeyParts:
        """The named inputs of ``step`` run with ``config`` (see :mod:`kaniko.cache.keys`)."""
        instr = step.instruction
        run = config.config
        parts = [("step", keys.instruction_form(instr)), ("layer", self.policy.layer_options)]
        workdir = run.working_dir or "/"
        if isinstance(instr, Run):
            parts += [
                ("env", keys.pairs_form(step.env)),
                ("args", keys.pairs_form(step.args)),
                ("shell", json.dumps(list(run.shell or metadata.DEFAULT_SHELL))),
                ("user", run.user),
                ("workdir", workdir),
                ("ignore", self.policy.run_ignore),
            ]
        elif isinstance(instr, Workdir):
            parts += [("user", run.user), ("workdir", workdir)]
        else:
            parts += [("workdir", workdir)]
        return [*parts, *sorted(inputs.items())]

    def _plan(self) -> None:
        parent: str | None = self._base_identity()
        for index, step, config in fs_steps(self.stage, self.base.config()):
            key = None
            parts: keys.KeyParts = ()
            if parent is not None:
                try:
                    self._inputs[index] = self._step_inputs(step)
                    parts = self._parts(step, config, self._inputs[index])
                    key = keys.cache_key(parent, parts)
                except (KanikoError, OSError) as e:
                    log.info("line %d: no cache key (%s); this step and the stage's later "
                             "ones are built", step.line, e)  # fmt: skip
            planned = _Planned(key, parts, parent or "")
            if key is not None and self.policy.cacheable(step):
                planned.lookup = self.cache.lookup(key)
            self._planned[index] = planned
            parent = key

    def _planned_for(self, step: Step, config: ImageConfig) -> _Planned:
        """The plan of ``step``, checked against the config the stage really gives it: the
        chain is recomputed as the steps run, and a key that differs from the planned one
        (which a faithful replay never gives) is looked up now."""
        index = next(i for i, s in enumerate(self.stage.steps) if s is step)
        planned = self._planned[index]
        parent, self._chain = self._chain, None
        if planned.key is None or parent is None:
            return _Planned(None, ())
        parts = self._parts(step, config, self._inputs[index])
        key = keys.cache_key(parent, parts)
        if key != planned.key:
            log.debug("line %d: config differs from the planned one; key recomputed", step.line)
            lookup = self.cache.lookup(key) if self.policy.cacheable(step) else None
            planned = _Planned(key, parts, parent, lookup)
            self._planned[index] = planned
        self._chain = key
        return planned

    # -- steps --------------------------------------------------------------------------
    def run_step(self, step: Step, config: ImageConfig) -> Layer | None:
        planned = self._planned_for(step, config)
        if planned.key is not None:
            log.debug("line %d: cache key %s (%s)", step.line, planned.key,
                      keys.describe(planned.parent, planned.parts))  # fmt: skip
        if planned.lookup is not None:
            hit = planned.lookup.result()
            if hit is not None:
                if hit.this_build:
                    log.info("line %d: using the layer this build made for the same step",
                             step.line)  # fmt: skip
                if hit.layer is not None:
                    self._adopt(hit.layer)
                return hit.layer
        layer = self._build(step, config)
        if planned.key is not None and planned.lookup is not None:
            self.cache.made(planned.key, layer)
            if self.cache.writer is not None:
                self.cache.writer.put(planned.key, layer, created_by(step), oci=self.oci)
        return layer

    def finish(self) -> Sequence[Layer]:
        return self.fs.finish()

    def _adopt(self, layer: Layer, *, made: bool = False) -> None:
        """Append ``layer`` (``made``: by this build, on a partial root)."""
        self.layers.append(layer)
        if made:
            self._made.add(layer.digest)
        if self._indexes is not None:
            self._indexes.append(self._index(layer))
        self.fs.adopt(layer, lambda: layer_paths(self._index(layer)))

    def _index(self, layer: Layer) -> LayerIndex:
        return self.cache.indexes.index(layer, keep=layer.digest not in self._made)

    def _build(self, step: Step, config: ImageConfig) -> Layer | None:
        """Run ``step``: in the stage's root, or on a partial root while there is none."""
        if isinstance(step.instruction, Run) or self.fs.ready:
            layer = self.fs.run_step(step, config)
            if layer is not None:
                self.layers.append(layer)
                self._indexes = None  # the root is the truth from now on
            return layer
        try:
            entries = needed_entries(self._view(), step, config)
        except ViewTooLarge as e:
            log.info("line %d: extracting the image (%s)", step.line, e)
            return self._build_in_root(step, config)
        self._partials += 1
        fs = self.fs
        name = f"partial-{self.stage.index}-{self._partials}"
        partial = PartialRoot(fs.parts.extractor, name, entries)
        steps = DirectorySteps(self.stage, self.base, fs.parts, partial, fs.sources, fs.runner)
        try:
            layer = steps.run_step(step, config)
        finally:
            partial.remove()
        if layer is not None:
            self._adopt(layer, made=True)
        return layer

    def _build_in_root(self, step: Step, config: ImageConfig) -> Layer | None:
        layer = self.fs.run_step(step, config)
        if layer is not None:
            self.layers.append(layer)
        self._indexes = None
        return layer

    def _view(self) -> ImageView:
        if self._indexes is None:
            layers = [*self.base.layers(), *self.layers]
            self._indexes = [self._index(layer) for layer in layers]
        return ImageView(self._indexes)


def fs_steps(stage: Stage, config: ImageConfig) -> Iterator[tuple[int, Step, ImageConfig]]:
    """Each filesystem step of ``stage`` (by index) with the config it runs with, from the
    base's ``config``: the stage's metadata steps replayed as
    :class:`~kaniko.executor.stage.StageBuild` applies them."""
    state = metadata.ConfigState(config)
    for index, step in enumerate(stage.steps):
        instr = step.instruction
        if isinstance(instr, metadata.METADATA) and not step.touches_fs:
            metadata.apply(state, instr)
            continue
        if isinstance(instr, Workdir):
            metadata.apply(state, instr)
        yield index, step, state.config


def layer_paths(index: LayerIndex) -> list[str]:
    """The image paths a layer writes or deletes."""
    return ["/" + p for p in (*index.entries, *index.whiteouts) if p]
