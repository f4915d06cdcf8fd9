"""Instructions that only change the image config: LABEL, EXPOSE, VOLUME, WORKDIR (its
config part), USER, CMD, ENTRYPOINT, SHELL, STOPSIGNAL, HEALTHCHECK, MAINTAINER, ONBUILD,
and ENV and ARG, which change nothing here: the planner evaluates the environment once
(:class:`kaniko.oci.env.ConfigEnv`), and the stage's image gets the plan's ``Env``.

Docker's rules: shell-form CMD/ENTRYPOINT are wrapped in the stage's SHELL (default
``/bin/sh -c``); an ENTRYPOINT in a stage that sets no CMD clears an inherited CMD; EXPOSE
defaults to ``/tcp`` and expands ranges; a relative WORKDIR joins the current one; an
unset HEALTHCHECK field stays unset (0). Each instruction adds a history entry with
``empty_layer`` whose ``created_by`` reads like Docker's (``/bin/sh -c #(nop) ENV …``).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from kaniko.dockerfile.commands import (
    Arg,
    Cmd,
    Command,
    Entrypoint,
    Env,
    Expose,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from kaniko.errors import DockerfileError
from kaniko.oci.config import ImageConfig
from kaniko.oci.runconfig import HealthConfig

DEFAULT_SHELL = ("/bin/sh", "-c")
METADATA = (
    Arg, Env, Label, Expose, Volume, Workdir, User, Cmd, Entrypoint, Shell, StopSignal,
    Healthcheck, Maintainer, Onbuild,
)  # fmt: skip


@dataclass
class ConfigState:
    """The config a stage is building, and what Docker's rules need to remember.

    Its ``Env`` stays the base's while the steps run: a step's environment is the plan's
    (``Step.env``, ``Step.run_env``), and so is the image's (``Stage.config_env``).
    """

    config: ImageConfig
    cmd_set: bool = False  # a CMD was written in this stage

    @property
    def shell(self) -> tuple[str, ...]:
        return self.config.config.shell or DEFAULT_SHELL

    @property
    def workdir(self) -> str:
        return self.config.config.working_dir or "/"


def one_line(text: str) -> str:
    """An instruction's source text on one line, as history shows it."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def created_by(instr: Command) -> str:
    """The history ``created_by`` of a metadata instruction."""
    return f"/bin/sh -c #(nop) {one_line(instr.original)}"


def workdir_path(current: str, path: str) -> str:
    """WORKDIR ``path`` relative to the current working directory, cleaned."""
    joined = path if path.startswith("/") else posixpath.join(current or "/", path)
    cleaned = posixpath.normpath(joined)
    return "/" if cleaned in (".", "//") else cleaned


def _ports(instr: Expose, path: str) -> list[str]:
    found: list[str] = []
    for spec in instr.ports:
        number, _, proto = spec.partition("/")
        proto = (proto or "tcp").lower()
        low, dash, high = number.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise DockerfileError(f"invalid port {spec!r}", path=path, line=instr.line)
        first, last = int(low), int(high) if dash else int(low)
        found.extend(f"{port}/{proto}" for port in range(first, last + 1))
    return found


def apply(state: ConfigState, instr: Command, *, path: str = "Dockerfile") -> None:
    """Apply one metadata instruction to ``state`` (in place)."""
    cfg = state.config
    run = cfg.config
    match instr:
        case Arg() | Env():
            return  # evaluated by the planner (see the module docs)
        case Label():
            cfg = cfg.with_labels({p.key: p.value for p in instr.pairs})
        case Expose():
            ports = dict.fromkeys((*run.exposed_ports, *_ports(instr, path)))
            cfg = cfg.with_config(exposed_ports=tuple(sorted(ports)))
        case Volume():
            volumes = dict.fromkeys((*run.volumes, *instr.volumes))
            cfg = cfg.with_config(volumes=tuple(sorted(volumes)))
        case Workdir():
            cfg = cfg.with_config(working_dir=workdir_path(state.workdir, instr.path))
        case User():
            cfg = cfg.with_config(user=instr.user)
        case Cmd():
            cmd = instr.cmd if instr.json else (*state.shell, *instr.cmd)
            cfg = cfg.with_config(cmd=tuple(cmd), args_escaped=False)
            state.cmd_set = True
        case Entrypoint():
            entrypoint = instr.cmd if instr.json else (*state.shell, *instr.cmd)
            changes: dict[str, object] = {"entrypoint": tuple(entrypoint), "args_escaped": False}
            if not state.cmd_set:
                changes["cmd"] = ()
            cfg = cfg.with_config(**changes)
        case Shell():
            cfg = cfg.with_config(shell=tuple(instr.shell))
        case StopSignal():
            cfg = cfg.with_config(stop_signal=instr.signal)
        case Healthcheck():
            cfg = cfg.with_config(healthcheck=_health(instr))
        case Maintainer():
            cfg = cfg.replace(author=instr.maintainer)
        case Onbuild():
            cfg = cfg.with_config(on_build=(*run.on_build, instr.expression))
        case _:
            raise TypeError(f"{instr.keyword} is not a metadata instruction")
    state.config = cfg


def _health(instr: Healthcheck) -> HealthConfig:
    if instr.disabled:
        return HealthConfig(test=("NONE",))
    return HealthConfig(
        test=tuple(instr.test),
        interval=instr.interval,
        timeout=instr.timeout,
        start_period=instr.start_period,
        start_interval=instr.start_interval,
        retries=instr.retries,
    )
