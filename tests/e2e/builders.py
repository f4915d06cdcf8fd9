"""Building a context with kaniko in-process, as the end-to-end tests do.

``KANIKO_SNAPSHOTTER`` (``auto``, ``overlay`` or ``metadata``, as the CLI reads it) picks
the snapshotter, so the whole suite runs either way:
``KANIKO_SNAPSHOTTER=metadata pytest tests/e2e/test_conformance.py``. ``KANIKO_TEST_JOBS``
sets ``--jobs`` for every build that does not set it (the conformance suite runs with the
default, and with ``KANIKO_TEST_JOBS=1`` one stage after another).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from kaniko.executor.executor import BuildResult, build
from kaniko.options import (
    SNAPSHOTTERS,
    BuildOptions,
    OutputOptions,
    PerfOptions,
    RunOptions,
    SecretSource,
    SnapshotterKind,
)


def kaniko_build(
    ctx: Path,
    ref: str,
    *,
    kaniko_dir: Path,
    build_args: Mapping[str, str] | None = None,
    target: str = "",
    secrets: Mapping[str, Path] | None = None,
    jobs: int | None = None,
    reproducible: bool = False,
) -> BuildResult:
    """Build ``ctx/Dockerfile`` and push it to ``ref``; the workspace lives in ``kaniko_dir``
    (and the cache mounts' store, ``kaniko_dir/cache-mounts``); ``secrets``: id → file;
    ``jobs``: ``--jobs`` (default: ``KANIKO_TEST_JOBS``, else kaniko's default)."""
    run = RunOptions(secrets=tuple(SecretSource(i, str(f)) for i, f in (secrets or {}).items()))
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
        run=run,
        perf=PerfOptions(snapshotter=snapshotter()),
    )
    return build(options)


def snapshotter() -> SnapshotterKind:
    """The snapshotter ``KANIKO_SNAPSHOTTER`` asks for (default ``auto``)."""
    wanted = os.environ.get("KANIKO_SNAPSHOTTER", "") or "auto"
    assert wanted in SNAPSHOTTERS, f"KANIKO_SNAPSHOTTER={wanted!r}"
    return cast(SnapshotterKind, wanted)
