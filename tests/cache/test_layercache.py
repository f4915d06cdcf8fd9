"""Layer-cache entries in ``oci:`` layouts: format, checks, warnings, background writes."""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kaniko.cache import layercache
from kaniko.cache.layercache import CacheWriter, LayerCache, entry_image
from kaniko.cache.layoutstore import LayoutStore
from kaniko.images.layout import read_oci_layout
from kaniko.oci.image import BytesLayer, Image
from tests.fs.helpers import M, layer

KEY = "ab" * 32
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _layer(text: bytes = b"cached") -> BytesLayer:
    return BytesLayer.from_tar(layer(M("app/", "dir"), M("app/f", data=text)))


def _cache(store: LayoutStore, tmp: Path, ttl: timedelta = timedelta(hours=1), now=NOW):
    blobs = tmp / "blobs"
    blobs.mkdir(exist_ok=True)
    return LayerCache(store, ttl=ttl, blobs=blobs, clock=lambda: now)


def _write(store: LayoutStore, key: str, layer: BytesLayer | None, when: datetime = NOW) -> None:
    writer = CacheWriter(store, clock=lambda: when)
    writer.put(key, layer, "RUN make", oci=False)
    writer.close()


def test_an_entry_is_kanikos_one_layout_per_key(tmp_path: Path) -> None:
    store = LayoutStore(str(tmp_path / "layers"))
    _write(store, KEY, _layer())
    entry_dir = tmp_path / f"layers:{KEY}"
    assert (entry_dir / "oci-layout").is_file()
    index = json.loads((entry_dir / "index.json").read_text())
    assert len(index["manifests"]) == 1
    image = read_oci_layout(str(entry_dir))
    config = image.config()
    assert len(image.layers()) == 1 and config.diff_ids == (_layer().diff_id,)
    assert config.history[0].author == "kaniko" and config.history[0].created_by == "RUN make"
    assert config.created == "2026-01-02T03:04:05Z"
    assert image.manifest().is_docker  # a gzip layer of Docker type: a Docker manifest


def test_a_hit_gives_the_layer_as_built(tmp_path: Path) -> None:
    store = LayoutStore(str(tmp_path / "layers"))
    _write(store, KEY, _layer())
    hit = _cache(store, tmp_path).lookup(KEY)
    assert hit is not None and hit.layer is not None
    assert (hit.layer.digest, hit.layer.diff_id) == (_layer().digest, _layer().diff_id)
    with hit.layer.open_compressed() as f:
        assert f.read() == _layer().data


def test_no_change_is_an_entry_too(tmp_path: Path) -> None:
    store = LayoutStore(str(tmp_path / "layers"))
    _write(store, KEY, None)
    hit = _cache(store, tmp_path).lookup(KEY)
    assert hit is not None and hit.layer is None
    assert len(read_oci_layout(str(tmp_path / f"layers:{KEY}")).layers()) == 1  # Go reads it


def test_missing_expired_and_corrupt_entries_are_misses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "kaniko")
    store = LayoutStore(str(tmp_path / "layers"))
    assert _cache(store, tmp_path).lookup(KEY) is None
    assert "No cached layer" in caplog.text
    _write(store, KEY, _layer(), when=NOW - timedelta(hours=2))
    assert _cache(store, tmp_path, ttl=timedelta(hours=1)).lookup(KEY) is None
    assert "expired" in caplog.text
    assert _cache(store, tmp_path, ttl=timedelta(hours=3)).lookup(KEY) is not None
    blob = tmp_path / f"layers:{KEY}" / "blobs" / "sha256" / _layer().digest.hex
    blob.write_bytes(blob.read_bytes()[:-3] + b"xyz")
    caplog.clear()
    assert _cache(store, tmp_path, ttl=timedelta(hours=3)).lookup(KEY) is None
    assert "unusable" in caplog.text and "digest mismatch" in caplog.text


def test_an_entry_of_two_layers_is_refused(tmp_path: Path, caplog) -> None:
    from kaniko.images import mutate

    store = LayoutStore(str(tmp_path / "layers"))
    two: Image = mutate.append(entry_image(_layer(), "RUN x", NOW, oci=False), _layer(b"2"))
    store.write(KEY, two)
    assert _cache(store, tmp_path).lookup(KEY) is None
    assert "holds one layer" in caplog.text


def test_the_default_clock_is_the_module_s(tmp_path: Path, monkeypatch) -> None:
    store = LayoutStore(str(tmp_path / "layers"))
    _write(store, KEY, _layer(), when=NOW)
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    cache = LayerCache(store, ttl=timedelta(days=1), blobs=blobs)
    monkeypatch.setattr(layercache, "utc_now", lambda: NOW + timedelta(hours=23))
    assert cache.lookup(KEY) is not None
    monkeypatch.setattr(layercache, "utc_now", lambda: NOW + timedelta(hours=25))
    assert cache.lookup(KEY) is None


class _Counting(LayoutStore):
    def __init__(self, base: str) -> None:
        super().__init__(base)
        self.writes: list[str] = []

    def write(self, key: str, entry: Image) -> None:
        self.writes.append(key)
        super().write(key, entry)


def test_each_key_is_written_once_per_build(tmp_path: Path) -> None:
    store = _Counting(str(tmp_path / "layers"))
    writer = CacheWriter(store)
    for _ in range(3):
        writer.put(KEY, _layer(), "RUN make", oci=False)
    writer.put("cd" * 32, _layer(), "RUN make", oci=False)
    writer.close()
    assert sorted(store.writes) == sorted([KEY, "cd" * 32])


def test_concurrent_writers_of_one_key_both_succeed(tmp_path: Path) -> None:
    stores = [LayoutStore(str(tmp_path / "layers")) for _ in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def write(store: LayoutStore) -> None:
        try:
            start.wait()
            store.write(KEY, entry_image(_layer(), "RUN make", NOW, oci=False))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _cache(stores[0], tmp_path).lookup(KEY) is not None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("layers")] == [
        f"layers:{KEY}"
    ]  # no staging directory left behind


def test_a_failed_write_is_a_warning(tmp_path: Path, caplog) -> None:
    (tmp_path / "file").write_text("not a directory")
    writer = CacheWriter(LayoutStore(str(tmp_path / "file" / "layers")))
    writer.put(KEY, _layer(), "RUN make", oci=False)
    writer.close()
    assert "Could not store cache entry" in caplog.text


_STAGE: contextvars.ContextVar[str] = contextvars.ContextVar("test_stage", default="")


class _Seeing(LayoutStore):
    """Records the stage context each write runs in (the log prefix's source)."""

    def __init__(self, base: str) -> None:
        super().__init__(base)
        self.seen: list[tuple[str, str]] = []

    def write(self, key: str, entry: Image) -> None:
        self.seen.append((key, _STAGE.get()))
        super().write(key, entry)


def test_stages_writing_at_once_each_write_in_their_own_context(tmp_path: Path) -> None:
    """Stages built at once put entries from their threads: each key once, and each
    write runs in the asking stage's context, so its log lines name that stage."""
    store = _Seeing(str(tmp_path / "layers"))
    writer = CacheWriter(store)
    start = threading.Barrier(4)

    def stage(label: str, key: str) -> None:
        _STAGE.set(label)
        start.wait()
        writer.put(key, _layer(), "RUN make", oci=False)

    asks = [("a", KEY), ("b", "cd" * 32), ("c", "ef" * 32), ("d", KEY)]
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(stage, *ask)) for ask in asks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert sorted(writer.written) == sorted([KEY, "cd" * 32, "ef" * 32])
    assert ("cd" * 32, "b") in store.seen and ("ef" * 32, "c") in store.seen
    assert [label for key, label in store.seen if key == KEY] in (["a"], ["d"])
