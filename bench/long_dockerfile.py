"""Benchmark of long Dockerfiles: peak RSS and time of a build of N instructions.

Each build runs the real command line (``python -m kaniko.cli``) in its own process, from
``scratch`` to a ``--tar-path`` tarball (no registry), and reports that process's peak RSS
(``ru_maxrss`` of the child) and wall time. Dockerfiles:

- ``env``: N ``ENV`` lines, each adding a variable and replacing one (the environment and
  the history grow with N; before issue 10 this reached 3.5 GB and then crashed);
- ``mixed``: N lines cycling through ARG, ENV, LABEL, EXPOSE, USER, CMD, STOPSIGNAL, VOLUME.

Target: peak RSS under 150 MB for N = 10 000 (it is a few times the interpreter's own
footprint; what grows with N is the config itself). Run:
``.venv/bin/python bench/long_dockerfile.py [--steps N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RSS_TARGET_MB = 150
FORMS = (
    "ARG A{g}=x{g}",
    "ENV E{g}=${{A{g}}}",
    "LABEL l{g}=${{E{g}}}",
    "EXPOSE {port}",
    "USER {i}",
    'CMD ["run", "{i}"]',
    "STOPSIGNAL SIGTERM",
    "VOLUME /v{i}",
)


def dockerfile(kind: str, steps: int) -> str:
    if kind == "env":
        lines = [f"ENV V{i}=value-{i} W=${{V{i - 1}}}" for i in range(steps)]
    else:
        lines = [
            FORMS[i % len(FORMS)].format(i=i, g=i // len(FORMS), port=1000 + i % 60000)
            for i in range(steps)
        ]
    return "FROM scratch\n" + "\n".join(lines) + "\n"


def run_build(work: Path, kind: str, steps: int) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit status) of one build in a child process."""
    ctx = work / kind
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(dockerfile(kind, steps))
    argv = [
        sys.executable, "-m", "kaniko.cli", "--context", str(ctx), "--no-push",
        "--tar-path", str(work / f"{kind}.tar"), "--kaniko-dir", str(work / "kaniko"),
        "--custom-platform", "linux/amd64", "--verbosity", "error",
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(argv, check=False)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        print("  (peak RSS not above an earlier child's; run kinds one at a time)")
    return seconds, peak / 1024, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--kind", choices=("env", "mixed", "all"), default="all")
    args = parser.parse_args()
    kinds = ("env", "mixed") if args.kind == "all" else (args.kind,)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kaniko-bench-") as tmp:
        for kind in kinds:
            # each kind in a fresh child of a fresh parent, so ru_maxrss is its own
            if len(kinds) > 1:
                argv = [sys.executable, __file__, "--steps", str(args.steps), "--kind", kind]
                failed |= subprocess.run(argv, check=False).returncode
                continue
            seconds, rss, status = run_build(Path(tmp), kind, args.steps)
            verdict = "ok" if status == 0 and rss < RSS_TARGET_MB else "OVER TARGET"
            if status:
                verdict = f"FAILED (exit {status})"
            print(
                f"{kind:6s} {args.steps} instructions: {seconds:6.2f} s, "
                f"peak RSS {rss:6.1f} MB (target < {RSS_TARGET_MB} MB) {verdict}",
                flush=True,
            )
            failed |= verdict != "ok"
    return int(bool(failed))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
