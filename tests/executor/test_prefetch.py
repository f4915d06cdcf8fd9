"""Base layers after the first download concurrently into the blob cache; a failed
download leaves the layer to be streamed by the extraction."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

from kaniko.executor.prefetch import Prefetch
from kaniko.oci.digest import Digest
from kaniko.oci.image import Layer


class SlowLayer:
    """A remote-looking layer whose blob takes a while to arrive."""

    running = 0
    most = 0
    lock = threading.Lock()

    def __init__(self, data: bytes, *, fail: bool = False) -> None:
        self.data = data
        self.digest = Digest.of(data)
        self.size = len(data)
        self.fail = fail
        self.opened = 0

    @contextmanager
    def open_compressed(self) -> Iterator[BinaryIO]:
        self.opened += 1
        with SlowLayer.lock:
            SlowLayer.running += 1
            SlowLayer.most = max(SlowLayer.most, SlowLayer.running)
        try:
            time.sleep(0.2)
            if self.fail:
                raise OSError("connection reset")
            yield io.BytesIO(self.data)
        finally:
            with SlowLayer.lock:
                SlowLayer.running -= 1


def test_later_layers_download_at_once_into_the_blob_cache(tmp_path: Path) -> None:
    layers = [SlowLayer(b"layer %d" % i) for i in range(4)]
    started = time.perf_counter()
    with Prefetch(cast(list[Layer], layers), tmp_path) as prefetch:
        for layer in layers:
            prefetch.wait(cast(Layer, layer))
    assert time.perf_counter() - started < 0.55  # three of 0.2 s each, at once
    assert SlowLayer.most >= 2
    assert layers[0].opened == 0  # the first is streamed by the extraction itself
    for layer in layers[1:]:
        assert (tmp_path / layer.digest.encoded).read_bytes() == layer.data
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        layer.digest.encoded for layer in layers[1:]
    )


def test_a_failed_download_is_left_to_the_extraction(tmp_path: Path) -> None:
    layers = [SlowLayer(b"first"), SlowLayer(b"broken", fail=True)]
    with Prefetch(cast(list[Layer], layers), tmp_path) as prefetch:
        prefetch.wait(cast(Layer, layers[1]))  # logs, does not raise
    assert list(tmp_path.iterdir()) == []  # no partial file left


def test_cached_blobs_are_not_downloaded_again(tmp_path: Path) -> None:
    layers = [SlowLayer(b"a"), SlowLayer(b"b")]
    (tmp_path / layers[1].digest.encoded).write_bytes(b"b")
    with Prefetch(cast(list[Layer], layers), tmp_path) as prefetch:
        prefetch.wait(cast(Layer, layers[1]))
    assert layers[1].opened == 0
