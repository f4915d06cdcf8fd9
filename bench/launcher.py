"""Builds started by a small process of their own, so their peak RSS is their own.

Linux keeps a process's peak RSS across ``exec``: a program started by a process that
once held 400 MB reports at least 400 MB in ``ru_maxrss`` (its own ``getrusage`` and the
parent's ``wait4``), because the exec'ing child shares or copies the parent's memory for
a moment. The benchmark holds a base image and generated contexts, so it starts this
launcher first, while it is still small; the launcher forks and execs each build and
answers with the build's exit status and resources.

Protocol: one JSON line per build on stdin (``{"argv": [...], "log": path}``), one JSON
line back (``{"code", "wall", "cpu", "rss_mb"}``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any


class Launcher:
    """The launcher process, seen from the benchmark."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip

    def run(self, argv: list[str], log: str) -> tuple[int, float, float, float]:
        """(exit status, wall s, CPU s of the build and its children, peak RSS MB)."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"argv": argv, "log": log}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise SystemExit("the benchmark's launcher died")
        done: dict[str, Any] = json.loads(line)
        return done["code"], done["wall"], done["cpu"], done["rss_mb"]

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait()


def _serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        with open(request["log"], "wb") as out:
            proc = subprocess.Popen(request["argv"], stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
        answer = {
            "code": os.waitstatus_to_exitcode(status),
            "wall": time.perf_counter() - started,
            "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024,
        }
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    _serve()
