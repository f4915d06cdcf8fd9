"""Rebuilds with the layer cache (issue 11): how long a warm rebuild takes, and its memory.

A Dockerfile on the lab's Debian base (``tests/lab/debian.py``, debootstrap minbase, one
~50 MB layer) with a COPY before a RUN (which writes 20 MB of files) and a COPY after it
is built by the ``kaniko`` command (a fresh process each time, Python start-up included),
``--cache`` on, the cache in a repository of a lab registry and ``--cache-dir`` in a
temporary directory, pushing to that registry:

1. cold: the cache is empty;
2. rebuild with nothing changed (targets: at most 1.0 s on 2 cores);
3. rebuild after the COPY source *after* the RUN changed (at most 1.5 s; the Go kaniko
   takes 7-8 s, extracting the base and the cached RUN layer);
4. rebuild after the COPY source *before* the RUN changed (the RUN runs again).

Each rebuild is timed ``--runs`` times (the median is shown, the source changed anew each
time) with the builder's peak RSS (target: under 200 MB). Needs root (debootstrap, RUN).

    python bench/cache_rebuild.py [--runs 5] [--verbose]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import httpx  # noqa: E402
from tests.lab.debian import debian_rootfs_layer  # noqa: E402
from tests.lab.images import PATH_ENV, make_image, push_raw  # noqa: E402
from tests.lab.registry import Registry, start_registry  # noqa: E402

from kaniko.oci.platform import Platform  # noqa: E402

DOCKERFILE = """\
FROM {base}
COPY early/ /opt/early/
RUN set -e; mkdir -p /opt/data; cd /opt/data; \\
    for i in $(seq 1 320); do head -c 65536 /dev/urandom > f$i; done; \\
    cat /opt/early/* > /opt/data/early-copy
COPY late/ /app/
CMD ["/bin/cat", "/app/main.txt"]
"""
TARGET_NOTHING = 1.0
TARGET_LATE = 1.5
TARGET_RSS_MB = 200


def push_debian(registry_url: str) -> None:
    """Push the lab's Debian image (run in a child process: the layer's bytes would
    otherwise stay in this process, whose size every child starts with)."""
    layer = debian_rootfs_layer().read_bytes()
    host = Platform.host()
    image = make_image(
        [layer], arch=host.architecture, variant=host.variant, config={"Env": [PATH_ENV]}
    )
    with httpx.Client(timeout=120) as client:
        push_raw(client, registry_url, "library/debian", "bookworm", image)


def build(workdir: Path, registry: Registry, verbose: bool) -> tuple[float, float, float, str]:
    """One build in a fresh process: (seconds, CPU seconds, peak RSS MB, log)."""
    kaniko = Path(sys.executable).with_name("kaniko")
    argv = [
        str(kaniko),
        f"--context={workdir / 'ctx'}",
        f"--destination={registry.host}/bench/app:latest",
        "--cache=true",
        f"--cache-repo={registry.host}/bench/cache",
        f"--cache-dir={workdir / 'cache'}",
        f"--kaniko-dir={workdir / 'kaniko'}",
        "--isolation=chroot",
        "--log-format=text",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    log = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or verbose:
        print(log)
    if process.returncode != 0:
        raise SystemExit(f"build failed with exit {process.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (debootstrap and RUN)", file=sys.stderr)
        return 1
    load = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="kaniko-bench-cache-"))
    registry = start_registry(work / "registry")
    try:
        code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import cache_rebuild as b; "
        code += f"b.push_debian({registry.url!r})"
        subprocess.run([sys.executable, "-c", code], check=True)
        base = f"{registry.host}/library/debian:bookworm"
        (work / "cache").mkdir()  # the pod's /cache volume: layer indexes are kept there
        ctx = work / "ctx"
        (ctx / "early").mkdir(parents=True)
        (ctx / "late").mkdir()
        (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=base))
        (ctx / "early" / "config.txt").write_text("early 0\n")
        (ctx / "late" / "main.txt").write_text("late 0\n")
        for i in range(50):
            (ctx / "late" / f"page{i}.html").write_text(f"<p>page {i}</p>\n" * 40)
        rows: list[tuple[str, list[float], list[float], list[float]]] = []
        cold = build(work, registry, args.verbose)
        rows.append(("cold, empty cache", [cold[0]], [cold[1]], [cold[2]]))
        cases = {
            "nothing changed": None,
            "late COPY source changed": ctx / "late" / "main.txt",
            "early COPY source changed (RUN runs)": ctx / "early" / "config.txt",
        }
        for label, changed in cases.items():
            times, cpus, peaks = [], [], []
            for run in range(args.runs):
                if changed is not None:
                    changed.write_text(f"{label} {run} {time.time_ns()}\n")
                seconds, cpu, peak, log = build(work, registry, args.verbose)
                times.append(seconds)
                cpus.append(cpu)
                peaks.append(peak)
                if changed is None and "Unpacking rootfs" in log:
                    print("note: a nothing-changed rebuild extracted an image")
            rows.append((label, times, cpus, peaks))
        print(f"load average before: {load:.2f}, after: {os.getloadavg()[0]:.2f} (2 cores wanted)")
        print(f"{'build':40} {'median s':>9} {'min s':>6} {'max s':>6} {'CPU s':>6} {'RSS MB':>7}")
        for label, times, cpus, peaks in rows:
            print(
                f"{label:40} {statistics.median(times):9.2f} {min(times):6.2f} "
                f"{max(times):6.2f} {statistics.median(cpus):6.2f} {max(peaks):7.0f}"
            )
        nothing = statistics.median(rows[1][1])
        late = statistics.median(rows[2][1])
        peak = max(max(p) for *_, p in rows)
        print(
            f"targets: nothing changed {nothing:.2f} s (<= {TARGET_NOTHING}), late COPY "
            f"{late:.2f} s (<= {TARGET_LATE}), peak RSS {peak:.0f} MB (< {TARGET_RSS_MB})"
        )
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
