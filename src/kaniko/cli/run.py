"""One executor run: find the Dockerfile, parse it, plan the build, print the plan.

Until the executor lands this is the whole run: with ``--no-push`` it ends after the
plan (exit 0); with destinations it stops with a clear "not built yet" error.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import sys

from kaniko.errors import ContextError, NotSupportedYet
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions

log = logging.getLogger("kaniko.cli.run")

_URL = re.compile(r"^https?://")
_LOCAL_PREFIX = "dir://"


def context_dir(context: str) -> str:
    """The local directory a ``--context`` names (a path or ``dir://path``).

    Other sources (``tar://``, ``git://``, ``s3://``, ``gs://``, ``https://``) are not
    built yet.
    """
    if context.startswith(_LOCAL_PREFIX):
        return context[len(_LOCAL_PREFIX) :]
    if "://" in context:
        scheme = context.split("://", 1)[0]
        raise NotSupportedYet(f"not supported yet: --context {scheme}:// (local directories only)")
    return context


def resolve_dockerfile(dockerfile: str, context: str, cwd: str | None = None) -> tuple[str, str]:
    """kaniko's lookup of ``--dockerfile``: as given (absolute or relative to the working
    directory) if it exists, else inside the context directory.

    Returns ``(absolute path, display path)``. As with Go's ``filepath.Join``, an absolute
    ``--dockerfile`` that does not exist is also looked for inside the context.
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
        raise ContextError(f"cannot read Dockerfile {path}: {exc.strerror}") from None
    return data.decode("utf-8", errors="surrogateescape")


def execute(opts: BuildOptions) -> int:
    """Plan the build that ``opts`` describes and print the plan; the exit status."""
    context = context_dir(opts.context)
    path, display = resolve_dockerfile(opts.dockerfile, context)
    log.debug("Using Dockerfile %s (context %s)", path, context)
    text = read_dockerfile(path)

    from kaniko.dockerfile.parser import parse
    from kaniko.plan import format_plan, make_plan

    dockerfile = parse(text, path=display)
    plan = make_plan(
        dockerfile,
        build_args=opts.build_arg_map(),
        target=opts.target or None,
        skip_unused_stages=opts.skip_unused_stages,
        platform=opts.platform or Platform.host(),
        environ=os.environ,
    )
    for warning in plan.warnings:
        log.warning("%s", warning)
    sys.stdout.write(format_plan(plan).rstrip("\n") + "\n")
    sys.stdout.flush()
    if opts.output.no_push:
        log.info("Skipping push to container registry due to --no-push flag")
        return 0
    raise NotSupportedYet(
        "not built yet: pushing images (--destination) lands with the registry client; "
        "use --no-push to stop after planning"
    )
