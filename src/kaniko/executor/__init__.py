"""The executor: orchestrates stages and steps (``steps/`` per instruction family).

Entry point: :func:`build` (also ``kaniko.build``), in :mod:`kaniko.executor.executor`.
"""

from kaniko.executor.executor import BuildResult, build

__all__ = ["BuildResult", "build"]
