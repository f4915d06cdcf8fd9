"""Round trips: a tree written as a layer and extracted again is the same tree.

Both directions are checked against independent tools where they are installed: GNU tar
and umoci extract our layers to the same tree we do, and layers made by GNU tar and by
``umoci insert`` extract (with us) to the tree they were made from. Trees are compared on
type, mode, owner, link count, content, link target, device numbers, xattrs and mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kaniko.fs.tarwrite import write_layer_tar
from kaniko.fs.unpack import apply_layer
from kaniko.oci.image import FileLayer
from kaniko.oci.streams import LayerSpooler
from tests.fs.helpers import tree

CAP = bytes.fromhex("0100000200200000000000000000000000000000")
NS = 1_000_000_000
LONG = f"{'l' * 120}/{'m' * 200}/{'n' * 100}"  # over 255 bytes in all
ODD = ["with space", "new\nline", "ünïcødé ✓", os.fsdecode(b"latin1-\xe9"), "x" * 255]


def _capabilities_supported(where: Path) -> bool:
    probe = where / ".probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "security.capability", CAP)
        return True
    except OSError:
        return False
    finally:
        probe.unlink()


def build_tree(root: Path, *, many: int = 300) -> list[str]:
    """Every kind of entry a layer can hold; returns the paths, relative to ``root``."""
    root.mkdir()
    for name, mode, owner in [
        ("etc", 0o755, (0, 0)),
        ("tmp", 0o1777, (0, 0)),
        ("srv", 0o2775, (33, 33)),
        ("empty-dir", 0o700, (0, 0)),
        ("usr/bin", 0o755, (0, 0)),
        ("run", 0o755, (0, 0)),
        (LONG.rsplit("/", 1)[0], 0o755, (0, 0)),
        ("many", 0o755, (0, 0)),
    ]:
        (root / name).mkdir(parents=True, exist_ok=True)
        os.chmod(root / name, mode)
        os.chown(root / name, *owner)
    files = {
        "etc/passwd": (b"root:x:0:0::/root:/bin/sh\n", 0o644, (0, 0)),
        "usr/bin/su": (b"\x7fELF su", 0o4755, (0, 0)),
        "usr/bin/wall": (b"\x7fELF wall", 0o2755, (0, 5)),
        "usr/bin/ping": (b"\x7fELF ping", 0o755, (0, 0)),
        "empty": (b"", 0o600, (0, 0)),
        "owned": (b"mine", 0o640, (1000, 1000)),
        "nobody": (b"", 0o644, (65534, 65534)),
        LONG: (b"deep", 0o644, (0, 0)),
        **{name: (name.encode("utf-8", "surrogateescape"), 0o644, (0, 0)) for name in ODD},
        **{f"many/f{i:05d}": (b"%d" % i, 0o644, (0, 0)) for i in range(many)},
    }
    for name, (data, mode, owner) in files.items():
        (root / name).write_bytes(data)
        os.chown(root / name, *owner)
        os.chmod(root / name, mode)
    with open(root / "sparse", "wb") as f:
        f.truncate(6 << 20)
        f.seek(6 << 20)
        f.write(b"tail")
    os.setxattr(root / "usr/bin/ping", "user.mime", b"application/x-executable")
    if _capabilities_supported(root):
        os.setxattr(root / "usr/bin/ping", "security.capability", CAP)
    os.setxattr(root / "srv", "user.dir", b"\x00\xffbinary")
    os.link(root / "usr/bin/su", root / "usr/bin/su-again")
    os.symlink("usr/bin", root / "bin")
    os.symlink("/etc/passwd", root / "abs")
    os.symlink("nowhere", root / "dangling")
    os.mkfifo(root / "run/fifo", 0o620)
    os.mknod(root / "null", 0o666 | 0o020000, os.makedev(1, 3))
    os.mknod(root / "loop0", 0o660 | 0o060000, os.makedev(7, 0))
    paths = []
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            full = os.path.join(dirpath, name)
            paths.append(os.path.relpath(full, root))
            stamp = 1_600_000_000 * NS + len(paths) * 1_000_001  # distinct, with nanoseconds
            os.utime(full, ns=(stamp, stamp), follow_symlinks=False)
    return sorted(paths)


def spool(src: Path, paths: list[str], where: Path, **kwargs: object) -> FileLayer:
    with LayerSpooler(where, "gzip", oci=True) as out:
        write_layer_tar(src, [(p, "file") for p in paths], out, **kwargs)
    return out.finish()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], FileLayer]:
    base = tmp_path_factory.mktemp("roundtrip")
    paths = build_tree(base / "src", many=10_000)  # a 10 000-file directory, as issue 4 asks
    return base / "src", paths, spool(base / "src", paths, base)


def test_write_then_apply_gives_the_same_tree(
    source: tuple[Path, list[str], FileLayer], tmp_path: Path
) -> None:
    src, _, layer = source
    with open(layer.path, "rb") as f:
        apply_layer(f, tmp_path)
    assert tree(tmp_path) == tree(src)


def test_reproducible_round_trip_clamps_only_times(
    source: tuple[Path, list[str], FileLayer], tmp_path: Path
) -> None:
    src, paths, _ = source
    (tmp_path / "dst").mkdir()
    layer = spool(src, paths, tmp_path, reproducible=True, epoch=1_000_000_000)
    again = spool(src, paths, tmp_path, reproducible=True, epoch=1_000_000_000)
    assert (layer.digest, layer.diff_id) == (again.digest, again.diff_id)
    with open(layer.path, "rb") as f:
        apply_layer(f, tmp_path / "dst")
    got, want = tree(tmp_path / "dst"), tree(src, times=False)
    assert {k: v[:-1] for k, v in got.items()} == {k: v[:-1] for k, v in want.items()}
    assert {v[-1] for v in got.values()} == {1_000_000_000 * NS}


TAR_FLAGS = ["--xattrs", "--xattrs-include=*", "--numeric-owner", "--format=pax"]


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar is not installed")
def test_gnu_tar_extracts_our_layer_to_the_same_tree(
    source: tuple[Path, list[str], FileLayer], tmp_path: Path
) -> None:
    src, _, layer = source
    subprocess.run(["tar", *TAR_FLAGS, "-xpzf", str(layer.path), "-C", str(tmp_path)], check=True)
    assert tree(tmp_path) == tree(src)


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar is not installed")
def test_we_extract_a_gnu_tar_layer_to_the_same_tree(
    source: tuple[Path, list[str], FileLayer], tmp_path: Path
) -> None:
    src, _, _ = source
    blob = tmp_path / "gnu.tar"
    subprocess.run(["tar", *TAR_FLAGS, "-cf", str(blob), "-C", str(src), "."], check=True)
    (tmp_path / "dst").mkdir()
    with open(blob, "rb") as f:
        apply_layer(f, tmp_path / "dst")
    assert tree(tmp_path / "dst") == tree(src)


def _blob(layout: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256" / digest).write_bytes(data)
    return "sha256:" + digest


def _oci_layout(layout: Path, layer: FileLayer) -> None:
    """A one-layer OCI image layout tagged ``t``, written by hand."""
    (layout / "blobs/sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    shutil.copy(layer.path, layout / "blobs/sha256" / layer.digest.hex)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [str(layer.diff_id)]},
        "config": {},
    }
    config_bytes = json.dumps(config).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": _blob(layout, config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {"mediaType": layer.media_type, "digest": str(layer.digest), "size": layer.size}
        ],
    }
    manifest_bytes = json.dumps(manifest).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": _blob(layout, manifest_bytes),
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": "t"},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))


@pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci is not installed")
def test_umoci_unpacks_our_layer_to_the_same_tree(
    source: tuple[Path, list[str], FileLayer], tmp_path: Path
) -> None:
    src, _, layer = source
    _oci_layout(tmp_path / "layout", layer)
    rootfs = tmp_path / "rootfs"
    subprocess.run(
        ["umoci", "raw", "unpack", "--image", f"{tmp_path / 'layout'}:t", str(rootfs)],
        check=True,
        capture_output=True,
    )
    assert tree(rootfs) == tree(src)


@pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci is not installed")
def test_we_extract_a_umoci_layer_to_the_same_tree(
    source: tuple[Path, list[str], FileLayer], tmp_path: Path
) -> None:
    src, _, _ = source
    layout = tmp_path / "layout"
    for args in (
        ["init", "--layout", str(layout)],
        ["new", "--image", f"{layout}:t"],
        ["insert", "--image", f"{layout}:t", str(src), "/"],
    ):
        subprocess.run(["umoci", *args], check=True, capture_output=True)
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs/sha256" / manifest_digest).read_text())
    (layer,) = manifest["layers"]
    (tmp_path / "dst").mkdir()
    with open(layout / "blobs/sha256" / layer["digest"].split(":")[1], "rb") as f:
        apply_layer(f, tmp_path / "dst")

    def seconds(t: dict[str, tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
        return {k: (*v[:-1], (v[-1] + NS // 2) // NS) for k, v in t.items()}  # type: ignore[operator]  # mtime, int

    # Go's archive/tar (umoci) rounds mtimes to the nearest second unless asked for PAX.
    assert seconds(tree(tmp_path / "dst")) == seconds(tree(src))
