"""Benchmark of userspace snapshots: inventory walk, take() after a small change, peak RSS.

Builds a tree of 100 000 files in 5 000 directories (50 top directories of 100 each, 20
files per directory) under a temporary directory, syncs it to disk, then reports:

- the inventory walk of the whole tree (best and median of several, warm dentry cache),
- ``Snapshotter.take()`` after changing 10 files (walk + diff), and ``take_paths`` of them,
- the layer write of those changes, the process's peak RSS, and the memory one inventory
  holds (measured last, with ``tracemalloc``, so its overhead stays out of the peak).

Times are wall clock with the process's CPU time beside them: on a shared machine the CPU
time is the steadier figure. Target on the 2-core lab machine: the walk of 100 000 files
under 1.0 s. Run: ``.venv/bin/python bench/fs_snapshot.py [--files N] [--dirs N]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

from kaniko.fs.ignore import IgnoreList
from kaniko.fs.inventory import Inventory
from kaniko.snapshot.snapshotter import Snapshotter

WALK_TARGET_S = 1.0
T = TypeVar("T")


def build_tree(root: str, files: int, dirs: int) -> list[str]:
    """``files`` small files spread over ``dirs`` directories; returns their relative paths."""
    per_dir = max(1, files // dirs)
    rels = []
    for d in range(dirs):
        rel_dir = f"d{d // 100:03d}/s{d:05d}"
        os.makedirs(os.path.join(root, rel_dir))
        for f in range(per_dir):
            rel = f"{rel_dir}/f{f:03d}"
            with open(os.path.join(root, rel), "wb") as fh:
                fh.write(b"x" * (f % 64 + 1))
            rels.append(rel)
    return rels


def timed(fn: Callable[[], T]) -> tuple[float, float, T]:
    """(wall seconds, CPU seconds, result) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def line(label: str, walls: list[float], cpus: list[float], extra: str = "") -> str:
    return (
        f"{label:<8} best {min(walls):.3f} s, median {statistics.median(walls):.3f} s wall; "
        f"best {min(cpus):.3f} s CPU{extra}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--dirs", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    base = tempfile.mkdtemp(prefix="kaniko-bench-fs-")
    try:
        root = os.path.join(base, "root")
        os.mkdir(root)
        build_s, _, rels = timed(lambda: build_tree(root, args.files, args.dirs))
        os.sync()
        print(f"tree:    {len(rels)} files in {args.dirs} dirs (built in {build_s:.1f} s)")
        print(f"load:    {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        ignore = IgnoreList.for_root(root).ignored_rel

        walls, cpus = [], []
        for _ in range(args.rounds):
            gc.collect()
            wall, cpu, inv = timed(lambda: Inventory.take(root, ignore=ignore))
            walls.append(wall)
            cpus.append(cpu)
            del inv
        verdict = "ok" if min(walls) < WALK_TARGET_S else "OVER TARGET"
        print(line("walk:", walls, cpus, f" (target < {WALK_TARGET_S} s: {verdict})"))

        snap = Snapshotter(root, ignore=ignore, spool_dir=os.path.join(base, "spool"))
        init_s, _, _ = timed(snap.init)
        changed = rels[:: max(1, len(rels) // 10)][:10]
        walls, cpus = [], []
        for round_ in range(args.rounds):
            for rel in changed:
                with open(os.path.join(root, rel), "ab") as fh:
                    fh.write(b"%d" % round_)
            wall, cpu, changes = timed(snap.take)
            walls.append(wall)
            cpus.append(cpu)
            if set(changes.modified) != set(changed) or changes.added or changes.deleted:
                print(f"error: take() found {changes}, expected {len(changed)} modified files")
                return 1
        layer_s, _, layer = timed(lambda: snap.layer(changes))
        for rel in changed:
            with open(os.path.join(root, rel), "ab") as fh:
                fh.write(b"!")
        paths_s, _, _ = timed(lambda: snap.take_paths("/" + rel for rel in changed))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"init:    {init_s:.3f} s")
        print(line("take():", walls, cpus, f" after changing {len(changed)} files"))
        size = layer.size if layer else 0
        print(f"layer(): {layer_s * 1000:.1f} ms for those changes ({size} bytes gzip)")
        print(f"take_paths(): {paths_s * 1000:.2f} ms for the same {len(changed)} files")
        print(f"peak RSS: {peak / 1024:.1f} MiB (two inventories live during take())")

        tracemalloc.start()
        inv = Inventory.take(root, ignore=ignore)
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        print(f"memory:  one inventory of {len(inv)} entries holds {held / 2**20:.1f} MiB")
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
