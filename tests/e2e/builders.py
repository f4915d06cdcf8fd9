"""Building a context with kaniko in-process, as the end-to-end tests do."""

from __future__ import annotations

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
) -> BuildResult:
    """Build ``ctx/Dockerfile`` and push it to ``ref``; the workspace lives in ``kaniko_dir``."""
    options = BuildOptions(
        dockerfile=str(ctx / "Dockerfile"),
        context=str(ctx),
        build_args=tuple((build_args or {}).items()),
        target=target,
        kaniko_dir=str(kaniko_dir),
        output=OutputOptions(destinations=(ref,)),
    )
    return build(options)
