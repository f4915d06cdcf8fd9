"""The stages of every platform as one graph (``--jobs``): stages of two platforms overlap
with ``--jobs 2`` and not with ``--jobs 1``, a failing stage of one platform cancels the
other's, and the index is the same both ways. Every ``FROM`` is the host's busybox (the
scheduling is under test here, not emulation: ``$BUILDPLATFORM`` stages run natively)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaniko.dockerfile.parser import parse
from kaniko.errors import RunError
from kaniko.executor import stage as stage_module
from kaniko.executor.executor import build
from kaniko.executor.filesystem import DirectoryRoots
from kaniko.executor.graph import in_root
from kaniko.executor.inplace import InplaceBuild, RootTurns
from kaniko.executor.platformgraph import PlatformGraph, Target
from kaniko.executor.platforms import platform_name
from kaniko.executor.scheduler import STAGE
from kaniko.executor.stage import StageOptions
from kaniko.executor.workspace import Workspace
from kaniko.oci.image import Image
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, OutputOptions
from kaniko.plan import make_plan
from kaniko.sandbox import chroot
from tests.e2e.test_signals import _processes_named
from tests.executor.helpers import OneBase, busybox_image, stage_parts
from tests.lab.flatten import Tree, compare_trees, flatten_layers

HOST = Platform.host()
AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
TARGETS = (AMD64, ARM64)

STAMPS = """\
FROM --platform=$BUILDPLATFORM base AS work
ARG TARGETARCH
RUN date +%s > /start && sleep 2 && date +%s > /end && echo $TARGETARCH > /arch
FROM scratch
COPY --from=work /start /end /arch /
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return busybox_image(tmp_path_factory.mktemp("platform-graph-base"), HOST)


@pytest.fixture(autouse=True)
def _fresh_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroot, "_refused", None)


class Build:
    """The graph of ``text`` for :data:`TARGETS`, on directories or one stand-in ``/``."""

    def __init__(self, text: str, base: Image, tmp_path: Path, *, inplace: bool) -> None:
        self.bases = OneBase(base)
        self.workspace = Workspace.create(str(tmp_path / "kaniko"))
        parts = stage_parts(self.workspace)
        context = tmp_path / "context"
        context.mkdir(parents=True, exist_ok=True)
        self.root = tmp_path / "root"
        self.root.mkdir()
        turns = RootTurns()
        self.targets = []
        for target in TARGETS:
            plan = make_plan(
                parse(text), build_args={}, platform=target, build_platform=HOST,
                environ={}, bases=self.bases,
            )  # fmt: skip
            roots: DirectoryRoots
            if inplace:
                roots = InplaceBuild(
                    parts, plan, context=context, matcher=None, images=self.bases,
                    kaniko_dir=str(tmp_path / "kaniko"), root=self.root, mountinfo="",
                    stages_dir=tmp_path / "stages" / platform_name(target),
                )  # fmt: skip
                roots.turns = turns
            else:
                roots = DirectoryRoots(parts, context=context, matcher=None, images=self.bases)
            self.targets.append(Target(target, plan, roots))
        self.graph = PlatformGraph(self.targets, in_root if inplace else None)
        self.finished: list[int] = []

    def run(self, jobs: int) -> list[Tree]:
        """Every platform's final image, flattened."""
        built = self.graph.build(
            self.bases, StageOptions(), lambda p, images: self.finished.append(p), jobs=jobs
        )
        return [
            flatten_layers([Path(layer.path) for layer in images[t.plan.target_index].layers()])
            for images, t in zip(built, self.targets, strict=True)
        ]

    def close(self) -> None:
        for target in reversed(self.targets):
            target.roots.close(cleanup=True)
        self.workspace.remove()


@pytest.fixture
def builds(tmp_path: Path) -> Iterator[list[Build]]:
    made: list[Build] = []
    yield made
    for one in made:
        one.close()


def _span(tree: Tree) -> tuple[int, int]:
    start, end = tree["/start"].data, tree["/end"].data
    assert start is not None and end is not None
    return int(start), int(end)


@pytest.mark.parametrize("inplace", [False, True], ids=["chroot", "inplace"])
def test_stages_of_two_platforms_overlap_with_two_jobs_only(
    base: Image, tmp_path: Path, builds: list[Build], inplace: bool
) -> None:
    """With two jobs the two platforms' RUN stages run at once (chroot), or take turns on
    the one root (in place); with one job they run one after another in platform order."""
    for jobs in (2, 1):
        builds.append(Build(STAMPS, base, tmp_path / f"jobs{jobs}", inplace=inplace))
        trees = builds[-1].run(jobs)
        assert [t["/arch"].data for t in trees] == [b"amd64\n", b"arm64\n"]
        (a0, a1), (b0, b1) = (_span(t) for t in trees)
        overlapped = a0 < b1 and b0 < a1
        assert overlapped == (jobs == 2 and not inplace), (jobs, (a0, a1), (b0, b1))
        if jobs == 1:
            assert b0 >= a1  # amd64's stage, then arm64's
            assert builds[-1].finished == [0, 1]  # each platform finished before the next


FAILING = """\
FROM --platform=$BUILDPLATFORM base AS pick
ARG TARGETARCH
RUN sleep 1 && test $TARGETARCH = amd64
FROM --platform=$BUILDPLATFORM base AS slow
ARG TARGETARCH
RUN echo started-$TARGETARCH && {slow} && touch /done
FROM scratch
COPY --from=pick /etc/passwd /picked
COPY --from=slow /done /done
"""


def test_a_failing_stage_of_one_platform_cancels_the_others_and_is_the_error(
    base: Image, tmp_path: Path, builds: list[Build], caplog: pytest.LogCaptureFixture
) -> None:
    """amd64's slow RUN is under way when arm64's first stage fails: the RUN is killed,
    nothing else starts, that failure is raised, and the roots close to nothing."""
    caplog.set_level(logging.INFO, logger="kaniko")
    marker = f"sleep 7{os.getpid() % 1000}3"
    one = Build(FAILING.format(slow=marker), base, tmp_path, inplace=False)
    builds.append(one)
    started = time.monotonic()
    with pytest.raises(RunError, match=r"Dockerfile:3\) exited 1") as raised:
        one.run(jobs=2)
    assert time.monotonic() - started < 30  # the sleep of 7xxx s was cut short
    assert raised.value.exit_code == 1
    assert "started-amd64" in caplog.text  # it was under way
    assert "started-arm64" not in caplog.text  # and nothing started after the failure
    assert not _processes_named(marker)
    assert one.finished == []  # neither platform finished
    one.close()
    builds.clear()
    assert not any((tmp_path / "kaniko" / "builds").iterdir())  # both platforms' roots


def _cross(tmp_path: Path, jobs: int) -> BuildOptions:
    ctx = tmp_path / f"ctx{jobs}"
    ctx.mkdir()
    (ctx / "a").write_text("a\n")
    (ctx / "Dockerfile").write_text(
        "FROM --platform=$BUILDPLATFORM scratch AS tools\nCOPY a /a\n"
        "FROM --platform=$BUILDPLATFORM scratch AS builder\nARG TARGETARCH\n"
        "COPY a /a-$TARGETARCH\n"
        "FROM scratch\nARG TARGETARCH\nCOPY --from=tools /a /tools\n"
        "COPY --from=builder /a-$TARGETARCH /builder\n"
    )
    return BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        platform=AMD64,
        platforms=TARGETS,
        kaniko_dir=str(tmp_path / f"kaniko{jobs}"),
        jobs=jobs,
        output=OutputOptions(no_push=True, reproducible=True),
    )


def test_the_index_is_the_same_with_one_job_and_with_several(tmp_path: Path) -> None:
    one, several = (build(_cross(tmp_path, jobs)) for jobs in (1, 4))
    assert one.index is not None and several.index is not None
    assert str(one.digest) == str(several.digest)
    assert [str(i.digest()) for i in one.index.images()] == [
        str(i.digest()) for i in several.index.images()
    ]


SHARED = """\
FROM --platform=$BUILDPLATFORM base AS tools
RUN echo tools > /tools
FROM --platform=$BUILDPLATFORM base AS copier
ARG TARGETARCH
COPY --from=tools /tools /copied
FROM tools AS grown
ARG TARGETARCH
RUN echo $TARGETARCH > /arch
FROM scratch
COPY --from=copier /copied /copied
COPY --from=grown /arch /tools /
"""


def test_a_shared_stage_read_by_both_platforms_in_place_is_the_same_as_in_directories(
    base: Image, tmp_path: Path, builds: list[Build]
) -> None:
    """The shared ``tools`` stage is read by both platforms' ``copier`` and grown in place
    by the first platform's ``grown``: in place, with one job or two, each platform's
    image is the one built in directories (a tree lent to the other platform is never
    moved back into the root under it)."""
    results = {}
    for name, inplace, jobs in (("dirs", False, 2), ("inplace1", True, 1), ("inplace2", True, 2)):
        builds.append(Build(SHARED, base, tmp_path / name, inplace=inplace))
        results[name] = builds[-1].run(jobs)
    for arch, tree in zip(("amd64", "arm64"), results["dirs"], strict=True):
        assert tree["/arch"].data == f"{arch}\n".encode()
        assert tree["/copied"].data == tree["/tools"].data == b"tools\n"
    for name in ("inplace1", "inplace2"):
        for ours, theirs in zip(results[name], results["dirs"], strict=True):
            assert compare_trees(ours, theirs, labels=(name, "dirs")) == []


def test_a_tree_lent_to_another_platform_stays_while_it_reads_it(
    base: Image, tmp_path: Path, builds: list[Build], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In place, with three jobs: arm64's ``copier`` borrows the shared ``tools`` tree,
    then amd64's ``grown`` (``FROM tools``, the last amd64 stage that needs it) takes the
    root, and only then does arm64's ``copier`` copy: the tree it borrowed is still there
    (``grown`` extracts its base instead of moving the tree back into the root)."""
    real = stage_module.build_stage
    delays = {"linux/arm64 1 (copier)": 1.5, "linux/amd64 2 (grown)": 0.5}  # job labels

    def delayed(stage, base, fs, opts):  # type: ignore[no-untyped-def]
        time.sleep(delays.get(STAGE.get(), 0))
        return real(stage, base, fs, opts)

    monkeypatch.setattr(stage_module, "build_stage", delayed)
    builds.append(Build(SHARED, base, tmp_path, inplace=True))
    trees = builds[-1].run(3)
    for arch, tree in zip(("amd64", "arm64"), trees, strict=True):
        assert tree["/arch"].data == f"{arch}\n".encode()
        assert tree["/copied"].data == tree["/tools"].data == b"tools\n"
