"""The local build context and the Dockerfile inside or beside it.

``--context`` names a directory (plain path or ``dir://path``); other sources (``tar://``,
``git://``, ``s3://``, ``gs://``, ``https://``) are not built yet. ``--dockerfile`` is
looked up as the Go kaniko does: as given (absolute, or relative to the working
directory) if it exists, else inside the context. It is read only if it is a regular file,
and, when it lies in the context, only if it resolves inside the context.
"""

from __future__ import annotations

import os
import posixpath
import re

from kaniko.errors import ContextError, NotSupportedYet
from kaniko.iotools import is_inside, read_regular_file

_URL = re.compile(r"^https?://")
_LOCAL_PREFIX = "dir://"


def context_dir(context: str) -> str:
    """The local directory a ``--context`` names."""
    if context.startswith(_LOCAL_PREFIX):
        return context[len(_LOCAL_PREFIX) :]
    if "://" in context:
        scheme = context.split("://", 1)[0]
        raise NotSupportedYet(f"not supported yet: --context {scheme}:// (local directories only)")
    return context


def resolve_dockerfile(dockerfile: str, context: str, cwd: str | None = None) -> tuple[str, str]:
    """Find ``--dockerfile``; returns ``(absolute path, display path)``.

    As with Go's ``filepath.Join``, an absolute ``--dockerfile`` that does not exist is
    also looked for inside the context.
    """
    if _URL.match(dockerfile):
        raise NotSupportedYet("not supported yet: --dockerfile from an http(s) URL")
    base = os.getcwd() if cwd is None else cwd
    given = dockerfile if os.path.isabs(dockerfile) else os.path.join(base, dockerfile)
    if os.path.exists(given):
        return os.path.normpath(given), dockerfile
    in_context = posixpath.normpath(posixpath.join(context, dockerfile.lstrip("/")))
    absolute = in_context if os.path.isabs(in_context) else os.path.join(base, in_context)
    if os.path.exists(absolute):
        return os.path.normpath(absolute), in_context
    raise ContextError(
        f"please provide a valid path to a Dockerfile within the build context with "
        f"--dockerfile ({dockerfile!r} not found, nor in {context!r})"
    )


def read_dockerfile(path: str, context: str | None = None) -> str:
    """The Dockerfile's text; bytes that are not UTF-8 survive as surrogate escapes.

    It must be a regular file. One that lies in ``context`` must also resolve inside it
    (a context is untrusted input: its ``Dockerfile`` may be a symlink to a secret); one
    outside the context is a path the user gave, read as given.
    """
    within = context if context is not None and is_inside(path, context) else None
    data = read_regular_file(path, "Dockerfile", within=within)
    return data.decode("utf-8", errors="surrogateescape")
