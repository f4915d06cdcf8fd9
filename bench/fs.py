"""The filesystem-core benchmark (issue 4): snapshots, then layer writing and extraction.

Runs ``bench/fs_snapshot.py`` (100 000 files in 5 000 directories: inventory walk,
``take()`` after changing 10 files, peak RSS) and ``bench/fs_layers.py`` (a 500 MB tree:
layer write MB/s, gzip extraction MB/s, peak RSS of each, ISA-L against zlib), each in its
own process. Each script takes its own options when run directly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    for script in ("fs_snapshot.py", "fs_layers.py"):
        print(f"== {script}", flush=True)
        done = subprocess.run([sys.executable, str(HERE / script)], check=False)
        if done.returncode != 0:
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
