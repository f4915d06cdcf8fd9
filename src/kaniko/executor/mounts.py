"""``RUN --mount`` for the executor: from a step's mounts to what the sandbox mounts.

:class:`RunMounts` holds what every step of one build shares: the secrets
(:mod:`kaniko.secrets`), the ssh agents (:mod:`.sshforward`) and the cache store
(:mod:`.cachemounts`). For each RUN step, :meth:`RunMounts.step` resolves the
Dockerfile's mounts (already expanded by the planner, with each ``from`` resolved to a
stage, an image or the context in ``Step.mount_from``) into
:class:`~kaniko.sandbox.mountspec.MountSpec` values with host sources, and the
environment they add (``env=`` secrets, ``SSH_AUTH_SOCK``), for the step's life: cache
locks are held, ssh sockets listen, filtered views exist until the block ends. BuildKit's
rules (its Dockerfile reference and ``dockerfile2llb``):

* a relative target is below WORKDIR; ``/`` is no target;
* ``bind``: ``source`` (default: the root) inside ``from`` (a stage, an image, or the
  build context, whose ``.dockerignore`` applies: what it excludes is not there);
  read-only unless ``rw``, whose writes are discarded;
* ``cache``: ``id`` (default: the target), ``sharing``, starting empty (``uid``, ``gid``,
  ``mode``) or from ``source`` in ``from``; ``ro`` mounts it read-only;
* ``tmpfs``: ``size``;
* ``secret``: ``id``; a file at ``target`` (default ``/run/secrets/<id>``, owner 0:0,
  mode 0400) and/or the variable ``env``; a missing secret skips the mount, or fails the
  build before any work when ``required``;
* ``ssh``: ``id`` (default ``default``); a socket at ``target`` (default
  ``/run/buildkit/ssh_agent.<n>``, 0:0, 0600), and ``SSH_AUTH_SOCK`` naming the first
  one unless the step's environment sets it; a missing agent skips the mount, or fails
  the build when ``required``.

:func:`check_run_steps` refuses before any work what no step may do: ``--security=insecure``,
``--device``, a required secret or agent that was not given.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kaniko.dockerfile.commands import Run
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.dockerfile.mounts import Mount
from kaniko.errors import BuildError, DockerfileError, FilesystemError
from kaniko.executor.cachemounts import CacheKey, CacheStore, seed_from
from kaniko.executor.sshforward import NONE, Listener, SshAgents
from kaniko.executor.steps.copy import CopySource
from kaniko.executor.steps.dest import Dest
from kaniko.executor.steps.entry_meta import Meta, Policy
from kaniko.executor.steps.tree import Filters, copy_tree
from kaniko.fs.safepath import resolve_in_root, resolve_rel
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions
from kaniko.plan.model import BuildPlan, StageRef, Step
from kaniko.sandbox import chroot
from kaniko.sandbox.mountspec import MountSpec
from kaniko.secrets import EMPTY, SecretStore

log = logging.getLogger(__name__)

SECRET_MODE = 0o400
SSH_MODE = 0o600
SSH_TARGET = "/run/buildkit/ssh_agent.{}"


class MountSources(Protocol):
    """Where ``from`` points (:class:`~kaniko.executor.filesystem.CopySources`)."""

    def source(self, origin: StageRef | None, platform: Platform) -> CopySource: ...


@dataclass(frozen=True)
class StepMounts:
    """What one step mounts and the variables its mounts add to its environment."""

    mounts: tuple[MountSpec, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


@dataclass
class RunMounts:
    """The mounts every RUN step of one build may use (see the module docs).

    ``exclusive`` tells whether steps cannot mount (then a cache directory is moved into
    the root, and so used by one step at a time).
    """

    secrets: SecretStore = EMPTY
    agents: SshAgents = NONE
    caches: CacheStore | None = None
    exclusive: Callable[[], bool] = field(default=lambda: False)

    @contextlib.contextmanager
    def step(
        self, step: Step, instr: Run, workdir: str, sources: MountSources, platform: Platform
    ) -> Iterator[StepMounts]:
        """The mounts of RUN ``step``, ready for as long as the block runs."""
        if not instr.mounts:
            yield StepMounts()
            return
        with contextlib.ExitStack() as stack:
            private = Path(tempfile.mkdtemp(prefix="kaniko-mounts-"))
            stack.callback(shutil.rmtree, private, ignore_errors=True)
            specs: list[MountSpec] = []
            env: list[tuple[str, str]] = []
            ssh_targets: list[str] = []
            origins = step.mount_from or (None,) * len(instr.mounts)
            for number, (mount, origin) in enumerate(zip(instr.mounts, origins, strict=True)):
                where = f"RUN --mount=type={mount.type}"
                if mount.type == "ssh":
                    target = _target(mount.target, workdir, where) if mount.target else ""
                    target = target or SSH_TARGET.format(len(ssh_targets))
                    ssh_targets.append(target)
                    spec = self._ssh(mount, target, private / f"ssh-{number}.sock", stack)
                elif mount.type == "secret":
                    spec = self._secret(mount, workdir, env)
                else:
                    target = _target(mount.target, workdir, where)
                    spec = self._other(mount, target, origin, sources, platform, private, stack)
                if spec is not None:
                    specs.append(spec)
            if ssh_targets and not any(name == "SSH_AUTH_SOCK" for name, _ in step.run_env):
                env.append(("SSH_AUTH_SOCK", ssh_targets[0]))
            yield StepMounts(tuple(specs), tuple(env))

    def _other(
        self,
        mount: Mount,
        target: str,
        origin: StageRef | None,
        sources: MountSources,
        platform: Platform,
        private: Path,
        stack: contextlib.ExitStack,
    ) -> MountSpec:
        if mount.type == "tmpfs":
            return MountSpec("tmpfs", target, readonly=mount.readonly, size=mount.size)
        if mount.type == "cache":
            return self._cache(mount, target, origin, sources, platform, stack)
        source = _bind_source(mount, origin, sources, platform, private)
        discard = not mount.readonly
        return MountSpec("bind", target, source=source, readonly=mount.readonly, discard=discard)

    def _cache(
        self,
        mount: Mount,
        target: str,
        origin: StageRef | None,
        sources: MountSources,
        platform: Platform,
        stack: contextlib.ExitStack,
    ) -> MountSpec:
        if self.caches is None:
            raise BuildError("RUN --mount=type=cache: no cache directory for this build")
        seeded = bool(mount.from_)
        source = posixpath.join("/", mount.source) if seeded else ""
        key = CacheKey(
            id=posixpath.normpath(mount.id or mount.target),
            origin=mount.from_ if seeded else "",
            source=source if source != "/" else "",
            uid=None if seeded and source != "/" else mount.uid,
            gid=None if seeded and source != "/" else mount.gid,
            mode=None if seeded and source != "/" else mount.mode,
        )
        seed = None
        if seeded:
            found = _resolve_source(mount, origin, sources, platform)
            seed = seed_from(found.path)
        exclusive = self.exclusive()
        data = stack.enter_context(
            self.caches.use(key, mount.sharing or "shared", exclusive=exclusive, seed=seed)
        )
        return MountSpec("cache", target, source=data, readonly=mount.readonly)

    def _secret(self, mount: Mount, workdir: str, env: list[tuple[str, str]]) -> MountSpec | None:
        value = self.secrets.get(mount.id)
        if value is None:
            if mount.required:
                raise BuildError(_missing_secret(mount))
            log.debug("RUN --mount=type=secret,id=%s: no such secret, not mounted", mount.id)
            return None
        if mount.env:
            env.append((mount.env, os.fsdecode(value)))
        if not mount.target:
            return None
        return MountSpec(
            "secret",
            _target(mount.target, workdir, "RUN --mount=type=secret"),
            data=value,
            uid=mount.uid or 0,
            gid=mount.gid or 0,
            mode=SECRET_MODE if mount.mode is None else mount.mode,
        )

    def _ssh(
        self, mount: Mount, target: str, socket_path: Path, stack: contextlib.ExitStack
    ) -> MountSpec | None:
        agent = self.agents.get(mount.id)
        if agent is None:
            if mount.required:
                raise BuildError(_missing_agent(mount))
            log.debug("RUN --mount=type=ssh,id=%s: no such agent, not mounted", mount.id)
            return None
        uid, gid = mount.uid or 0, mount.gid or 0
        mode = SSH_MODE if mount.mode is None else mount.mode
        listener = Listener(socket_path, agent, uid, gid, mode)
        stack.callback(listener.close)
        return MountSpec("ssh", target, source=socket_path, readonly=False, uid=uid, gid=gid)


def run_mounts_for(options: BuildOptions, environ: Mapping[str, str], isolation: str) -> RunMounts:
    """The build's :class:`RunMounts`: ``--secret`` values read, ``--ssh`` agents checked
    (a :class:`~kaniko.errors.UsageError` for one that cannot be used), the cache store at
    ``--cache-mount-dir``."""
    inplace = isolation == "inplace"
    return RunMounts(
        secrets=SecretStore.load(options.run.secrets, environ),
        agents=SshAgents.load(options.run.ssh, environ),
        caches=CacheStore(Path(options.cache_mount_dir)),
        exclusive=lambda: inplace or chroot.mounts_refused(),
    )


def _target(text: str, workdir: str, where: str) -> str:
    """A mount's target as BuildKit takes it: below WORKDIR when relative; never ``/``."""
    target = posixpath.normpath(posixpath.join("/", workdir or "/", text))
    if target.startswith("//"):
        target = target[1:]
    if target == "/":
        raise BuildError(f'{where}: invalid mount target "{text}"')
    return target


@dataclass(frozen=True)
class _Found:
    path: Path  # the host path of the source
    rel: str  # relative to its root
    origin: CopySource


def _describe(origin: StageRef | None) -> str:
    if origin is None:
        return "the build context"
    return f"stage {origin}" if isinstance(origin, int) else f"image {origin}"


def _resolve_source(
    mount: Mount, origin: StageRef | None, sources: MountSources, platform: Platform
) -> _Found:
    where = f"RUN --mount=type={mount.type},from={mount.from_ or 'context'}"
    root = sources.source(origin, platform)
    try:
        rel = resolve_rel(root.root, mount.source or "/")
        path = resolve_in_root(root.root, rel)
    except FilesystemError as e:
        raise BuildError(f"{where}: source {mount.source}: {e}") from None
    hidden = root.matcher is not None and rel and root.matcher.excluded(rel)
    if hidden or not os.path.lexists(path):
        raise BuildError(f"{where}: source {mount.source or '/'} not found in {_describe(origin)}")
    return _Found(path, rel, root)


def _bind_source(
    mount: Mount, origin: StageRef | None, sources: MountSources, platform: Platform, private: Path
) -> Path:
    """The host path to bind: the source itself, or a copy without what ``.dockerignore``
    excludes below it."""
    found = _resolve_source(mount, origin, sources, platform)
    matcher = found.origin.matcher
    if matcher is None or not found.path.is_dir() or not _hides_below(found, matcher):
        return found.path
    view = private / f"view-{len(os.listdir(private))}"
    view.mkdir()
    dest = Dest(str(view), Policy(None, None))
    top = dest.directory("tree", Meta.of(str(found.path), os.lstat(found.path)), top=True)
    copy_tree(dest, str(found.path), top, Filters(ignore=matcher, ignore_base=found.rel))
    dest.finish()
    return view / "tree"


def _hides_below(found: _Found, matcher: PatternMatcher) -> bool:
    """Whether ``.dockerignore`` excludes anything below the source directory."""
    excluded = matcher.excluded
    base = str(found.path)
    for directory, dirnames, filenames in os.walk(base):
        rel_dir = os.path.relpath(directory, base)
        for name in (*dirnames, *filenames):
            rel = posixpath.normpath(posixpath.join(found.rel, rel_dir, name))
            if excluded(rel):
                return True
    return False


def _missing_secret(mount: Mount) -> str:
    return (
        f"RUN --mount=type=secret,id={mount.id},required: secret {mount.id} was not given "
        f"(--secret id={mount.id},src=PATH or --secret id={mount.id},env=VARIABLE)"
    )


def _missing_agent(mount: Mount) -> str:
    return (
        f"RUN --mount=type=ssh,id={mount.id},required: no ssh agent {mount.id} was given "
        f"(--ssh {mount.id}=/path/to/agent.sock or --ssh {mount.id}=/path/to/key)"
    )


def check_run_steps(
    plan: BuildPlan, secrets: SecretStore, agents: SshAgents, path: str = "Dockerfile"
) -> None:
    """Refuse, before any work, a RUN no build may run here (see the module docs)."""
    for stage in plan.stages:
        for step in stage.steps:
            instr = step.instruction
            if not isinstance(instr, Run):
                continue
            problem = ""
            if instr.security == "insecure":
                problem = (
                    "RUN --security=insecure is not supported: kaniko runs every step as a "
                    "default container, never with all privileges"
                )
            elif instr.devices:
                problem = (
                    f"RUN --device={instr.devices[0]} is not supported: kaniko gives RUN "
                    "steps no device of the host"
                )
            for mount in instr.mounts:
                if problem:
                    break
                if mount.type == "secret" and mount.required and mount.id not in secrets:
                    problem = _missing_secret(mount)
                elif mount.type == "ssh" and mount.required and agents.get(mount.id) is None:
                    problem = _missing_agent(mount)
            if problem:
                raise DockerfileError(problem, path=path, line=step.line)
