"""The build workspace: base layers are pulled once and extracted from disk after that."""

from __future__ import annotations

import gzip
import io
import tarfile
from contextlib import contextmanager
from pathlib import Path

from kaniko.executor.workspace import Extractor, Workspace
from kaniko.oci.digest import Digest


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue())


class CountingLayer:
    """A 'remote' layer that counts how often its blob is opened."""

    media_type = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.digest = Digest.of(blob)
        self.diff_id = Digest.of(gzip.decompress(blob))
        self.size = len(blob)
        self.opened = 0

    @contextmanager
    def open_compressed(self):
        self.opened += 1
        yield io.BytesIO(self.blob)


class OneLayerImage:
    def __init__(self, layer: CountingLayer) -> None:
        self._layer = layer

    def layers(self):
        return [self._layer]


def test_remote_layers_are_pulled_once(tmp_path: Path) -> None:
    layer = CountingLayer(_tar("hello.txt", b"hi\n"))
    ws = Workspace.create(str(tmp_path / "k"))
    extractor = Extractor(ws)
    try:
        for name in ("a", "b"):
            root = ws.new_root(name)
            extractor.extract(OneLayerImage(layer), root)
            assert (root / "hello.txt").read_bytes() == b"hi\n"
        assert layer.opened == 1
        assert (ws.blobs / layer.digest.encoded).read_bytes() == layer.blob
    finally:
        ws.remove()
    assert not ws.base.exists()
