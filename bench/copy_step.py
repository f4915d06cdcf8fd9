"""Micro benchmark of one COPY step alone (issue 14): 30 000 small files into a stage root.

The context is the copy30k workload's (``bench/build.py``): 30 directories of 1 000
files of 20–600 bytes. Each round copies it with :func:`kaniko.executor.steps.copy_step`
(``COPY files/ /files/``) into a fresh destination root, one of:

- ``plain``: a directory on the work directory's file system (the metadata snapshotter's
  stage root, and the pod's in-place root);
- ``overlay``: an overlay mount with an empty upper directory over a small read-only lower
  (the overlay snapshotter's stage root; needs root).

Rounds of the kinds alternate, so a change in the machine's load hits each alike. Each
round prints wall, user and system CPU seconds; the end prints the medians and the load
average. On ext4 without a journal a round after another's removal pays for it in system
time (:mod:`bench.fsinfo`): compare on a journaled file system (``--work``) or alternate.
``sync`` runs before each round (untimed) so dirty pages of the last round are not
written back during the next.

    .venv/bin/python bench/copy_step.py [--rounds 5] [--kinds plain,overlay] [--files 30000]
        [--work DIR] [--context DIR]

To compare two versions of kaniko on the same machine state, alternate runs of one round
each with ``PYTHONPATH=<other checkout>/src`` and a shared ``--context``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.fsinfo import warn_if_journal_less  # noqa: E402

from kaniko.dockerfile.commands import Copy  # noqa: E402
from kaniko.executor.steps import CopySource, copy_step  # noqa: E402
from kaniko.fs.overlaymount import mount_overlay, unmount  # noqa: E402


def make_context(directory: Path, files: int) -> Path:
    """``files`` small files in directories of 1 000, as the copy30k workload has them."""
    top = directory / "files"
    for n in range(files):
        sub = top / f"d{n // 1000:02d}"
        if n % 1000 == 0:
            sub.mkdir(parents=True)
        f = n % 1000
        (sub / f"f{f:04d}.txt").write_bytes(b"%d\n" % n * (10 + f % 200))
    return directory


def _lower(work: Path) -> Path:
    lower = work / "lower"
    for name in ("etc", "usr/bin", "tmp"):
        (lower / name).mkdir(parents=True, exist_ok=True)
    (lower / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    return lower


def one_round(kind: str, context: Path, work: Path, lower: Path) -> tuple[float, float, float]:
    scratch = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=work))
    root = scratch / "root"
    root.mkdir()
    mounted = False
    if kind == "overlay":
        (scratch / "upper").mkdir()
        (scratch / "work").mkdir()
        mount_overlay(str(root), [str(lower)], str(scratch / "upper"), str(scratch / "work"))
        mounted = True
    else:
        shutil.copytree(lower, root, dirs_exist_ok=True)
    os.sync()
    instr = Copy(
        original="COPY files/ /files/", line=1, end_line=1, sources=("files/",), dest="/files/"
    )
    source = CopySource(context, None, True)
    try:
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        written = copy_step(instr, source=source, dest_root=root, workdir="/")
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        assert len(written) > 1000, len(written)
    finally:
        if mounted:
            unmount(str(root))
        shutil.rmtree(scratch)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", default="plain,overlay")
    parser.add_argument("--files", type=int, default=30000)
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--context", type=Path, help="reuse this context (made if missing)")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    work = Path(tempfile.mkdtemp(prefix="copy-step-", dir=args.work))
    warn_if_journal_less(work)
    try:
        context = args.context or work / "context"
        if not context.is_dir():
            make_context(context, args.files)
        lower = _lower(work)
        results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in kinds}
        for number in range(args.rounds):
            for kind in kinds:
                wall, user, system = one_round(kind, context, work, lower)
                results[kind].append((wall, user, system))
                load = os.getloadavg()[0]
                print(
                    f"round {number + 1} {kind:8} wall {wall:6.2f} s  user {user:5.2f} s"
                    f"  sys {system:5.2f} s  load {load:.2f}",
                    flush=True,
                )
        for kind, rows in results.items():
            wall, user, system = (statistics.median(col) for col in zip(*rows, strict=True))
            print(f"median {kind:8} wall {wall:6.2f} s  user {user:5.2f} s  sys {system:5.2f} s")
        print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
