"""External tools of the test lab: find them, or skip/fail with a reason.

A test that needs a Debian tool skips when it is missing and we are not root (nobody
could have installed it); as root, `make test` installs it first, so a missing tool is a
failure, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable

import pytest


def require_tool(name: str) -> str:
    """Return the path of ``name`` on PATH, or skip (not root) / fail (root)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (scripts/install-system-deps.sh installs it as root)"
    if os.geteuid() == 0:
        pytest.fail(message)
    pytest.skip(message)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(
    host: str, port: int, timeout: float, alive: Callable[[], bool] | None = None
) -> None:
    """Wait until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"process serving {host}:{port} exited early")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")
