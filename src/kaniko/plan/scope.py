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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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
    """The variables of one stage while it is planned."""

    env: ConfigEnv = field(default_factory=ConfigEnv)  # the image config's Env
    args: dict[str, str] = field(default_factory=dict)  # ARGs in scope, effective values
    declared: set[str] = field(default_factory=set)  # every ARG name declared

    def lookup(self) -> dict[str, str]:
        """What words are expanded with: the environment overlaid by the ARGs."""
        return {**self.env, **self.args}

    def copy(self) -> StageScope:
        return StageScope(self.env.copy(), dict(self.args), set(self.declared))

    def set_env(self, key: str, value: str) -> None:
        self.env.set(key, value)
        if key in self.args:
            self.args[key] = value  # an ENV after an ARG of that name shadows it

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
        return value

    def run_env(self, proxies: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """The environment of a RUN: env, ARGs, then proxy args not otherwise set."""
        merged = self.lookup()
        for key, value in proxies.items():
            merged.setdefault(key, value)
        return tuple(merged.items())
