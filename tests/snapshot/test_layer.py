"""Layers from snapshots, read back with tarfile: exactly the expected members, whiteouts,
hard links, digests; an empty diff gives no layer."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest
import zstandard

from kaniko.fs.diff import ChangeSet
from kaniko.snapshot.layer import tar_entries
from kaniko.snapshot.snapshotter import Snapshotter


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    write(root, {"etc/conf": "c", "old/tree/a": "a", "old/tree/b/c": "c", "old/keep": "k"})
    return root


def step(root: Path) -> None:
    """What a RUN might do: add, chmod, delete a tree, hard-link."""
    write(root, {"app/bin/tool": "#!/bin/sh\n"})
    os.chmod(root / "etc" / "conf", 0o600)
    shutil.rmtree(root / "old" / "tree")
    os.link(root / "app" / "bin" / "tool", root / "app" / "tool-link")


def members(blob: Path, compression: str = "gzip") -> dict[str, tarfile.TarInfo]:
    raw = blob.read_bytes()
    if compression == "zstd":
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_empty_diff_gives_no_layer(rootfs: Path, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    snap = Snapshotter(rootfs, spool_dir=spool)
    snap.init()
    assert snap.layer(snap.take()) is None
    assert not spool.exists() or not list(spool.iterdir())


def test_layer_holds_exactly_the_changes(rootfs: Path, tmp_path: Path) -> None:
    snap = Snapshotter(rootfs, spool_dir=tmp_path / "spool")
    snap.init()
    step(rootfs)
    changes = snap.take()
    layer = snap.layer(changes)
    assert layer is not None
    got = members(layer.path)
    assert sorted(got) == [
        "app", "app/bin", "app/bin/tool", "app/tool-link", "etc", "etc/conf", "old",
        "old/.wh.tree",
    ]  # fmt: skip
    assert got["etc/conf"].mode == 0o600 and got["etc/conf"].isfile()
    assert got["old/.wh.tree"].size == 0 and got["old"].isdir()
    assert got["app/tool-link"].islnk() and got["app/tool-link"].linkname == "app/bin/tool"
    blob = layer.path.read_bytes()
    assert str(layer.digest) == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert layer.size == len(blob)
    assert str(layer.diff_id) == "sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest()
    assert layer.media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip"


def test_take_paths_layer_has_reported_files_and_parents(rootfs: Path, tmp_path: Path) -> None:
    snap = Snapshotter(rootfs, spool_dir=tmp_path / "spool", compression="zstd", oci=True)
    snap.init()
    write(rootfs, {"srv/www/index.html": "<p>hi</p>"})
    layer = snap.layer(snap.take_paths(["/srv/www/index.html"]))
    assert layer is not None and layer.media_type.endswith("tar+zstd")
    got = members(layer.path, "zstd")
    assert sorted(got) == ["srv", "srv/www", "srv/www/index.html"]


def test_reproducible_layers_are_identical(rootfs: Path, tmp_path: Path) -> None:
    snap = Snapshotter(rootfs, spool_dir=tmp_path / "spool", reproducible=True, epoch=42)
    snap.init()
    step(rootfs)
    changes = snap.take()
    first, second = snap.layer(changes), snap.layer(changes)
    assert first is not None and second is not None and first.path != second.path
    assert (first.digest, first.diff_id) == (second.digest, second.diff_id)
    assert {m.mtime for m in members(first.path).values()} == {42}


def test_tar_entries_kinds() -> None:
    changes = ChangeSet(added=("b",), modified=("a",), deleted=("c/d",))
    assert [(e.path, e.kind) for e in tar_entries(changes)] == [
        ("a", "file"),
        ("b", "file"),
        ("c/d", "whiteout"),
    ]
