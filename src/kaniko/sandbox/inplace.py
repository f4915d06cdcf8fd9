"""RUN in in-place isolation: the process runs against the container's own ``/``.

In the executor image the stage's root filesystem *is* ``/`` (DESIGN.md, "Two ways to run
a RUN step"), so a RUN needs no chroot and no mounts: ``/proc``, ``/sys``, ``/dev``,
``/etc/resolv.conf`` and ``/etc/hosts`` are the container's own and are on the build's
ignore list. This runner therefore creates nothing in the root: no mount point, no device
node (the container's ``/dev`` is never touched), no host file. It keeps everything else
of the chroot runner: the fresh init and the process tree that kills daemons a RUN leaves
behind, private UTS and IPC namespaces where permitted, the default capabilities and
seccomp profile where this process may impose them, the USER's uid, gid and groups resolved from the
root's own ``/etc/passwd`` and ``/etc/group``, the WORKDIR created for that user, the
stage's environment only (nothing of kaniko's own), output line by line, and
interruption by :func:`kaniko.sandbox.chroot.cancel_all`.

``RUN --mount`` cannot mount here: each mount's content is placed at its target for the
step's life and removed afterwards, even when the step fails or is interrupted, and by
the next build when this one was killed (:mod:`kaniko.sandbox.placement`); a secret is a
file at its target only while the step runs, never in a snapshot.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from kaniko.errors import BuildError
from kaniko.fs.users import resolve_user
from kaniko.sandbox import process
from kaniko.sandbox.chroot import step_config, supervise
from kaniko.sandbox.placement import RUN_DIR_PREFIX, Placement
from kaniko.sandbox.scaffold import Scaffold
from kaniko.sandbox.spec import RunSpec, run_environment
from kaniko.sandbox.workdir import make_workdir

ROOT = Path("/")


def run_inplace(spec: RunSpec, *, on_output: Callable[[str], None]) -> int:
    """Run ``spec`` against ``/`` (``spec.root`` must be ``/``); return its exit status.

    Statuses and errors are those of :func:`kaniko.sandbox.chroot.run`: ``128 + signal``
    for a killed process, 127/126 for a command that cannot be found or executed (with
    Docker's message in the output), :class:`BuildError` for an unknown USER or an
    impossible WORKDIR.
    """
    spec.check()
    if spec.root.resolve() != ROOT:
        raise BuildError(f"RUN: in-place isolation runs against / only, not {spec.root}")
    user = resolve_user(ROOT, spec.user)
    env = run_environment(spec.env, user)
    make_workdir(ROOT, spec.workdir, user)
    config = step_config(spec, "/", user, env, "inplace")
    if not spec.mounts:
        return supervise(process.spawn(config, feed_stdin=spec.stdin is not None), spec, on_output)
    scaffold = Scaffold()
    private = Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX))
    placement = Placement(ROOT, private, scaffold, inplace=True)
    try:
        placement.place(spec.mounts)
        status = supervise(
            process.spawn(config, feed_stdin=spec.stdin is not None), spec, on_output
        )
        placement.check()
        return status
    finally:
        try:
            placement.undo()
        finally:
            scaffold.undo()
            shutil.rmtree(private, ignore_errors=True)
