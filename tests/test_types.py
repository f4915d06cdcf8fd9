"""The library type-checks under mypy --strict (``[tool.mypy]`` in pyproject.toml).

``make lint`` runs the same check; this test makes CI, which runs ``make test``, fail on a
type error too. mypy comes with the ``dev`` extra that ``make install`` installs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_src_passes_mypy_strict() -> None:
    if importlib.util.find_spec("mypy") is None:
        if os.environ.get("CI"):
            pytest.fail("mypy is not installed: `make install` installs the dev extra")
        pytest.skip("mypy is not installed")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
