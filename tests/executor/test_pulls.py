"""Layer pulls into the blob cache: ahead of need, shared, concurrent, stoppable."""

from __future__ import annotations

import contextlib
import gzip
import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

import pytest

from kaniko.executor.pulls import BlobPulls, PullAhead, shared_layers
from kaniko.executor.workspace import Extractor, Workspace
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.oci.digest import Digest
from kaniko.oci.image import BytesLayer, FileLayer, Image
from kaniko.oci.platform import Platform
from tests.lab.images import DOCKER_LAYER, busybox_rootfs, layer_from_dir, tar_of_dir


class SlowLayer(BytesLayer):
    """A layer "in a registry": read in small chunks with a pause, its opens counted."""

    opens: int = 0
    pause: float = 0.0
    opened: ClassVar[list[str]] = []  # the digests opened, in order

    @contextlib.contextmanager
    def open_compressed(self) -> Iterator[BinaryIO]:
        type(self).opens += 1
        type(self).opened.append(str(self.digest))
        yield _Trickle(self.data, self.pause)


class _Trickle(io.RawIOBase):
    def __init__(self, data: bytes, pause: float) -> None:
        self._data = io.BytesIO(data)
        self._pause = pause

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        time.sleep(self._pause)
        chunk = self._data.read(min(len(buffer), 64 << 10))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def read(self, size: int = -1) -> bytes:
        time.sleep(self._pause)
        return self._data.read(64 << 10 if size < 0 else min(size, 64 << 10))


@pytest.fixture(scope="module")
def blob(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = busybox_rootfs(tmp_path_factory.mktemp("pulls") / "rootfs")
    return layer_from_dir(root)


def _layer(blob: bytes, pause: float = 0.0) -> SlowLayer:
    plain = BytesLayer.from_blob(blob, DOCKER_LAYER)
    layer = SlowLayer(plain.data, plain.media_type, plain.diff_id)
    SlowLayer.opens, SlowLayer.pause = 0, pause
    SlowLayer.opened.clear()
    return layer


def _image(*layers: object) -> Image:
    image: Image = scratch(Platform.host())
    for layer in layers:
        image = mutate.append(image, layer)  # type: ignore[arg-type]
    return image


def at_once(work: Callable[..., object], calls: list[tuple[object, ...]]) -> None:
    """Run ``work(*args)`` for each of ``calls``, each in a thread, all at once."""
    threads = [threading.Thread(target=work, args=args) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _leftovers(blobs: Path) -> list[str]:
    return [p.name for p in blobs.iterdir() if p.name.endswith(".partial")]


def test_pull_ahead_keeps_every_remote_layer_once(tmp_path: Path, blob: bytes) -> None:
    ws = Workspace.create(str(tmp_path / "k"))
    layer = _layer(blob)
    on_disk = tmp_path / "file.tar.gz"
    on_disk.write_bytes(blob)
    local = FileLayer.from_file(str(on_disk), DOCKER_LAYER)
    images = [_image(layer), _image(layer, local)]
    ahead = PullAhead(lambda: images, ws.blobs, BlobPulls())
    deadline = time.monotonic() + 10
    while not (ws.blobs / layer.digest.encoded).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    ahead.close()
    assert (ws.blobs / layer.digest.encoded).read_bytes() == blob
    assert SlowLayer.opens == 1  # once, though two images have it; the file layer never
    assert _leftovers(ws.blobs) == []
    ws.remove()


def test_an_extraction_waits_for_the_pull_ahead_of_its_layer(tmp_path: Path, blob: bytes) -> None:
    ws = Workspace.create(str(tmp_path / "k"))
    layer = _layer(blob, pause=0.02)  # ~1 s for the whole blob
    image = _image(layer)
    pulls = BlobPulls()
    ahead = PullAhead(lambda: [image], ws.blobs, pulls)
    deadline = time.monotonic() + 5
    while SlowLayer.opens == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    root = ws.new_root("stage-0")
    Extractor(ws, pulls=pulls).extract(image, root)
    ahead.close()
    assert SlowLayer.opens == 1  # the extraction read the pulled blob from disk
    assert (root / "bin" / "busybox").is_file()
    ws.remove()


def test_two_extractions_of_one_layer_at_once(tmp_path: Path, blob: bytes) -> None:
    """Each pulls its own copy (neither waits for the other), into partial files of its
    own; the cache ends up with one complete blob and no partial file."""
    ws = Workspace.create(str(tmp_path / "k"))
    layer = _layer(blob, pause=0.005)
    image = _image(layer)
    extractor = Extractor(ws)
    roots = [ws.new_root(f"stage-{n}") for n in range(2)]
    errors: list[BaseException] = []

    def extract(root: Path) -> None:
        try:
            extractor.extract(image, root)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    at_once(extract, [(root,) for root in roots])
    assert errors == []
    expected = tar_of_dir(roots[0])
    assert tar_of_dir(roots[1]) == expected
    assert (ws.blobs / layer.digest.encoded).read_bytes() == blob
    assert _leftovers(ws.blobs) == []
    ws.remove()


def test_close_stops_a_pull_in_progress(tmp_path: Path, blob: bytes) -> None:
    ws = Workspace.create(str(tmp_path / "k"))
    layer = _layer(blob, pause=0.5)  # minutes for the whole blob
    ahead = PullAhead(lambda: [_image(layer)], ws.blobs, BlobPulls())
    deadline = time.monotonic() + 5
    while SlowLayer.opens == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    started = time.monotonic()
    ahead.close()
    assert time.monotonic() - started < 3
    assert not (ws.blobs / layer.digest.encoded).exists()
    assert _leftovers(ws.blobs) == []
    ws.remove()


def test_two_stages_from_one_image_pull_its_layer_once(tmp_path: Path, blob: bytes) -> None:
    """The layer the first stages share is claimed before they start: both extractions
    wait for that one pull and read it from disk."""
    ws = Workspace.create(str(tmp_path / "k"))
    layer = _layer(blob, pause=0.005)
    image = _image(layer)
    pulls = BlobPulls()
    ahead = PullAhead(lambda: [], ws.blobs, pulls, first=shared_layers([image, image]))
    extractor = Extractor(ws, pulls=pulls)
    roots = [ws.new_root(f"stage-{n}") for n in range(2)]
    at_once(extractor.extract, [(image, root) for root in roots])
    ahead.close()
    assert SlowLayer.opens == 1
    assert tar_of_dir(roots[0]) == tar_of_dir(roots[1])
    assert (roots[0] / "bin" / "busybox").is_file()
    assert _leftovers(ws.blobs) == []
    ws.remove()


def test_close_releases_the_claims_it_never_pulled(tmp_path: Path, blob: bytes) -> None:
    """Claimed layers left when it closes are released: an extraction waiting for one
    goes on (and pulls it itself)."""
    ws = Workspace.create(str(tmp_path / "k"))
    layers = [_layer(gzip.compress(bytes([n]) * 1000)) for n in range(5)]  # five digests
    pulls = BlobPulls()
    ahead = PullAhead(lambda: [], ws.blobs, pulls, first=layers)
    ahead.close()
    for layer in layers:
        started = time.monotonic()
        pulls.wait_ahead(layer.digest)
        assert time.monotonic() - started < 1
        assert pulls.claim(layer.digest, ahead=False)  # nothing in flight any more
    assert _leftovers(ws.blobs) == []
    ws.remove()


def test_shared_layers() -> None:
    blobs = [gzip.compress(bytes([n]) * 10) for n in range(3)]
    one, two, three = (BytesLayer.from_blob(b, DOCKER_LAYER) for b in blobs)
    assert [x.digest for x in shared_layers([_image(one, two), _image(one, three)])] == [one.digest]
    assert shared_layers([_image(one, two)]) == []
    assert [x.digest for x in shared_layers([_image(one, two)] * 2)] == [one.digest, two.digest]


def test_two_extractions_prefetch_a_later_layer_once(tmp_path: Path, blob: bytes) -> None:
    """Extractions of one image at once: the layers after the first are prefetched by one
    of them (its claim), the other waits for that download; no partial file is left."""
    ws = Workspace.create(str(tmp_path / "k"))
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "hello.txt").write_text("hello\n")
    first = _layer(layer_from_dir(extra))
    second = SlowLayer(*_parts(blob))
    SlowLayer.pause = 0.002
    image = _image(first, second)
    extractor = Extractor(ws)  # one BlobPulls for the build
    roots = [ws.new_root(f"stage-{n}") for n in range(2)]
    at_once(extractor.extract, [(image, root) for root in roots])
    assert SlowLayer.opened.count(str(second.digest)) == 1
    assert tar_of_dir(roots[0]) == tar_of_dir(roots[1])
    assert (roots[1] / "bin" / "busybox").is_file() and (roots[1] / "hello.txt").is_file()
    assert _leftovers(ws.blobs) == [] and not list(ws.blobs.glob("*.prefetch"))
    ws.remove()


def _parts(blob: bytes) -> tuple[bytes, str, Digest]:
    plain = BytesLayer.from_blob(blob, DOCKER_LAYER)
    return plain.data, plain.media_type, plain.diff_id
