"""What a RUN step executes: :class:`RunSpec`, shared by the chroot and in-place sandboxes.

The caller (the RUN step) has already wrapped a shell-form command with ``SHELL`` and
worked out the environment (the stage's ENV plus the ARGs in scope). The sandbox adds what
Docker adds at run time: ``HOME`` from the user's passwd entry and a default ``PATH``, each
only where the environment lacks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kaniko.errors import BuildError
from kaniko.fs.users import User
from kaniko.oci.runconfig import DEFAULT_PATH
from kaniko.sandbox.mountspec import MountSpec

Isolation = Literal["auto", "full", "plain"]
"""How far :func:`kaniko.sandbox.chroot.run` confines the process (not
:data:`kaniko.options.RootMode`, ``--isolation``, which picks this sandbox or in-place).

``full``: a container as runc makes a default Docker one (private namespaces,
``pivot_root``, ``/proc``, ``/sys``, ``/dev``, the host's ``resolv.conf``/``hosts``); an
error where mounts are refused. ``plain``: a chroot without ``CAP_SYS_CHROOT``, with
device nodes made by ``mknod`` (removed afterwards). ``auto``: ``full`` where permitted,
else ``plain`` with one warning per process. Both: docs/security.md.
"""

ISOLATIONS: tuple[Isolation, ...] = ("auto", "full", "plain")


@dataclass(frozen=True)
class RunSpec:
    """One process to run against a root filesystem.

    ``argv`` is the exec form; ``env`` the full environment as ``(name, value)`` pairs (a
    later pair wins over an earlier one of the same name); ``user`` a ``USER`` spec resolved
    inside ``root``; ``workdir`` is created (owned by the user) when missing. ``stdin`` feeds
    the process's standard input (heredoc-fed RUNs); without it stdin is ``/dev/null``.
    ``mounts`` are the step's ``RUN --mount`` mounts (:mod:`kaniko.sandbox.mountspec`);
    ``network`` is ``RUN --network`` (``none``: a network namespace with only loopback, or
    an error where that is refused; anything else: the builder's network).
    """

    root: Path
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    user: str = ""
    workdir: str = "/"
    hostname: str | None = None
    stdin: bytes | None = None
    mounts: tuple[MountSpec, ...] = ()
    network: str = ""

    def check(self) -> None:
        """Raise :class:`BuildError` for a spec no sandbox can run."""
        if not self.argv or not self.argv[0]:
            raise BuildError("RUN: empty command")
        if any("\0" in arg for arg in self.argv):
            raise BuildError("RUN: a command argument contains a NUL byte")
        for name, value in self.env:
            if not name or "=" in name or "\0" in name or "\0" in value:
                raise BuildError(f"RUN: invalid environment variable name {name!r}")
        if not self.workdir.startswith("/"):
            raise BuildError(f"RUN: WORKDIR {self.workdir!r} is not an absolute path")
        if not self.root.is_dir():
            raise BuildError(f"RUN: root filesystem {self.root} is not a directory")


def run_environment(env: tuple[tuple[str, str], ...], user: User) -> dict[str, str]:
    """The environment the process gets: ``env`` plus ``HOME`` and ``PATH`` where absent."""
    result = dict(env)
    result.setdefault("PATH", DEFAULT_PATH)
    result.setdefault("HOME", user.home or "/")
    return result
