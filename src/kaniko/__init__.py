"""kaniko: a daemonless container image builder, in Python.

The library's entry point is :func:`kaniko.build` (``build(options) -> BuildResult``);
the command line lives in :mod:`kaniko.cli`. The library never exits, never parses argv
and never configures logging.
"""

__version__ = "0.1.0"

import sys

# httpx imports its command-line tool (click, rich, pygments) unless that fails: a fifth of
# a second of every start-up, for a tool never run here. Its absence only disables
# ``httpx.main``.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from kaniko.executor import BuildResult, build  # noqa: E402

__all__ = ["BuildResult", "__version__", "build"]
