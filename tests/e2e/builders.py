"""Building a context with kaniko in-process, as the end-to-end tests do."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kaniko.executor.executor import BuildResult, build
from kaniko.options import BuildOptions, OutputOptions, RunOptions, SecretSource


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
    )
    return build(options)
