"""The suite's own layout: every ``tests/**/test_*.py`` file is collected by ``make test``.

pytest skips some directory names by default (``build``, ``dist``, ``venv`` …); a test
folder named like one would silently never run in CI. This collects the suite the way
``make test`` does and compares the files it found with the files on disk.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def test_every_test_file_is_collected() -> None:
    on_disk = {
        str(path.relative_to(REPO))
        for path in TESTS.rglob("test_*.py")
        if "__pycache__" not in path.parts
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    collected = {line.split("::", 1)[0] for line in result.stdout.splitlines() if "::" in line}
    missing = sorted(on_disk - collected)
    assert not missing, f"test files pytest does not collect: {missing}"
