"""Docker's ARG and ENV scoping.

Rules (BuildKit's, which the Go kaniko does not all follow):

* Build args: ``--build-arg K=V`` gives ``V``; a bare ``--build-arg K`` takes ``K`` from
  the executor's environment and is dropped when that is unset.
* Global scope: the automatic platform args (``TARGETPLATFORM``, ``TARGETOS``,
  ``TARGETARCH``, ``TARGETVARIANT``, the ``BUILD*`` four and ``TARGETSTAGE``; a build arg
  of the same name overrides them), then the ARGs before the first FROM, each taking its
  build arg or else its default expanded with the global ARGs before it. Only FROM lines
  (image and ``--platform``) see the global scope.
* Stage scope: a stage starts with its base's environment (a base stage's whole scope,
  its ARGs included, or the base image's ``Env``), plus Docker's default ``PATH`` when
  that has none, except on Windows (BuildKit's rule). ``ARG K`` takes the build arg, else its
  own default (expanded), else the global value of ``K``; without any, ``K`` is declared
  but unset. The name ``K`` itself may use variables, expanded with what was in scope
  before the instruction (BuildKit up to dockerfile 1.7, the classic builder, buildah
  and the Go kaniko; BuildKit's dockerfile 1.8 stopped expanding it when it deferred
  the default's expansion, commit 47a52a17b; meta ARG names never expand). The build arg
  and the global value are looked up by the expanded name. ARG and ENV of one name: the
  later one wins for what follows, but only ENV goes into the image config. An ARG of
  one stage is invisible to other stages.
* One record of the environment: a :class:`~kaniko.oci.env.ConfigEnv`, the image
  config's ``Env`` as the stage builds it. Expansion and RUN see it overlaid by the
  ARGs; the executor writes it into the image as it stands after the stage's last step.
* The predefined proxy args (``HTTP_PROXY`` … ``no_proxy``, ``ALL_PROXY``) reach RUN
  without being declared, and never the image config.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import cast

from kaniko.dockerfile.commands import ArgDef
from kaniko.oci.env import ConfigEnv
from kaniko.oci.platform import Platform

PROXY_ARGS = frozenset(
    {
        *("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy"),
        *("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"),
    }
)
PLATFORM_ARGS = frozenset(
    {
        *("TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "TARGETSTAGE"),
        *("BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"),
    }
)


def resolve_build_args(
    given: Mapping[str, str | None], environ: Mapping[str, str]
) -> dict[str, str]:
    """Fill bare ``--build-arg K`` from ``environ``; drop those ``environ`` lacks."""
    resolved: dict[str, str] = {}
    for key, value in given.items():
        if value is None:
            if key not in environ:
                continue
            value = environ[key]
        resolved[key] = value
    return resolved


def platform_args(
    target: Platform, build: Platform, target_stage: str, build_args: Mapping[str, str]
) -> dict[str, str]:
    """The automatic global ARGs, overridden by build args of the same names."""
    values = {**build.build_args("BUILD"), **target.build_args("TARGET")}
    values["TARGETSTAGE"] = target_stage
    return {key: build_args.get(key, value) for key, value in values.items()}


@dataclass
class StageScope:
    """The variables of one stage while it is planned.

    Every change is also appended to ``journal`` (shared with the steps' :class:`ScopeView`
    snapshots), so a step records where the stage's variables stood in O(1) memory: a
    Dockerfile of 10 000 ENV lines would otherwise keep 10 000 copies of a growing
    environment.
    """

    env: ConfigEnv = field(default_factory=ConfigEnv)  # the image config's Env
    args: dict[str, str] = field(default_factory=dict)  # ARGs in scope, effective values
    declared: set[str] = field(default_factory=set)  # every ARG name declared
    journal: _Journal | None = None

    def lookup(self) -> Mapping[str, str]:
        """What words are expanded with: the environment overlaid by the ARGs (a live view)."""
        env = cast("MutableMapping[str, str]", self.env)  # ChainMap only reads it here
        return ChainMap(self.args, env)

    def copy(self) -> StageScope:
        return StageScope(self.env.copy(), dict(self.args), set(self.declared))

    def set_env(self, key: str, value: str) -> None:
        self.env.set(key, value)  # the config's Env (a replay applies _set to dicts)
        if key in self.args:
            self.args[key] = value  # an ENV after an ARG of that name shadows it
        self._record(_ENV, key, value)

    def declare(
        self,
        arg: ArgDef,
        build_args: Mapping[str, str],
        global_args: Mapping[str, str],
        expand: Callable[[str], str],
    ) -> str | None:
        """Declare one ``ARG``; return its value (``None``: declared but unset)."""
        self.declared.add(arg.key)
        if arg.key in build_args:
            value: str | None = build_args[arg.key]
        elif arg.value is not None:
            value = expand(arg.value)
        else:
            value = global_args.get(arg.key)
        if value is not None:
            self.args[arg.key] = value
            self._record(_ARG, arg.key, value)
        return value

    def snapshot(self) -> ScopeView:
        """The variables as they stand now, as a view that stays valid as the scope changes."""
        if self.journal is None:
            self.journal = _Journal(tuple(self.env.items()), tuple(self.args.items()))
        return ScopeView(self.journal, len(self.journal.changes))

    def _record(self, kind: str, key: str, value: str) -> None:
        if self.journal is not None:
            self.journal.changes.append((kind, key, value))

    def run_env(self, proxies: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """The environment of a RUN: env, ARGs, then proxy args not otherwise set."""
        return _run_env(self.env, self.args, proxies)


_ENV, _ARG = "env", "arg"


def _set(env: dict[str, str], args: dict[str, str], kind: str, key: str, value: str) -> None:
    """Apply one recorded change to a replay's dicts, as :meth:`StageScope.set_env` and
    :meth:`StageScope.declare` applied it to the live scope (``env`` as the mapping view
    of its :class:`~kaniko.oci.env.ConfigEnv`)."""
    if kind == _ARG:
        args[key] = value
        return
    env[key] = value
    if key in args:
        args[key] = value  # an ENV after an ARG of that name shadows it


def _run_env(
    env: Mapping[str, str], args: Mapping[str, str], proxies: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    merged = {**env, **args}
    for key, value in proxies.items():
        merged.setdefault(key, value)
    return tuple(merged.items())


@dataclass
class _Journal:
    """A stage's variables when its first step was planned, and every change since."""

    env: tuple[tuple[str, str], ...]
    args: tuple[tuple[str, str], ...]
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, key, value)


@dataclass(frozen=True, slots=True)
class ScopeView:
    """A stage's variables at one step, rebuilt on demand from the stage's journal."""

    journal: _Journal
    upto: int

    def _replay(self) -> tuple[dict[str, str], dict[str, str]]:
        env, args = dict(self.journal.env), dict(self.journal.args)
        for kind, key, value in self.journal.changes[: self.upto]:
            _set(env, args, kind, key, value)
        return env, args

    def env(self) -> tuple[tuple[str, str], ...]:
        return tuple(self._replay()[0].items())

    def args(self) -> tuple[tuple[str, str], ...]:
        return tuple(self._replay()[1].items())

    def run_env(self, proxies: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        return _run_env(*self._replay(), proxies)
