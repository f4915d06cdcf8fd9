"""The one question the executor asks: "give me a local directory for this context".

:func:`prepare_context` parses ``--context``/``--bucket`` (:mod:`kaniko.context.spec`),
hands remote sources to their module, and applies ``--context-sub-path`` to every source
(the Go kaniko ignores it for a bare path). A remote source lands in a fresh directory
under ``KANIKO_DIR/buildcontext/`` (in-place builds never snapshot ``/kaniko``; where that
cannot be created, the system's temporary directory), which :meth:`PreparedContext.close`
removes; a failure removes it at once, so nothing is left behind.

The sub path is resolved inside the context as a chroot would resolve it: a symlink in an
untrusted archive cannot point the build at the host's files.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kaniko.context.local import context_dir
from kaniko.context.spec import Spec, parse_spec
from kaniko.errors import ContextError, FilesystemError, KanikoError, UsageError
from kaniko.fs.safepath import clean_relpath, full_path, resolve_rel
from kaniko.options import BuildOptions

log = logging.getLogger(__name__)


@dataclass
class PreparedContext:
    """A local context directory, and what to remove when the build is done."""

    path: str
    spec: Spec
    owned: Path | None = None  # the directory this module created

    def close(self) -> None:
        if self.owned is not None:
            shutil.rmtree(self.owned, ignore_errors=True)
            self.owned = None


def _workdir(options: BuildOptions) -> Path:
    parent = Path(options.kaniko_dir) / "buildcontext"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="context-", dir=parent))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="kaniko-context-"))


def sub_path(root: str, sub: str, source: str) -> str:
    """``root``/``sub``, resolved inside ``root`` as a chroot would (``..`` that climbs
    out is a :class:`UsageError`; a symlink is followed inside ``root``, never out of it,
    so the host around the context is never read); it must be a directory."""
    try:
        rel = clean_relpath(sub)
    except FilesystemError:
        raise UsageError(f"--context-sub-path {sub}: leaves the build context") from None
    try:
        resolved = resolve_rel(root, rel, follow_final=True)
    except FilesystemError:
        raise ContextError(f"--context-sub-path {sub!r}: a symlink loop in {source}") from None
    path = full_path(root, resolved) if resolved else root
    if not os.path.isdir(path):
        raise ContextError(f"--context-sub-path {sub!r}: no such directory in {source}")
    return path


def _fetcher(spec: Spec, options: BuildOptions, work: Path) -> Callable[[Path, int], None]:
    # Imported here: each source pulls in its own client library only when used.
    if spec.kind == "tar":
        from kaniko.context.tarball import fetch_local_tar

        return lambda dest, limit: fetch_local_tar(spec, dest, limit)
    if spec.kind == "stdin":
        from kaniko.context.tarball import fetch_stdin

        return lambda dest, limit: fetch_stdin(spec, dest, limit)
    if spec.kind == "s3":
        from kaniko.context.s3 import fetch_s3

        return lambda dest, limit: fetch_s3(spec, dest, limit)
    if spec.kind == "gcs":
        from kaniko.context.gcs import fetch_gcs

        return lambda dest, limit: fetch_gcs(spec, dest, limit)
    if spec.kind == "azure":
        from kaniko.context.azure import fetch_azure

        return lambda dest, limit: fetch_azure(spec, dest, limit)
    if spec.kind == "http":
        from kaniko.context.http import fetch_http

        return lambda dest, limit: fetch_http(spec, dest, limit)
    if spec.kind == "git":
        from kaniko.context.git import fetch_git

        git = spec.git
        assert git is not None
        scratch = work / "git"
        scratch.mkdir()
        return lambda dest, limit: fetch_git(git, dest, limit, options.git, scratch)
    raise ContextError(f"{spec.display}: unknown context kind {spec.kind}")


def prepare_context(options: BuildOptions) -> PreparedContext:
    """The local directory of ``options.context`` (fetched and unpacked if remote)."""
    spec = parse_spec(options.context, options.bucket)
    if not spec.remote:
        root = context_dir(spec.display if spec.display.startswith("dir://") else spec.location)
        path = sub_path(root, options.context_sub_path, root) if options.context_sub_path else root
        return PreparedContext(path, spec)
    work = _workdir(options)
    prepared = PreparedContext(str(work / "context"), spec, owned=work)
    try:
        dest = work / "context"
        dest.mkdir(mode=0o755)
        fetch = _fetcher(spec, options, work)
        log.info("Retrieving the build context from %s", spec.display)
        started = time.monotonic()
        fetch(dest, options.context_size_limit)
        if (work / "git").exists():
            shutil.rmtree(work / "git")
        log.info(
            "Unpacked the build context from %s (%.1fs)", spec.display, time.monotonic() - started
        )
        path = str(dest)
        if spec.git is not None and spec.git.subdir:
            path = sub_path(path, spec.git.subdir, spec.display)
        if options.context_sub_path:
            path = sub_path(path, options.context_sub_path, spec.display)
        prepared.path = path
        return prepared
    except BaseException as e:
        prepared.close()
        if isinstance(e, KanikoError | KeyboardInterrupt | SystemExit):
            raise
        if isinstance(e, OSError):
            raise ContextError(f"{spec.display}: {e.strerror or e}") from e
        raise
