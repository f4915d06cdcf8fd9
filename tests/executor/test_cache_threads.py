"""The layer cache's shared state used by stages built at once, from their threads.

Each test starts several threads at one barrier, as the scheduler starts stages, and
checks what they share: one look-up per key, a layer made by one stage served to the
ones that ask later, each stage's context carried to the look-up pool (its log lines
name it), one search of the base-image directory per image.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from kaniko.cache.basecache import BaseImageDir
from kaniko.cache.layercache import CacheWriter, Hit, entry_image
from kaniko.cache.layoutstore import LayoutStore
from kaniko.errors import ImageError
from kaniko.executor.bases import RemoteBases
from kaniko.executor.cached import BuildCache
from kaniko.executor.cachedbases import CachedBases
from kaniko.executor.scheduler import STAGE
from kaniko.executor.workspace import Extractor, Workspace
from kaniko.images.empty import scratch
from kaniko.oci.image import BytesLayer, Image
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, CacheOptions, RegistryOptions
from kaniko.registry.transport import Transport
from tests.executor.helpers import OneBase
from tests.fs.helpers import M, layer

PLATFORM = Platform.host()
KEY = "ab" * 32
T = TypeVar("T")


def at_once(work: Callable[[int], T], n: int = 4) -> list[T]:
    """``work(i)`` in ``n`` threads started together, each in a context naming its stage
    (``stage-i``), as the scheduler runs stages; the results in thread order."""
    import contextvars

    start = threading.Barrier(n)
    found: dict[int, T] = {}
    errors: list[BaseException] = []

    def one(i: int) -> None:
        STAGE.set(f"stage-{i}")
        start.wait()
        try:
            found[i] = work(i)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(one, i)) for i in range(n)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return [found[i] for i in range(n)]


class _Reads(LayoutStore):
    """A layout store that counts reads (slowly, as a registry answers) and records the
    stage each read was made for."""

    def __init__(self, base: str) -> None:
        super().__init__(base)
        self.reads: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def read(self, key: str) -> Image | None:
        with self._lock:
            self.reads.append((key, STAGE.get()))
        time.sleep(0.2)
        return super().read(key)


@pytest.fixture
def build_cache(tmp_path: Path) -> Iterator[tuple[BuildCache, _Reads]]:
    layers = tmp_path / "cache" / "layers"
    options = BuildOptions(
        kaniko_dir=str(tmp_path / "kaniko"),
        cache=CacheOptions(enabled=True, repo=f"oci:{layers}", dir=str(tmp_path / "none")),
    )
    with Workspace.create(str(tmp_path / "kaniko")) as workspace:
        images = OneBase(scratch(PLATFORM))
        cache = BuildCache(options, Transport(RegistryOptions()), Extractor(workspace), images)
        store = _Reads(str(layers))
        cache.cache.store = store
        try:
            yield cache, store
        finally:
            cache.close()


def _layer(text: bytes = b"cached") -> BytesLayer:
    return BytesLayer.from_tar(layer(M("app/", "dir"), M("app/f", data=text)))


def test_stages_asking_for_one_key_at_once_share_one_look_up(build_cache) -> None:
    cache, store = build_cache
    writer = CacheWriter(store)
    writer.put(KEY, _layer(), "RUN make", oci=False)
    writer.close()
    hits = at_once(lambda i: cache.lookup(KEY).result())
    assert len(store.reads) == 1
    assert all(isinstance(hit, Hit) and hit is hits[0] for hit in hits)


def test_a_look_up_runs_in_the_asking_stage_s_context(build_cache) -> None:
    cache, store = build_cache
    at_once(lambda i: cache.lookup(f"{i:064x}").result())
    assert sorted(stage for _, stage in store.reads) == [f"stage-{i}" for i in range(4)]


def test_a_layer_made_by_one_stage_serves_the_stages_that_ask_later(build_cache) -> None:
    """A stage that missed builds the step; a stage asking for that key afterwards gets
    the layer that stage made, not the old miss, nor a store read racing the write."""
    cache, store = build_cache
    assert cache.lookup(KEY).result() is None
    made = _layer(b"made here")
    cache.made(KEY, made)
    hits = at_once(lambda i: cache.lookup(KEY).result())
    assert len(store.reads) == 1  # the first, missing, look-up only
    assert all(hit is not None and hit.layer is made and hit.this_build for hit in hits)
    cache.made("cd" * 32, None)  # a step that changed nothing
    hit = cache.lookup("cd" * 32).result()
    assert hit is not None and hit.layer is None


def test_an_entry_written_meanwhile_changes_no_answer_within_the_build(build_cache) -> None:
    """Stages asking for one key at different times all get the first answer: an entry
    replaced meanwhile (by another build, or after a miss) is not read again."""
    cache, store = build_cache
    store.write(KEY, entry_image(_layer(b"first"), "RUN make", _now(), oci=False))
    first = cache.lookup(KEY).result()
    store.write(KEY, entry_image(_layer(b"second"), "RUN make", _now(), oci=False))
    later = at_once(lambda i: cache.lookup(KEY).result())
    assert first is not None and all(hit is first for hit in later)


def _now():  # type: ignore[no-untyped-def]
    from kaniko.cache.layercache import utc_now

    return utc_now()


class _SlowFind(CachedBases):
    """Counts the searches of the directory and the registry, each taking a while."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(
            Transport(RegistryOptions()),
            RegistryOptions(),
            BaseImageDir(tmp, timedelta(hours=1)),
        )
        self.finds: list[str] = []
        self.lock = threading.Lock()

    def _find(self, reference: str, platform: Platform) -> Image:
        with self.lock:
            self.finds.append(reference)
        time.sleep(0.2)
        if reference.endswith(":broken"):
            raise ImageError(f"{reference}: the cached copy is unusable")
        return scratch(platform)


def test_stages_asking_for_one_base_image_at_once_get_one_image(tmp_path: Path) -> None:
    bases = _SlowFind(tmp_path)
    images = at_once(lambda i: bases.image("lab/tools:1", PLATFORM))
    assert bases.finds == ["lab/tools:1"]
    assert all(image is images[0] for image in images)
    assert bases.known("lab/tools:1", PLATFORM) is images[0]


def test_known_looks_for_a_resolved_image_no_stage_asked_for_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pull-ahead asks for the images ``COPY --from`` reads before any stage does:
    one resolved at the registry is looked for now (its layers are pulled ahead unless
    the directory has it); one not resolved, or unusable, is None (its stage reports it)."""
    bases = _SlowFind(tmp_path)
    resolved = {"lab/tools:1", "lab/tools:broken"}
    monkeypatch.setattr(
        RemoteBases,
        "known",
        lambda self, ref, platform: scratch(platform) if ref in resolved else None,
    )
    assert bases.known("lab/never-resolved:1", PLATFORM) is None
    found = bases.known("lab/tools:1", PLATFORM)
    assert found is not None and bases.image("lab/tools:1", PLATFORM) is found
    assert bases.known("lab/tools:broken", PLATFORM) is None
    assert bases.finds == ["lab/tools:1", "lab/tools:broken"]
