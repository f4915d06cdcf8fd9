"""kaniko: a daemonless container image builder, in Python.

The library's entry point is :func:`kaniko.build` (``build(options) -> BuildResult``);
the command line lives in :mod:`kaniko.cli`. The library never exits, never parses argv
and never configures logging.
"""

__version__ = "0.1.0"

from kaniko.executor import BuildResult, build

__all__ = ["BuildResult", "__version__", "build"]
