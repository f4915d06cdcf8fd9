"""Building a context with kaniko in-process, as the end-to-end tests do.

``KANIKO_SNAPSHOTTER`` (``auto``, ``overlay`` or ``metadata``, as the CLI reads it) picks
the snapshotter, so the whole suite runs either way:
``KANIKO_SNAPSHOTTER=metadata pytest tests/e2e/test_conformance.py``.
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
) -> BuildResult:
    """Build ``ctx/Dockerfile`` and push it to ``ref``; the workspace lives in ``kaniko_dir``
    (and the cache mounts' store, ``kaniko_dir/cache-mounts``); ``secrets``: id → file."""
    run = RunOptions(secrets=tuple(SecretSource(i, str(f)) for i, f in (secrets or {}).items()))
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        build_args=tuple((build_args or {}).items()),
        target=target,
        kaniko_dir=str(kaniko_dir),
        output=OutputOptions(destinations=(ref,)),
        run=run,
        perf=PerfOptions(snapshotter=snapshotter()),
    )
    return build(options)


def snapshotter() -> SnapshotterKind:
    """The snapshotter ``KANIKO_SNAPSHOTTER`` asks for (default ``auto``)."""
    wanted = os.environ.get("KANIKO_SNAPSHOTTER", "") or "auto"
    assert wanted in SNAPSHOTTERS, f"KANIKO_SNAPSHOTTER={wanted!r}"
    return cast(SnapshotterKind, wanted)
