"""Building a context with kaniko in-process, as the end-to-end tests do.

``KANIKO_TEST_JOBS`` sets ``--jobs`` for every build that does not set it (the
conformance suite runs with the default, and with ``KANIKO_TEST_JOBS=1`` one stage
after another).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kaniko.executor.executor import BuildResult, build
from kaniko.options import BuildOptions, OutputOptions


def kaniko_build(
    ctx: Path,
    ref: str,
    *,
    kaniko_dir: Path,
    build_args: Mapping[str, str] | None = None,
    target: str = "",
    jobs: int | None = None,
    reproducible: bool = False,
) -> BuildResult:
    """Build ``ctx/Dockerfile`` and push it to ``ref``; the workspace lives in ``kaniko_dir``.
    ``jobs``: ``--jobs`` (default: ``KANIKO_TEST_JOBS``, else kaniko's default)."""
    if jobs is None:
        jobs = int(os.environ.get("KANIKO_TEST_JOBS", "0"))
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        build_args=tuple((build_args or {}).items()),
        target=target,
        kaniko_dir=str(kaniko_dir),
        jobs=jobs,
        output=OutputOptions(destinations=(ref,), reproducible=reproducible),
    )
    return build(options)
