"""The executor: orchestrates stages and steps. Entry point: ``kaniko.build.build(options)``.

The names are loaded lazily so that importing a submodule (``kaniko.build.steps.copy``)
does not pull in the whole executor.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BuildResult", "build"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kaniko.build import executor

        return getattr(executor, name)
    raise AttributeError(name)
