"""Helpers shared by the executor's tests (this module holds no tests).

For stage builds: :func:`busybox_image` makes a one-layer busybox base (its layer a file,
as a pulled layer kept on disk is), :class:`OneBase` serves it for every ``FROM``,
:func:`stage_parts` makes what a build's stages share.

For the COPY/ADD step tests:

:func:`make_context` builds one build context with every kind of entry the tests copy;
:func:`make_root` a stage root with users, groups and the symlinks real images have
(``/etc/service -> ../var/service``, merged ``/lib -> usr/lib``). Instructions are built
directly (:func:`cp`, :func:`add`) so each test states the exact words the step receives.
Expectations (:class:`F`, :class:`D`, :class:`L`, :class:`Fifo`) are checked with
``lstat``, never following a symlink.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import httpx

from kaniko.dockerfile.ast import Heredoc
from kaniko.dockerfile.commands import Add, Copy
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.executor.filesystem import Snapshots, StageParts
from kaniko.executor.steps import CopySource, copy_step
from kaniko.executor.workspace import Extractor, IgnoreRules, Workspace
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.oci.config import ImageConfig
from kaniko.oci.image import FileLayer, Image
from kaniko.oci.platform import Platform
from tests.lab.images import DOCKER_LAYER, busybox_rootfs, layer_from_dir


def busybox_image(directory: Path, platform: Platform, rootfs: Path | None = None) -> Image:
    """A busybox image for ``platform`` whose one layer is a file in ``directory``; from
    ``rootfs`` if given (a busybox root a test changed), else a fresh one."""
    root = rootfs if rootfs is not None else busybox_rootfs(directory / "rootfs")
    blob = directory / "layer.tar.gz"
    blob.write_bytes(layer_from_dir(root))
    return mutate.append(scratch(platform), FileLayer.from_file(str(blob), DOCKER_LAYER))


class OneBase:
    """Base images (for the planner and the stages) where every reference names ``image``."""

    def __init__(self, image: Image) -> None:
        self._image = image

    def image(self, reference: str, platform: Platform) -> Image:
        return self._image

    def config(self, reference: str, platform: Platform) -> ImageConfig:
        return self._image.config()


def stage_parts(workspace: Workspace, ignore_paths: tuple[str, ...] = ()) -> StageParts:
    """The default snapshot and extraction settings, ``ignore_paths`` ignored."""
    extractor = Extractor(workspace, IgnoreRules(paths=ignore_paths))
    return StageParts(extractor, Snapshots(workspace.spool))


T = 1_600_000_000_123_456_789  # mtime of every context entry, in ns (sub-second on purpose)
T_SUB = 1_500_000_000_987_654_321  # mtime of the context's dir/sub


def cp(*args: str, **flags: object) -> Copy:
    """``COPY args…`` (the last one is the destination)."""
    *sources, dest = args
    original = "COPY " + " ".join(args)
    return Copy(original=original, line=1, end_line=1, sources=tuple(sources), dest=dest, **flags)


def add(*args: str, **flags: object) -> Add:
    *sources, dest = args
    original = "ADD " + " ".join(args)
    return Add(original=original, line=1, end_line=1, sources=tuple(sources), dest=dest, **flags)


def doc(name: str, body: str, *, chomp: bool = False) -> Heredoc:
    return Heredoc(name=name, content=body, chomp=chomp)


def _file(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def make_context(base: Path) -> Path:
    """The build context every COPY test reads (never modified by a test)."""
    ctx = base / "ctx"
    files = {
        "a.txt": ("A", 0o644),
        "b.txt": ("B", 0o600),
        "c.md": ("C", 0o644),
        "exec.sh": ("#!/bin/sh\n", 0o755),
        "suid": ("S", 0o4755),
        "file1.txt": ("1", 0o644),
        "file2.txt": ("2", 0o644),
        "fileA.txt": ("FA", 0o644),
        "q1.txt": ("q1", 0o644),
        "q22.txt": ("q22", 0o644),
        "[x].txt": ("bracket", 0o644),
        "space name.txt": ("space", 0o644),
        "dir/x.txt": ("X", 0o644),
        "dir/.hidden": ("H", 0o640),
        "dir/sub/y.txt": ("Y", 0o644),
        "dir/hard1": ("HL", 0o644),
        "tree/a/b/c.txt": ("TC", 0o644),
        "tree/a/d.md": ("TD", 0o644),
        "tree/e/f.txt": ("TF", 0o644),
        "rootfs/lib/mod.so": ("MOD", 0o755),
        "xattr.txt": ("XA", 0o644),
    }
    for name, (data, mode) in files.items():
        _file(ctx / name, data, mode)
    os.link(ctx / "dir/hard1", ctx / "dir/hard2")
    os.symlink("x.txt", ctx / "dir/link")
    os.symlink("nowhere", ctx / "dir/dangling")
    os.symlink("/etc/passwd", ctx / "dir/abs")
    os.mkfifo(ctx / "dir/fifo", 0o600)
    os.symlink("a.txt", ctx / "link_to_a")
    os.symlink("dir", ctx / "link_to_dir")
    os.symlink("../../../../etc/hostname", ctx / "escape")
    os.symlink("missing-target", ctx / "dangling_top")
    os.chmod(ctx / "dir", 0o750)
    os.chmod(ctx / "dir/sub", 0o700)
    os.chmod(ctx / "tree/a", 0o751)
    os.chown(ctx / "a.txt", 1000, 1000)
    with contextlib.suppress(OSError):
        os.setxattr(ctx / "xattr.txt", "user.origin", b"context")
    for path in sorted(ctx.rglob("*"), key=lambda p: -len(p.parts)):
        os.utime(path, ns=(T, T), follow_symlinks=False)
    os.utime(ctx / "dir/sub", ns=(T_SUB, T_SUB))
    os.utime(ctx, ns=(T, T))
    return ctx


def make_stage(base: Path) -> Path:
    """Another stage's root, for ``--from``: owners that must be kept."""
    stage = base / "stage"
    _file(stage / "app/bin/tool", "TOOL", 0o750)
    _file(stage / "app/doc.md", "DOC", 0o644)
    for path in (stage / "app/bin/tool", stage / "app/bin", stage / "app/doc.md"):
        os.chown(path, 42, 43)
    os.symlink("/app/bin/tool", stage / "toollink")
    return stage


PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
PASSWD += "www-data:x:33:33::/var/www:/bin/false\n"
GROUP = "root:x:0:\napp:x:1000:\nstaff:x:50:app\n"


def make_root(base: Path) -> Path:
    """A stage root filesystem with the shapes real images have."""
    root = base / "root"
    _file(root / "etc/passwd", PASSWD)
    _file(root / "etc/group", GROUP)
    (root / "var/service").mkdir(parents=True)
    os.symlink("../var/service", root / "etc/service")
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    (root / "usr/lib").mkdir(parents=True)
    os.symlink("usr/lib", root / "lib")
    _file(root / "existing.txt", "OLD")
    os.symlink("existing.txt", root / "lnk")
    (root / "existing_dir").mkdir()
    os.chmod(root / "existing_dir", 0o700)
    os.chown(root / "existing_dir", 7, 7)
    (root / "out2/sub").mkdir(parents=True)
    os.chmod(root / "out2/sub", 0o777)
    (root / "realsub").mkdir()
    (root / "out3").mkdir()
    os.symlink("../realsub", root / "out3/sub")
    return root


def run(
    instr: Copy | Add,
    ctx: Path,
    root: Path,
    *,
    workdir: str = "/",
    ignore: list[str] | None = None,
    from_root: Path | None = None,
    http: httpx.Client | None = None,
) -> list[str]:
    if from_root is not None:
        source = CopySource(from_root, None, False)
    else:
        source = CopySource(ctx, PatternMatcher(ignore) if ignore else None, True)
    return copy_step(instr, source=source, dest_root=root, workdir=workdir, http=http)


@dataclass(frozen=True)
class F:
    """A regular file with this content (and, when given, mode, owner, mtime)."""

    data: str
    mode: int | None = None
    owner: tuple[int, int] | None = None
    mtime: int | None = None


@dataclass(frozen=True)
class D:
    mode: int | None = None
    owner: tuple[int, int] | None = None
    mtime: int | None = None


@dataclass(frozen=True)
class L:
    target: str


@dataclass(frozen=True)
class Fifo:
    pass


Expect = F | D | L | Fifo | None  # None: must not exist


def check(root: Path, path: str, want: Expect) -> None:
    full = root / path.lstrip("/")
    if want is None:
        assert not os.path.lexists(full), f"{path} should not exist"
        return
    st = os.lstat(full)
    if isinstance(want, L):
        assert stat.S_ISLNK(st.st_mode), f"{path} is not a symlink"
        assert os.readlink(full) == want.target
        return
    if isinstance(want, Fifo):
        assert stat.S_ISFIFO(st.st_mode), f"{path} is not a fifo"
        return
    if isinstance(want, F):
        assert stat.S_ISREG(st.st_mode), f"{path} is not a regular file"
        assert full.read_text() == want.data
    else:
        assert stat.S_ISDIR(st.st_mode), f"{path} is not a directory"
    if want.mode is not None:
        assert stat.S_IMODE(st.st_mode) == want.mode, f"{path}: mode {oct(st.st_mode)}"
    if want.owner is not None:
        assert (st.st_uid, st.st_gid) == want.owner, f"{path}: owner {st.st_uid}:{st.st_gid}"
    if want.mtime is not None:
        assert st.st_mtime_ns == want.mtime, f"{path}: mtime {st.st_mtime_ns}"
