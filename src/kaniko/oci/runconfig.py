"""The ``config`` section of an image config: how a container of the image runs.

Typed fields cover what Dockerfile instructions set (ENV, CMD, ENTRYPOINT, WORKDIR, USER,
EXPOSE, VOLUME, LABEL, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD) plus ``ArgsEscaped``.
Every other key (``Hostname``, ``Tty``, ``Image``, vendor additions …) is kept verbatim
in ``extra``. Writing follows go-containerregistry's ``v1.Config`` field order, where
every field is ``omitempty``: an empty list, map or string is never written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kaniko.errors import ImageError
from kaniko.oci.canonical import Omit, go_struct, sorted_map, unknown_fields
from kaniko.oci.descriptor import optional_str, string_list, string_map
from kaniko.oci.env import DEFAULT_PATH as DEFAULT_PATH  # re-exported: the config's default
from kaniko.oci.env import ConfigEnv

_RUN_LAYOUT: tuple[tuple[str, Omit], ...] = tuple(
    (key, "nil" if key == "Healthcheck" else "empty")
    for key in [
        "AttachStderr",
        "AttachStdin",
        "AttachStdout",
        "Cmd",
        "Healthcheck",
        "Domainname",
        "Entrypoint",
        "Env",
        "Hostname",
        "Image",
        "Labels",
        "OnBuild",
        "OpenStdin",
        "StdinOnce",
        "Tty",
        "User",
        "Volumes",
        "WorkingDir",
        "ExposedPorts",
        "ArgsEscaped",
        "NetworkDisabled",
        "MacAddress",
        "StopSignal",
        "Shell",
    ]
)
_HEALTH_LAYOUT: tuple[tuple[str, Omit], ...] = tuple(
    (key, "empty")
    for key in ("Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries")
)
_TYPED_KEYS = frozenset(
    [
        "Cmd",
        "Healthcheck",
        "Entrypoint",
        "Env",
        "Labels",
        "OnBuild",
        "User",
        "Volumes",
        "WorkingDir",
        "ExposedPorts",
        "ArgsEscaped",
        "StopSignal",
        "Shell",
    ]
)
_HEALTH_KEYS = frozenset(key for key, _ in _HEALTH_LAYOUT)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """HEALTHCHECK settings; durations are integer nanoseconds, 0 meaning "inherit"."""

    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, value: Any, what: str) -> HealthConfig:
        if not isinstance(value, dict):
            raise ImageError(f"{what}: Healthcheck is not a JSON object")
        where = f"{what}.Healthcheck"
        return cls(
            test=string_list(value, "Test", where),
            interval=_int(value, "Interval", where),
            timeout=_int(value, "Timeout", where),
            start_period=_int(value, "StartPeriod", where),
            start_interval=_int(value, "StartInterval", where),
            retries=_int(value, "Retries", where),
            extra=unknown_fields(value, _HEALTH_LAYOUT, _HEALTH_KEYS),
        )

    def to_dict(self) -> dict[str, Any]:
        values = {
            **self.extra,
            "Test": list(self.test),
            "Interval": self.interval,
            "Timeout": self.timeout,
            "StartPeriod": self.start_period,
            "StartInterval": self.start_interval,
            "Retries": self.retries,
        }
        return go_struct(values, _HEALTH_LAYOUT)


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Execution defaults of an image. Empty tuples/strings mean "not set"."""

    user: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    healthcheck: HealthConfig | None = None
    shell: tuple[str, ...] = ()
    on_build: tuple[str, ...] = ()
    args_escaped: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, value: Any, what: str) -> RunConfig:
        """Read a ``config`` object (``null`` reads as an empty one)."""
        if value is None:
            return cls()
        if not isinstance(value, dict):
            raise ImageError(f"{what}: config is not a JSON object")
        where = f"{what}: config"
        health = value.get("Healthcheck")
        args_escaped = value.get("ArgsEscaped", False)
        if not isinstance(args_escaped, bool | None):
            raise ImageError(f"{where}: ArgsEscaped must be a boolean")
        return cls(
            user=optional_str(value, "User", where),
            env=string_list(value, "Env", where),
            entrypoint=string_list(value, "Entrypoint", where),
            cmd=string_list(value, "Cmd", where),
            working_dir=optional_str(value, "WorkingDir", where),
            exposed_ports=_key_set(value, "ExposedPorts", where),
            volumes=_key_set(value, "Volumes", where),
            labels=string_map(value, "Labels", where),
            stop_signal=optional_str(value, "StopSignal", where),
            healthcheck=None if health is None else HealthConfig.from_dict(health, where),
            shell=string_list(value, "Shell", where),
            on_build=string_list(value, "OnBuild", where),
            args_escaped=bool(args_escaped),
            extra=unknown_fields(value, _RUN_LAYOUT, _TYPED_KEYS),
        )

    def to_dict(self) -> dict[str, Any]:
        """The config section as an ordered dict in ggcr's ``v1.Config`` order."""
        values = {
            **self.extra,
            "Cmd": list(self.cmd),
            "Healthcheck": self.healthcheck.to_dict() if self.healthcheck else None,
            "Entrypoint": list(self.entrypoint),
            "Env": list(self.env),
            "Labels": sorted_map(self.labels),
            "OnBuild": list(self.on_build),
            "User": self.user,
            "Volumes": {path: {} for path in sorted(set(self.volumes))},
            "WorkingDir": self.working_dir,
            "ExposedPorts": {port: {} for port in sorted(set(self.exposed_ports))},
            "ArgsEscaped": self.args_escaped,
            "StopSignal": self.stop_signal,
            "Shell": list(self.shell),
        }
        return go_struct(values, _RUN_LAYOUT)

    # ---- environment -----------------------------------------------------------------

    def env_map(self) -> dict[str, str]:
        """``Env`` as a dict (a later duplicate wins; an entry without ``=`` maps to "")."""
        return dict(ConfigEnv(self.env))

    def get_env(self, name: str, default: str | None = None) -> str | None:
        """The value of one environment variable, or ``default``."""
        return self.env_map().get(name, default)

    def with_env(self, name: str, value: str) -> RunConfig:
        """A copy with ``name=value`` replacing an existing entry in place, else appended."""
        env = ConfigEnv(self.env)
        env.set(name, value)
        return replace(self, env=env.entries())

    def with_labels(self, labels: Mapping[str, str]) -> RunConfig:
        """A copy with ``labels`` added (replacing equal keys)."""
        return replace(self, labels={**self.labels, **labels})


def _int(obj: Mapping[str, Any], key: str, what: str) -> int:
    value = obj.get(key, 0)
    if value is None:
        return 0
    if type(value) is not int:
        raise ImageError(f"{what}: {key} must be an integer, got {value!r}")
    return value


def _key_set(obj: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    """The keys of a Go ``map[string]struct{}`` such as ExposedPorts or Volumes."""
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ImageError(f"{what}: {key} must be a JSON object")
    return tuple(sorted(value))
