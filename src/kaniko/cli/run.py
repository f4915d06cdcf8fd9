"""One executor run from the command line: build with the options.

The build logs the plan at debug level (``-v debug``) and each step at info level, as the
Go kaniko does; errors propagate to :mod:`kaniko.cli.main` as one-line exceptions.
"""

from __future__ import annotations

from kaniko.options import BuildOptions
from kaniko.progress import SILENT, Reporter


def execute(opts: BuildOptions, progress: Reporter = SILENT) -> int:
    """Build what ``opts`` describes; the exit status."""
    from kaniko.executor.executor import build

    build(opts, progress=progress)
    return 0
