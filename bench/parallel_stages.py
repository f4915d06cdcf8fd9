"""Benchmark of independent stages built at once (issue 17): two apt-get stages + a final.

The Dockerfile has two stages that do not need each other, each installing packages on
the lab's Debian base (``tests/lab/debian.py``: debootstrap minbase, cached), and a final
stage that copies from both. Every build runs the real command line (``python -m
kaniko.cli --no-push``) in its own process against a lab registry, and is timed:

- ``a`` and ``b``: each stage alone (``--target`` with ``--skip-unused-stages``);
- ``jobs 1``: the whole file, one stage after another; the final stage's share is the
  time from its ``Building stage 2`` line to the end of the process;
- ``default``: the whole file with the default ``--jobs`` (the cores, at least 2).

Target: ``default`` ≤ 1.15 × (the longer of ``a`` and ``b`` + the final stage). The peak
RSS of the kaniko process (``VmHWM``, polled) is reported for every build. apt-get reads
the Debian mirror this machine's apt uses, so the times include the network: the builds
run in ``--rounds`` rounds (default 3) and the verdict is on the medians. The final stage
(extracting the base, two COPYs, writing the image, removing the roots) is disk-bound and
varies most on a shared machine, so the two stages' own part is reported too: from the
start to ``Building stage 2`` with the default ``--jobs``, against the longer stage alone;
each round's load average is printed. Run: ``.venv/bin/python bench/parallel_stages.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests.lab.debian import debian_rootfs_layer
from tests.lab.images import PATH_ENV, make_image, push_raw
from tests.lab.registry import start_registry

from kaniko.oci.platform import Platform

TARGET = 1.15
APT = (
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
    "--no-install-recommends {packages} >/dev/null && rm -rf /var/lib/apt/lists/*"
)
PACKAGES_A = "python3-minimal"
PACKAGES_B = "perl"


def dockerfile(base: str) -> str:
    return (
        f"FROM {base} AS a\nRUN {APT.format(packages=PACKAGES_A)}\n"
        f"FROM {base} AS b\nRUN {APT.format(packages=PACKAGES_B)}\n"
        f"FROM {base}\nCOPY --from=a /usr/bin/python3 /usr/local/bin/python3\n"
        "COPY --from=b /usr/bin/perl /usr/local/bin/perl\n"
    )


@dataclass
class Run:
    seconds: float
    final: float  # from "Building stage 2" to the end (0: not seen)
    before_final: float  # from the start to "Building stage 2" (0: not seen)
    rss_mb: float
    status: int
    tail: str


def _peak_rss(pid: int, peak: list[int], done: threading.Event) -> None:
    while not done.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        except OSError:
            return
        done.wait(0.05)


def build(ctx: Path, work: Path, *extra: str) -> Run:
    argv = [
        sys.executable, "-m", "kaniko.cli", "--context", str(ctx), "--no-push",
        "--kaniko-dir", str(work / "kaniko"), "--insecure-pull", "--log-format", "text",
        *extra,
    ]  # fmt: skip
    start = time.monotonic()
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    peak, done = [0], threading.Event()
    watcher = threading.Thread(target=_peak_rss, args=(proc.pid, peak, done), daemon=True)
    watcher.start()
    final_start = 0.0
    lines = []
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if "Building stage 2" in line and not final_start:
            final_start = time.monotonic()
    status = proc.wait()
    end = time.monotonic()
    done.set()
    watcher.join()
    final = end - final_start if final_start else 0.0
    before = final_start - start if final_start else 0.0
    return Run(end - start, final, before, peak[0] / 1024, status, "".join(lines[-5:]))


def verdict(rounds: list[dict[str, Run]]) -> bool:
    """Print the medians and the verdict; whether the target was missed."""

    def median(name: str, final: bool = False) -> float:
        return statistics.median(r[name].final if final else r[name].seconds for r in rounds)

    stages = statistics.median(r["default"].before_final for r in rounds)

    a, b, seq, final, default = (
        median("a"), median("b"), median("jobs 1"), median("jobs 1", True), median("default")
    )  # fmt: skip
    bound = TARGET * (max(a, b) + final)
    rss = max(r["default"].rss_mb for r in rounds)
    ok = default <= bound
    print(
        f"medians of {len(rounds)}: a {a:.1f} s, b {b:.1f} s, final stage {final:.1f} s, "
        f"one after another {seq:.1f} s, at once {default:.1f} s (peak RSS {rss:.0f} MB); "
        f"target {TARGET} x (longer stage + final) = {bound:.1f} s: "
        + ("ok" if ok else "OVER TARGET"),
        flush=True,
    )
    print(
        f"stages a and b at once (start to the final stage, default --jobs): {stages:.1f} s, "
        f"{stages / max(a, b):.2f} x the longer stage alone",
        flush=True,
    )
    return not ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="kaniko-bench-stages-") as tmp:
        work = Path(tmp)
        registry = start_registry(work / "registry")
        try:
            layer = debian_rootfs_layer().read_bytes()
            host = Platform.host()
            image = make_image(
                [layer], arch=host.architecture, variant=host.variant, config={"Env": [PATH_ENV]}
            )
            with httpx.Client(timeout=120) as client:
                push_raw(client, registry.url, "library/debian", "bookworm", image)
            ctx = work / "ctx"
            ctx.mkdir()
            (ctx / "Dockerfile").write_text(dockerfile(f"{registry.host}/library/debian:bookworm"))
            rounds: list[dict[str, Run]] = []
            for round_ in range(args.rounds):
                load = os.getloadavg()[0]
                print(f"round {round_ + 1}: load average {load:.1f} before", flush=True)
                runs = {
                    "a": build(ctx, work, "--target", "a", "--skip-unused-stages"),
                    "b": build(ctx, work, "--target", "b", "--skip-unused-stages"),
                    "jobs 1": build(ctx, work, "--jobs", "1"),
                    "default": build(ctx, work),
                }
                for name, run in runs.items():
                    extra = f", final stage {run.final:5.1f} s" if name == "jobs 1" else ""
                    if name == "default":
                        extra = f", stages a and b {run.before_final:5.1f} s"
                    print(
                        f"round {round_ + 1} {name:8s}: {run.seconds:5.1f} s, "
                        f"peak RSS {run.rss_mb:5.1f} MB{extra}",
                        flush=True,
                    )
                    if run.status:
                        print(f"  FAILED (exit {run.status}):\n{run.tail}", flush=True)
                        failed = True
                rounds.append(runs)
            failed |= verdict(rounds)
        finally:
            registry.stop()
    return int(failed)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
