"""The kept extracted bases: made once, shared, locked while used, evicted least recently
used first within the size limit."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from kaniko.fs.basestore import BaseStore, chain_id, tree_size
from kaniko.oci.digest import Digest


def filler(size: int, calls: list[str] | None = None, name: str = ""):
    def make(directory: Path) -> None:
        if calls is not None:
            calls.append(name)
        (directory / "etc").mkdir()
        (directory / "etc" / "blob").write_bytes(b"x" * size)

    return make


def test_chain_id_follows_the_oci_definition() -> None:
    a = Digest("sha256", "a" * 64)
    b = Digest("sha256", "b" * 64)
    assert chain_id([a]) == "a" * 64
    import hashlib

    expected = hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    assert chain_id([a, b]) == expected
    assert chain_id([]) == "empty"


def test_a_tree_is_made_once_and_kept(tmp_path: Path) -> None:
    calls: list[str] = []
    first = BaseStore(tmp_path, 1 << 30)
    tree, made = first.tree("k1", filler(10, calls, "k1"))
    assert made and (tree / "etc" / "blob").read_bytes() == b"x" * 10
    first.close()
    second = BaseStore(tmp_path, 1 << 30)
    again, made = second.tree("k1", filler(10, calls, "k1"))
    assert again == tree and not made and calls == ["k1"]
    second.close()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_failed_extraction_leaves_nothing(tmp_path: Path) -> None:
    store = BaseStore(tmp_path, 1 << 30)

    def broken(directory: Path) -> None:
        (directory / "half").write_text("x")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.tree("k", broken)
    assert not (tmp_path / "trees" / "k").exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    tree, made = store.tree("k", filler(1))
    assert made and tree.is_dir()
    store.close()


def test_least_recently_used_trees_go_first_but_never_one_in_use(tmp_path: Path) -> None:
    size = 64 * 1024
    limit = tree_size_of(tmp_path, size) * 2 + 4096  # room for two trees
    user = BaseStore(tmp_path, limit)
    user.tree("in-use", filler(size))  # held until close: never evicted
    other = BaseStore(tmp_path, limit)
    other.tree("old", filler(size))
    other.close()
    os.utime(tmp_path / "trees" / "old.json", (1, 1))  # used long ago
    other.tree("new", filler(size))  # over the limit: "old" goes, "in-use" stays
    other.close()
    kept = sorted(p.name for p in (tmp_path / "trees").iterdir() if p.is_dir())
    assert kept == ["in-use", "new"]
    user.close()


def tree_size_of(tmp_path: Path, size: int) -> int:
    probe = tmp_path / "probe"
    probe.mkdir()
    filler(size)(probe)
    measured = tree_size(probe)
    for path in sorted(probe.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    probe.rmdir()
    return measured


def test_concurrent_builds_wait_for_one_extraction(tmp_path: Path) -> None:
    calls: list[str] = []

    def slow(directory: Path) -> None:
        calls.append("made")
        time.sleep(0.3)
        filler(1)(directory)

    results: list[tuple[Path, bool]] = []
    stores = [BaseStore(tmp_path, 1 << 30) for _ in range(3)]
    threads = [
        threading.Thread(target=lambda s=s: results.append(s.tree("k", slow))) for s in stores
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["made"]
    assert sorted(made for _, made in results) == [False, False, True]
    lock = os.open(tmp_path / "trees" / "k.lock", os.O_RDWR)
    with pytest.raises(BlockingIOError):  # three builds hold it shared
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    for store in stores:
        store.close()
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(lock)


def test_a_tree_is_made_while_other_builds_hold_its_lock_shared(tmp_path: Path) -> None:
    """Builds using a key hold its lock shared for their whole life: making the tree must
    not wait for them (an upgrade to exclusive would, and two stores of one process that
    raced to make it waited for each other forever)."""
    store = BaseStore(tmp_path, 1 << 30)
    lock = os.open(tmp_path / "trees" / "k.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_SH)  # another build, on this key, for as long as it runs
    results: list[tuple[Path, bool]] = []
    thread = threading.Thread(target=lambda: results.append(store.tree("k", filler(1))))
    thread.start()
    thread.join(timeout=10)
    try:
        assert not thread.is_alive(), "making the tree waited for a build that holds it"
        assert results and results[0][1] is True and results[0][0].is_dir()
    finally:
        os.close(lock)
        thread.join()
        store.close()
