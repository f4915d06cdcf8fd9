"""Placed mounts (no mount permission): put in, taken out, journaled for a killed build."""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import pytest

from kaniko.errors import BuildError
from kaniko.executor.workdirs import claim
from kaniko.sandbox.mountspec import MountSpec
from kaniko.sandbox.placement import JOURNAL, Placement, undo_stale
from kaniko.sandbox.scaffold import Scaffold
from tests.sandbox.helpers import tree


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (root / "var" / "cache" / "apt").mkdir(parents=True)
    (root / "var" / "cache" / "apt" / "image.bin").write_text("the image's\n")
    return root


def _sources(tmp_path: Path) -> tuple[Path, Path]:
    ctx = tmp_path / "ctx"
    (ctx / "d").mkdir(parents=True)
    (ctx / "d" / "f").write_text("f\n")
    cache = tmp_path / "store" / "data"
    cache.mkdir(parents=True)
    (cache / "cached.deb").write_text("deb\n")
    return ctx, cache


def _mounts(ctx: Path, cache: Path) -> tuple[MountSpec, ...]:
    return (
        MountSpec("bind", "/src", source=ctx),
        MountSpec("cache", "/var/cache/apt", source=cache, readonly=False),
        MountSpec("tmpfs", "/scratch/t", readonly=False),
        MountSpec("secret", "/run/secrets/token", data=b"t0ps3cret", uid=7, mode=0o440),
    )


def test_placed_for_the_step_and_taken_away(tmp_path: Path) -> None:
    root = _root(tmp_path)
    ctx, cache = _sources(tmp_path)
    before_root, before_ctx = tree(root), tree(ctx)
    private = tmp_path / "private"
    private.mkdir()
    scaffold = Scaffold()
    placement = Placement(root, private, scaffold, inplace=True)
    try:
        placement.place(_mounts(ctx, cache))
        assert (root / "src" / "d" / "f").read_text() == "f\n"
        assert os.stat(root / "src" / "d" / "f").st_ino == os.stat(ctx / "d" / "f").st_ino
        assert sorted(os.listdir(root / "var" / "cache" / "apt")) == ["cached.deb"]
        assert not cache.exists()  # renamed in (same file system)
        assert oct(os.stat(root / "scratch" / "t").st_mode & 0o7777) == "0o1777"
        secret = os.stat(root / "run" / "secrets" / "token")
        assert (secret.st_uid, secret.st_mode & 0o777) == (7, 0o440)
        (root / "var" / "cache" / "apt" / "new.deb").write_text("new\n")  # the step's write
        placement.check()
    finally:
        placement.undo()
        scaffold.undo()
    assert tree(root) == before_root  # the image's /var/cache/apt is back, times too
    assert tree(ctx) == before_ctx
    assert sorted(os.listdir(cache)) == ["cached.deb", "new.deb"]


def test_a_chroot_never_gets_a_secret_file(tmp_path: Path) -> None:
    root = _root(tmp_path)
    private = tmp_path / "p"
    private.mkdir()
    before = tree(root)
    placement = Placement(root, private, Scaffold(), inplace=False)
    with pytest.raises(BuildError, match="never written into a chroot's root"):
        placement.place((MountSpec("secret", "/s", data=b"x"),))
    placement.undo()
    assert tree(root) == before


def test_a_cache_on_another_file_system_is_a_symlink_in_place(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same file system as the temporary directory")
    root = _root(tmp_path)
    private = tmp_path / "p"
    private.mkdir()
    cache = Path(os.path.realpath(shm)) / f"kaniko-test-cache-{os.getpid()}"
    cache.mkdir()
    try:
        placement = Placement(root, private, Scaffold(), inplace=True)
        placement.place((MountSpec("cache", "/c", source=cache, readonly=False),))
        assert os.readlink(root / "c") == str(cache)
        placement.undo()
        assert not os.path.lexists(root / "c") and cache.is_dir()
    finally:
        cache.rmdir()


def test_two_mounts_of_one_file_system_fall_back_to_a_symlink_and_a_stash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a pod, the cache store and a volume are bind mounts of the disk the root is on:
    one device, yet rename fails with EXDEV (injected here). The cache becomes a symlink;
    the image's entry at the target is stashed beside it; both are undone."""
    root = _root(tmp_path)
    _, cache = _sources(tmp_path)
    before = tree(root)
    private = tmp_path / "private"
    private.mkdir()
    real_rename = os.rename

    def rename(source: object, dest: object) -> None:
        if Path(str(source)) == cache or Path(str(dest)).parent == private:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(source, dest)  # type: ignore[arg-type]

    monkeypatch.setattr("kaniko.sandbox.placement.os.rename", rename)
    scaffold = Scaffold()
    placement = Placement(root, private, scaffold, inplace=True)
    try:
        placement.place((MountSpec("cache", "/var/cache/apt", source=cache, readonly=False),))
        assert os.readlink(root / "var" / "cache" / "apt") == str(cache)
        (root / "var" / "cache" / "apt" / "new.deb").write_text("new\n")
        (stash,) = (root / "var" / "cache").glob(".kaniko-aside-*-apt")
        assert (stash / "image.bin").read_text() == "the image's\n"
    finally:
        placement.undo()
        scaffold.undo()
    assert tree(root) == before
    assert sorted(os.listdir(cache)) == ["cached.deb", "new.deb"]


def test_a_killed_build_is_undone_by_the_next_claim(tmp_path: Path) -> None:
    """A child process places the mounts in a work directory's ``tmp``, signals, and is
    killed with SIGKILL mid-step; the next :func:`claim` of the parent directory undoes
    everything from the journal before removing the dead build's directory."""
    root = _root(tmp_path)
    ctx, cache = _sources(tmp_path)
    before_root = tree(root)
    builds = tmp_path / "builds"
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(ready_r)
            work = claim(builds)  # locked until this process dies
            private = work.path / "tmp" / "kaniko-run-x"
            private.mkdir(parents=True)
            placement = Placement(root, private, Scaffold(), inplace=True)
            placement.place(_mounts(ctx, cache))
            (root / "var" / "cache" / "apt" / "during.deb").write_text("d\n")
            os.write(ready_w, b"1")
            time.sleep(60)
        finally:
            os._exit(1)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"1"
    os.close(ready_r)
    assert (root / "run" / "secrets" / "token").read_bytes() == b"t0ps3cret"
    journals = list(builds.glob(f"build-*/tmp/kaniko-run-*/{JOURNAL}"))
    assert len(journals) == 1
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    live = claim(builds)  # reclaims the dead build's directory
    try:
        assert [p.name for p in builds.iterdir()] == [live.path.name]
        assert tree(root) == before_root  # no secret, no /src, no stubs; the image's apt back
        assert sorted(os.listdir(cache)) == ["cached.deb", "during.deb"]  # moved home
    finally:
        live.release()


def test_undo_stale_ignores_what_it_cannot_read(tmp_path: Path) -> None:
    run = tmp_path / "tmp" / "kaniko-run-1"
    run.mkdir(parents=True)
    (run / JOURNAL).write_text(
        'not json\n{"op": "created"}\n{"op": "created", "path": "/nonexistent/x"}\n'
    )
    assert undo_stale(tmp_path) == 1
