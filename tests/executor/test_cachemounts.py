"""The cache-mount store: naming, new instances, and shared/locked/private between users.

Users are separate processes where the lock must hold between builds (``flock`` locks are
per open file, so threads of one process exercise the same code paths too).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.executor.cachemounts import CacheKey, CacheStore, seed_from


def test_new_instances_start_empty_with_the_owner_and_mode(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "store")
    with store.use(CacheKey("/root/.cache"), "shared") as data:
        st = os.stat(data)
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 0, 0o755)
        assert os.listdir(data) == []
        (data / "kept").write_text("1")
    with store.use(CacheKey("/root/.cache"), "shared") as again:
        assert again == data and (again / "kept").read_text() == "1"
    key = CacheKey("/root/.cache", uid=1000, gid=50, mode=0o700)
    with store.use(key, "shared") as other:
        st = os.stat(other)
        assert other != data and (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1000, 50, 0o700)
    assert oct(os.stat(tmp_path / "store").st_mode & 0o777) == "0o700"


def test_a_seeded_cache_starts_as_a_copy_of_its_source(tmp_path: Path) -> None:
    source = tmp_path / "stage" / "deps"
    source.mkdir(parents=True)
    (source / "pkg").write_text("v1")
    store = CacheStore(tmp_path / "store")
    key = CacheKey("deps", origin="builder", source="/deps")
    with store.use(key, "shared", seed=seed_from(source)) as data:
        assert (data / "pkg").read_text() == "v1"
        (data / "pkg").write_text("v2")
    assert (source / "pkg").read_text() == "v1"
    with store.use(key, "shared", seed=seed_from(source)) as data:
        assert (data / "pkg").read_text() == "v2"  # the seed is only for a new instance


def test_unknown_sharing_and_unusable_store(tmp_path: Path) -> None:
    with (
        pytest.raises(BuildError, match="unknown sharing"),
        CacheStore(tmp_path).use(CacheKey("x"), "exclusive"),
    ):
        pass
    (tmp_path / "file").write_text("")
    with (
        pytest.raises(BuildError, match="cannot use"),
        CacheStore(tmp_path / "file").use(CacheKey("x"), "shared"),
    ):
        pass


def _hold(store_dir: str, sharing: str, seconds: float, log: str, name: str) -> None:
    with CacheStore(Path(store_dir)).use(CacheKey("/c"), sharing) as data:
        with open(log, "a") as out:
            out.write(f"{name} start {time.monotonic():.3f} {data}\n")
        time.sleep(seconds)
        with open(log, "a") as out:
            out.write(f"{name} end {time.monotonic():.3f} {data}\n")


def _run_two(tmp_path: Path, sharing: str) -> dict[str, dict[str, tuple[float, str]]]:
    log = tmp_path / "log"
    context = multiprocessing.get_context("fork")
    users = [
        context.Process(target=_hold, args=(str(tmp_path / "s"), sharing, 0.6, str(log), name))
        for name in ("a", "b")
    ]
    for user in users:
        user.start()
    for user in users:
        user.join(30)
        assert user.exitcode == 0
    events: dict[str, dict[str, tuple[float, str]]] = {}
    for line in log.read_text().splitlines():
        name, what, when, data = line.split()
        events.setdefault(name, {})[what] = (float(when), data)
    return events


def test_locked_serialises_two_processes(tmp_path: Path) -> None:
    events = _run_two(tmp_path, "locked")
    first, second = sorted(events.values(), key=lambda e: e["start"][0])
    assert second["start"][0] >= first["end"][0]  # never at the same time
    assert first["start"][1] == second["start"][1]  # one directory


def test_shared_runs_together_in_one_directory(tmp_path: Path) -> None:
    events = _run_two(tmp_path, "shared")
    first, second = sorted(events.values(), key=lambda e: e["start"][0])
    assert second["start"][0] < first["end"][0]
    assert first["start"][1] == second["start"][1]


def test_private_gives_each_concurrent_user_its_own(tmp_path: Path) -> None:
    events = _run_two(tmp_path, "private")
    first, second = sorted(events.values(), key=lambda e: e["start"][0])
    assert second["start"][0] < first["end"][0]
    assert first["start"][1] != second["start"][1]
    store = CacheStore(tmp_path / "s")
    with store.use(CacheKey("/c"), "private") as alone:
        assert str(alone) == min(first["start"][1], second["start"][1])  # reused when free


def test_exclusive_makes_shared_users_wait(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "s")
    entered = threading.Event()
    order: list[str] = []

    def other() -> None:
        with store.use(CacheKey("/c"), "shared", exclusive=True):
            order.append("other")

    with store.use(CacheKey("/c"), "shared", exclusive=True):
        thread = threading.Thread(target=lambda: (entered.set(), other()))
        thread.start()
        entered.wait()
        time.sleep(0.3)
        order.append("first")
    thread.join(10)
    assert order == ["first", "other"]
