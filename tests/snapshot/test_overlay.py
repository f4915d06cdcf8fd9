"""Overlay snapshots against the metadata snapshotter: the same steps, the same change sets
and the same layer bytes (root only: overlay mounts need CAP_SYS_ADMIN)."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kaniko.fs import overlaymount
from kaniko.fs.diff import ChangeSet
from kaniko.fs.overlaymount import TooManyLayers, is_whiteout, mounts_below, overlay_data
from kaniko.oci.compress import open_decompressed
from kaniko.snapshot.layer import LayerOptions, write_layer
from kaniko.snapshot.overlay import OverlaySnapshotter, OverlayStack
from kaniko.snapshot.snapshotter import Snapshotter

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="overlay mounts need root")

Step = Callable[[Path], None]


def write(root: Path, rel: str, text: str = "x") -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


def make_base(base: Path) -> None:
    for rel in ("etc/os-release", "app/a", "app/b", "app/sub/c", "usr/bin/sh", "srv/data/x"):
        write(base, rel, rel)
    os.symlink("a", base / "app/link")
    os.link(base / "usr/bin/sh", base / "usr/bin/dash")
    (base / "empty").mkdir()


def listing(layer_path: Path) -> list[tuple]:
    with open(layer_path, "rb") as raw, open_decompressed(raw) as data:
        body = data.read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return [
            (m.name, m.type, m.mode, m.uid, m.gid, m.size, m.linkname, _content(tar, m))
            for m in tar.getmembers()
        ]


def _content(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    extracted = tar.extractfile(member) if member.isfile() else None
    return extracted.read() if extracted is not None else b""


class Pair:
    """One root walked by the metadata snapshotter, one overlay root; same steps on both."""

    def __init__(
        self, tmp: Path, *, mode: str = "full", ignore: Callable[[str], bool] | None = None
    ):
        self.plain = tmp / "plain"
        make_base(self.plain)
        base = tmp / "base"
        make_base(base)
        self.merged = tmp / "merged"
        self.merged.mkdir()
        self.stack = OverlayStack(tmp / "overlay", self.merged, [str(base)])
        self.stack.mount()
        (tmp / "spool").mkdir()
        options = LayerOptions(str(tmp / "spool"), reproducible=True)
        self.meta = Snapshotter(self.plain, mode=mode, spool_dir=tmp / "spool", ignore=ignore,
                                reproducible=True)  # fmt: skip
        self.meta.init()
        self.over = OverlaySnapshotter(self.stack, ignore=ignore, mode=mode, layer_options=options)

    def step(self, action: Step, reported: list[str] | None = None) -> tuple[ChangeSet, ChangeSet]:
        action(self.plain)
        action(self.merged)
        meta = self.meta.after_step(reported)
        over = self.over.after_step(reported)
        meta_layer, over_layer = self.meta.layer(meta), self.over.layer(over)
        assert (meta_layer is None) == (over_layer is None)
        if meta_layer is not None and over_layer is not None:
            assert listing(meta_layer.path) == listing(over_layer.path)
            assert meta_layer.diff_id == over_layer.diff_id
        return meta, over


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    p = Pair(tmp_path)
    yield p
    p.stack.close()
    assert mounts_below(str(tmp_path)) == []


def rm_tree(rel: str) -> Step:
    return lambda root: shutil.rmtree(root / rel)


def add_tree(r: Path) -> None:
    for i in range(5):
        write(r, f"opt/tool/{i}/f", str(i))


def rebuild_dir(r: Path) -> None:
    shutil.rmtree(r / "app")
    write(r, "app/a", "again")


def file_to_dir(r: Path) -> None:
    os.unlink(r / "etc/os-release")
    write(r, "etc/os-release/x")


def dir_to_file(r: Path) -> None:
    shutil.rmtree(r / "app/sub")
    write(r, "app/sub", "f")


def retarget(r: Path) -> None:
    os.unlink(r / "app/link")
    os.symlink("b", r / "app/link")


def temp_file(r: Path) -> None:
    write(r, "usr/bin/tmp")
    os.unlink(r / "usr/bin/tmp")


STEPS: dict[str, Step] = {
    "add-file": lambda r: write(r, "app/new", "n"),
    "add-tree": add_tree,
    "modify": lambda r: write(r, "app/a", "changed"),
    "chmod-file": lambda r: os.chmod(r / "app/b", 0o600),
    "chmod-dir": lambda r: os.chmod(r / "app/sub", 0o700),
    "chown-dir": lambda r: os.chown(r / "srv", 1000, 1000),
    "delete-file": lambda r: os.unlink(r / "app/b"),
    "delete-tree": rm_tree("srv"),
    "rebuild-dir": rebuild_dir,
    "file-to-dir": file_to_dir,
    "dir-to-file": dir_to_file,
    "symlink-retarget": retarget,
    "hardlink-to-lower": lambda r: os.link(r / "app/a", r / "app/a2"),
    "temp-file": temp_file,
    "empty-dir": lambda r: os.rmdir(r / "empty"),
    "nothing": lambda r: None,
}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_one_step_gives_the_same_changes_and_layer(pair: Pair, name: str) -> None:
    meta, over = pair.step(STEPS[name])
    assert set(meta.changed) == set(over.changed)
    assert meta.deleted == over.deleted


def test_steps_stack_their_upper_directories(pair: Pair) -> None:
    """Later steps see earlier uppers as lowers: deleting and changing what they wrote."""
    sequence = ["add-tree", "modify", "chmod-dir", "delete-file", "rebuild-dir", "nothing"]
    for name in sequence:
        meta, over = pair.step(STEPS[name])
        assert (set(meta.changed), meta.deleted) == (set(over.changed), over.deleted), name
    meta, over = pair.step(rm_tree("opt/tool/3"))
    assert over.deleted == ("opt/tool/3",) == meta.deleted
    meta, over = pair.step(lambda r: write(r, "opt/tool/1/f", "later"))
    assert over.changed == ("opt/tool/1/f",)
    assert len(pair.stack.lowers()) > 3


def test_reported_paths_are_in_the_layer_even_unchanged(pair: Pair) -> None:
    """As take_paths: a COPY that rewrote a file with the same bytes still reports it."""
    meta, over = pair.step(lambda r: None, reported=["/app/a", "/app/sub"])
    assert set(meta.changed) == set(over.changed) == {"app/a", "app/sub"}


@pytest.mark.parametrize("mode", ["redo", "time"])
def test_other_snapshot_modes(tmp_path: Path, mode: str) -> None:
    pair = Pair(tmp_path, mode=mode)
    try:
        for name in ("chmod-file", "chmod-dir", "modify", "delete-file"):
            meta, over = pair.step(STEPS[name])
            assert (set(meta.changed), meta.deleted) == (set(over.changed), over.deleted), name
    finally:
        pair.stack.close()


def test_ignored_paths_stay_out(tmp_path: Path) -> None:
    def step(r: Path) -> None:
        write(r, "srv/data/y")
        os.unlink(r / "srv/data/x")

    pair = Pair(tmp_path, ignore=lambda rel: rel == "srv/data")
    try:
        meta, over = pair.step(step)
        assert meta == over == ChangeSet()
    finally:
        pair.stack.close()


def test_whiteouts_are_overlay_character_devices(pair: Pair) -> None:
    pair.step(STEPS["delete-file"])
    upper = pair.stack.directory / "u1"
    assert is_whiteout(os.lstat(upper / "app" / "b"))


def test_too_many_lowers_fall_back_to_walking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TooManyLayers):
        overlay_data([f"/proc/self/fd/99/u{i}" for i in range(400)])
    pair = Pair(tmp_path)

    def refuse(*args: object) -> str:
        raise TooManyLayers("too many")

    try:
        pair.step(STEPS["add-tree"])
        monkeypatch.setattr("kaniko.snapshot.overlay.overlay_data", refuse)
        meta, over = pair.step(STEPS["add-file"])  # advance() refuses: fallback from now on
        assert over.changed == meta.changed
        meta, over = pair.step(STEPS["modify"])
        assert set(over.changed) == set(meta.changed) == {"app/a"}
    finally:
        pair.stack.close()


def _super_options(mount_point: Path) -> set[str]:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _, tail = line.partition(" - ")
            if fields.split(" ")[4] == str(mount_point):
                return set(tail.split(" ")[2].strip().split(","))
    raise AssertionError(f"{mount_point} is not mounted")


def test_stage_roots_are_volatile_with_a_work_directory_each(pair: Pair) -> None:
    """No sync reaches the upper file system (an unmount after a big step would write it
    all out); a volatile mount's work directory cannot serve the next mount."""
    if not overlaymount._volatile:
        pytest.skip("this kernel refused volatile overlay mounts (before Linux 5.10)")
    volatile = {"volatile", "fsync=volatile"}  # as kernels before and after 6.6 show it
    assert volatile & _super_options(pair.merged)
    pair.step(STEPS["add-file"])
    pair.step(STEPS["modify"])  # two more mounts, each on a fresh work directory
    assert volatile & _super_options(pair.merged)
    assert {"w1", "w2", "w3"} <= {p.name for p in pair.stack.directory.iterdir()}


def test_layers_read_from_the_upper_directory_equal_the_merged_roots(
    pair: Pair, tmp_path: Path
) -> None:
    """Entries are read from the upper directory where they are: the same bytes as the
    merged root gives, real times and xattrs included; overlay's own xattrs (an opaque
    directory, a copied-up file's origin) are not content."""

    def step(r: Path) -> None:
        rebuild_dir(r)
        os.setxattr(r / "app/a", "user.note", b"kept")
        os.link(r / "app/a", r / "app/a3")
        os.chmod(r / "srv", 0o751)
        write(r, "srv/data/x", "changed")
        os.symlink("data/x", r / "srv/link")

    step(pair.merged)
    changes = pair.over.after_step()
    upper = pair.stack.upper
    assert "trusted.overlay.opaque" in os.listxattr(upper / "app")  # the case is real
    options = LayerOptions(str(tmp_path / "spool"))
    from_upper = write_layer(str(pair.merged), changes, options, upper=str(upper))
    from_merged = write_layer(str(pair.merged), changes, options)
    assert from_upper is not None and from_merged is not None
    assert from_upper.diff_id == from_merged.diff_id
    with open(from_upper.path, "rb") as raw, open_decompressed(raw) as data:
        body = data.read()
    assert b"user.note" in body and b"trusted.overlay" not in body
