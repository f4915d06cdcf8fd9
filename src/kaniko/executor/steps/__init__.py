"""Filesystem steps of the executor, one module family per instruction.

:func:`copy_step` performs COPY and ADD (:mod:`kaniko.executor.steps.copy`).
"""

from __future__ import annotations

from kaniko.executor.steps.copy import CopySource, copy_step

__all__ = ["CopySource", "copy_step"]
