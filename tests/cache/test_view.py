"""Layer indexes and the image view: an image's paths, known from its tar headers."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from kaniko.cache.view import ImageView, IndexStore, LayerIndex
from kaniko.oci.image import BytesLayer
from tests.fs.helpers import M, layer

LOWER = (
    M("etc/", "dir"),
    M("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"),
    M("etc/hostname", data=b"h"),
    M("a/", "dir"),
    M("a/b/", "dir"),
    M("a/b/c", data=b"c"),
    M("a/keep", data=b"k"),
    M("o/", "dir"),
    M("o/lower", data=b"l"),
    M("d/", "dir"),
    M("d/under", data=b"u"),
    M("link", "symlink", link="a/b"),
    M("abs", "symlink", link="/a"),
    M("loop", "symlink", link="loop"),
)
UPPER = (
    M("a/b/.wh.c"),
    M("o/", "dir"),
    M("o/.wh..wh..opq"),
    M("o/upper", data=b"u"),
    M("d", data=b"a file replaces the directory"),
    M("new/", "dir", mode=0o700, uid=5, gid=6),
)


def _layers() -> list[BytesLayer]:
    return [BytesLayer.from_tar(layer(*m)) for m in (LOWER, UPPER)]


def _view() -> ImageView:
    store = IndexStore()
    return ImageView([store.index(x) for x in _layers()])


def test_an_index_holds_headers_whiteouts_and_the_user_files() -> None:
    index = LayerIndex.read(_layers()[0])
    assert index.entries["etc/passwd"][-1] == "root:x:0:0::/root:/bin/sh\n"
    assert index.entries["etc/hostname"][-1] is None  # other contents are not kept
    assert index.entries["link"][6] == "a/b"
    upper = LayerIndex.read(_layers()[1])
    assert upper.whiteouts == {"a/b/c"} and upper.opaques == {"o"}
    assert upper.entries["new"][1:4] == (0o700, 5, 6)


def test_the_view_stacks_layers_as_a_runtime_does() -> None:
    view = _view()
    assert view.get("a/b/c") is None  # whited out
    assert view.get("a/keep") is not None
    assert view.get("o/lower") is None and view.get("o/upper") is not None  # opaque
    assert view.get("d/under") is None and view.get("d")[0] == "0"  # type: ignore[index]
    assert set(view.tree("a")) == {"a/b", "a/keep"}
    assert set(view.tree("o")) == {"o/upper"}
    assert "d/under" not in view.tree("")


def test_resolve_follows_symlinks_inside_the_root() -> None:
    view = _view()
    seen: dict = {}
    assert view.resolve("link/x", seen) == "a/b/x"
    assert "link" in seen and "a/b" in seen
    assert view.resolve("abs/b", {}) == "a/b"
    assert view.resolve("../../etc/passwd", {}) == "etc/passwd"
    assert view.resolve("loop/x", {}).startswith("loop")  # a loop ends the walk


def test_indexes_are_kept_on_disk_by_digest(tmp_path: Path) -> None:
    first = _layers()[1]
    IndexStore(tmp_path).index(first)
    assert len(list(tmp_path.iterdir())) == 1

    class Unreadable(BytesLayer):
        @contextlib.contextmanager
        def open_compressed(self) -> Iterator[BinaryIO]:
            raise AssertionError("the kept index must be used")
            yield  # pragma: no cover

    again = Unreadable(first.data, first.media_type, first.diff_id)
    index = IndexStore(tmp_path).index(again)
    assert index.opaques == {"o"} and "new" in index.entries
    IndexStore(tmp_path).index(_layers()[0], keep=False)
    assert len(list(tmp_path.iterdir())) == 1  # a layer this build made is not kept


def test_a_damaged_kept_index_is_read_again(tmp_path: Path) -> None:
    first = _layers()[1]
    IndexStore(tmp_path).index(first)
    [kept] = tmp_path.iterdir()
    kept.write_text("{not json")
    assert IndexStore(tmp_path).index(first).whiteouts == {"a/b/c"}


def test_a_layer_that_is_not_a_tar_is_an_image_error() -> None:
    from kaniko.errors import ImageError

    broken = BytesLayer.from_tar(b"x" * 700)
    with pytest.raises(ImageError, match="cannot read its headers"):
        LayerIndex.read(broken)


def test_stages_asking_for_one_layer_at_once_read_it_once(tmp_path: Path) -> None:
    """Stages built at once index the same base layers: one reads each (a layer not in
    the blob cache is pulled by its opener), the others wait and get that index."""
    wanted = _layers()[0]
    opened: list[str] = []
    lock = threading.Lock()

    @contextlib.contextmanager
    def slow_opener(layer: BytesLayer) -> Iterator[BinaryIO]:
        with lock:
            opened.append(str(layer.digest))
        time.sleep(0.3)  # a pull: long enough for every thread to ask meanwhile
        with layer.open_compressed() as blob:
            yield blob

    store = IndexStore(tmp_path, slow_opener)  # type: ignore[arg-type]
    start = threading.Barrier(4)
    found: list[LayerIndex] = []

    def ask() -> None:
        start.wait()
        index = store.index(wanted)
        with lock:
            found.append(index)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened == [str(wanted.digest)]
    assert len(found) == 4 and all(index is found[0] for index in found)
    assert "a/b/c" in found[0].entries
