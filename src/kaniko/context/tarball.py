"""``tar://PATH`` and ``tar://stdin``: a tar archive on disk or piped into the executor.

The Go kaniko reads only gzip here; any compression an image layer may have is read
(gzip, zstd, xz, bzip2, or a plain tar). stdin must not be a terminal, as in kaniko.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO

from kaniko.context.archive import unpack
from kaniko.context.spec import Spec
from kaniko.errors import ContextError


def fetch_local_tar(spec: Spec, dest: Path, limit: int) -> None:
    """Unpack the archive file ``spec.location`` into ``dest``."""
    try:
        handle = open(spec.location, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise ContextError(f"{spec.display}: cannot open {spec.location}: {e.strerror}") from None
    with handle:
        if not os.path.isfile(spec.location):
            raise ContextError(f"{spec.display}: {spec.location} is not a regular file")
        unpack(handle, dest, limit=limit, source=spec.display)


def fetch_stdin(spec: Spec, dest: Path, limit: int, stdin: BinaryIO | None = None) -> None:
    """Unpack the archive piped to standard input into ``dest``."""
    stream = stdin if stdin is not None else sys.stdin.buffer
    if stream.isatty():
        raise ContextError("tar://stdin: no archive is piped in (standard input is a terminal)")
    unpack(stream, dest, limit=limit, source=spec.display)
