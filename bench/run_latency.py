"""Per-RUN overhead of the sandbox: the latency of ``RUN true`` in chroot isolation.

Users pay it once per RUN instruction, so it is measured on its own: a busybox root is
laid out once, then ``/bin/true`` runs ``--runs`` times through
:func:`kaniko.sandbox.chroot.run` (after ``--warmup`` runs), and the median, 90th
percentile and minimum wall-clock times are printed, with the CPU time (user + system)
per RUN of the builder and of the RUN's own processes (steadier than wall-clock time on a
busy machine) and the builder's peak RSS.
Run as root for full isolation (namespaces, mounts, pivot_root); otherwise the sandbox
degrades as it would on such a host and the numbers say so.

    python bench/run_latency.py [--runs 200] [--isolation auto|full|plain]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lab.images import busybox_rootfs

from kaniko.sandbox.chroot import run
from kaniko.sandbox.spec import ISOLATIONS, RunSpec


def _cpu() -> tuple[float, float]:
    """User + system seconds of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--isolation", choices=ISOLATIONS, default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kaniko-bench-run-") as tmp:
        root = busybox_rootfs(Path(tmp) / "root")
        spec = RunSpec(root=root, argv=("/bin/true",), env=())
        times = []
        cpu_before: tuple[float, float] = (0.0, 0.0)
        for index in range(args.warmup + args.runs):
            if index == args.warmup:
                cpu_before = _cpu()
            started = time.perf_counter()
            code = run(spec, on_output=print, isolation=args.isolation)
            elapsed = time.perf_counter() - started
            if code != 0:
                print(f"RUN true exited {code}", file=sys.stderr)
                return 1
            if index >= args.warmup:
                times.append(elapsed * 1000)
    cpu_after = _cpu()
    builder_cpu, children_cpu = (
        (after - before) * 1000 / args.runs
        for before, after in zip(cpu_before, cpu_after, strict=True)
    )
    times.sort()
    p90 = times[int(len(times) * 0.9) - 1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"RUN true ({args.isolation}, {args.runs} runs): median {statistics.median(times):.1f} ms,"
        f" p90 {p90:.1f} ms, min {times[0]:.1f} ms; CPU per RUN: builder {builder_cpu:.1f} ms,"
        f" RUN processes {children_cpu:.1f} ms; builder peak RSS {rss:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
