"""COPY, ADD and WORKDIR on a partial root give the layer the full root gives.

Each step runs twice on the same two-layer image, ``--reproducible`` (every time in a layer
the epoch, so layers compare byte for byte): once in a root where the image is extracted,
as a build without cache runs it, and once on the partial root the cache builds from the
image's tar headers (:mod:`kaniko.executor.sparse`). The image has what makes a
destination hard: symlinked directories (``/etc/service``, a merged ``/lib``), a directory
owned by someone else with its own mode, a file in the way, a whiteout and an opaque
directory in the upper layer, users and groups to resolve, xattrs.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from kaniko.cache.view import ImageView, IndexStore, ViewTooLarge
from kaniko.dockerfile.parser import parse
from kaniko.executor.cached import fs_steps
from kaniko.executor.filesystem import (
    CopySources,
    DirectorySteps,
    NewDirectory,
    Snapshots,
    StageParts,
)
from kaniko.executor.sparse import PartialRoot, needed_entries
from kaniko.executor.workspace import Extractor, ImageTrees, Workspace
from kaniko.images import mutate
from kaniko.images.empty import scratch
from kaniko.oci.image import BytesLayer, Image
from kaniko.oci.platform import Platform
from kaniko.plan import make_plan
from tests.executor.helpers import OneBase
from tests.fs.helpers import M, layer

PLATFORM = Platform.host()
PASSWD = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
GROUP = b"root:x:0:\napp:x:1000:\nstaff:x:50:app\n"

BASE = (
    M("etc/", "dir"),
    M("etc/passwd", data=PASSWD),
    M("etc/group", data=GROUP),
    M("var/", "dir"),
    M("var/service/", "dir", mode=0o750, uid=3, gid=4),
    M("var/service/old", data=b"old"),
    M("etc/service", "symlink", link="../var/service"),
    M("usr/", "dir"),
    M("usr/lib/", "dir", pax={"SCHILY.xattr.user.tag": "lib"}),
    M("usr/lib/libc.so", data=b"libc"),
    M("lib", "symlink", link="usr/lib"),
    M("srv/", "dir", mode=0o700, uid=7, gid=8),
    M("srv/app/", "dir", mode=0o711, uid=9, gid=9),
    M("srv/app/keep.txt", data=b"keep", uid=9, gid=9),
    M("srv/app/in-the-way", data=b"a file"),
    M("gone/", "dir"),
    M("gone/x", data=b"x"),
    M("opaque/", "dir"),
    M("opaque/lower", data=b"lower"),
    M("tmp/", "dir", mode=0o1777),
)
UPPER = (  # what a RUN might have left: deletions, an opaque directory, a new tree
    M("gone/.wh.x"),
    M("opaque/", "dir"),
    M("opaque/.wh..wh..opq"),
    M("opaque/upper", data=b"upper"),
    M("srv/app/", "dir", mode=0o751, uid=9, gid=9),
    M("srv/app/new/", "dir", mode=0o700, uid=1000, gid=1000),
    M("srv/app/ext", "symlink", link="/var/service"),
)

STEPS = [
    "COPY a.txt /etc/service/",  # through a symlink to a directory owned 3:4
    "COPY tree /srv/app/",  # into an existing tree: its owners and modes stay
    "COPY tree /srv/app/new",
    "COPY a.txt /lib/liba.txt",  # merged /lib
    "COPY --chown=app:staff a.txt tree /home/app/",
    "COPY --chmod=640 --chown=1000 tree /opaque/",
    "COPY a.txt /gone/x",
    "COPY --link a.txt /etc/service/linked",
    "ADD archive.tar /srv/unpacked/",
    "COPY a.txt /srv/app/in-the-way",
    "COPY withext /srv/app/",  # ext/ in the image is a symlink out of the tree
    "WORKDIR /srv/app/work/deeper",
    "WORKDIR /etc/service/www",
]


def _image(tmp: Path) -> Image:
    image = scratch(PLATFORM)
    for members in (BASE, UPPER):
        image = mutate.append(image, BytesLayer.from_tar(layer(*members)))
    return image


def _context(tmp: Path) -> Path:
    ctx = tmp / "ctx"
    (ctx / "tree/sub").mkdir(parents=True)
    (ctx / "a.txt").write_text("A\n")
    (ctx / "tree/t.txt").write_text("T\n")
    (ctx / "tree/sub/s.txt").write_text("S\n")
    os.symlink("t.txt", ctx / "tree/link")
    (ctx / "withext/ext").mkdir(parents=True)
    (ctx / "withext/ext/z.txt").write_text("Z\n")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("from-archive/f")
        info.size, info.uid, info.mode = 3, 5, 0o604
        tar.addfile(info, io.BytesIO(b"arc"))
    (ctx / "archive.tar").write_bytes(buffer.getvalue())
    return ctx


@pytest.mark.parametrize("line", STEPS)
def test_partial_root_layer_is_the_full_root_layer(line: str, tmp_path: Path) -> None:
    image = _image(tmp_path)
    ctx = _context(tmp_path)
    text = "FROM base\n" + ("USER app\n" if line.startswith("WORKDIR /etc") else "") + line
    bases = OneBase(image)
    plan = make_plan(parse(text), build_args={}, platform=PLATFORM, environ={}, bases=bases)
    [stage] = plan.stages
    [(_, step, config)] = list(fs_steps(stage, image.config()))
    with Workspace.create(str(tmp_path / "kaniko")) as ws:
        extractor = Extractor(ws)
        parts = StageParts(extractor, Snapshots(ws.spool, reproducible=True))
        trees = ImageTrees(bases, extractor)
        sources = CopySources(ctx, None, trees, None)  # type: ignore[arg-type]
        full = DirectorySteps(stage, image, parts, NewDirectory(extractor, "full", image), sources)
        want = full.run_step(step, config)
        view = ImageView([IndexStore().index(x) for x in image.layers()])
        entries = needed_entries(view, step, config)
        partial = PartialRoot(extractor, "partial", entries)
        got = DirectorySteps(stage, image, parts, partial, sources).run_step(step, config)
        assert want is not None and got is not None
        assert got.diff_id == want.diff_id, _difference(want, got)
        assert len(entries) < 20  # only what the step reads, not the image


def _difference(want: object, got: object) -> str:
    def listing(x: object) -> list[str]:
        with x.open_uncompressed() as f, tarfile.open(fileobj=f, mode="r|") as tar:  # type: ignore[attr-defined]
            return [f"{m.name} {m.type!r} {m.mode:o} {m.uid}:{m.gid} {m.pax_headers}" for m in tar]

    return (
        "\nfull:    "
        + "\n         ".join(listing(want))
        + "\npartial: "
        + "\n         ".join(listing(got))
    )


def test_a_destination_with_a_large_tree_asks_for_the_full_root(tmp_path: Path) -> None:
    many = [M("big/", "dir")] + [M(f"big/f{i}", data=b"x") for i in range(5000)]
    image = mutate.append(scratch(PLATFORM), BytesLayer.from_tar(layer(*many)))
    plan = make_plan(
        parse("FROM base\nCOPY a /big/"), build_args={}, platform=PLATFORM, environ={},
        bases=OneBase(image),
    )  # fmt: skip
    [(_, step, config)] = list(fs_steps(plan.stages[0], image.config()))
    view = ImageView([IndexStore().index(x) for x in image.layers()])
    with pytest.raises(ViewTooLarge):
        needed_entries(view, step, config)
