"""The local build context and the Dockerfile inside or beside it.

``--context`` names a directory (plain path or ``dir://path``); other sources (``tar://``,
``git://``, ``s3://``, ``gs://``, ``https://``) are not built yet. ``--dockerfile`` is
looked up as the Go kaniko does: as given (absolute, or relative to the working
directory) if it exists, else inside the context.
"""

from __future__ import annotations

import os
import posixpath
import re

from kaniko.errors import ContextError, NotSupportedYet

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


def read_dockerfile(path: str) -> str:
    """The Dockerfile's text; bytes that are not UTF-8 survive as surrogate escapes."""
    if os.path.isdir(path):
        raise ContextError(f"{path}: is a directory, not a Dockerfile")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ContextError(f"cannot read Dockerfile {path}: {exc.strerror}") from exc
    return data.decode("utf-8", errors="surrogateescape")
