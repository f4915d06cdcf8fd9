"""Credentials for registries, from docker `config.json` files and credential helpers.

Where a credential comes from, in order (the first config file found is the one used,
as docker and the Go kaniko do):

1. ``$DOCKER_CONFIG/config.json`` (the executor image sets ``DOCKER_CONFIG=/kaniko/.docker/``),
   then ``~/.docker/config.json``, then ``/kaniko/.docker/config.json``;
2. ``$REGISTRY_AUTH_FILE``, then ``$XDG_RUNTIME_DIR/containers/auth.json`` (podman's);
3. anonymous.

Within a config file: ``credHelpers[registry]`` names a ``docker-credential-<name>``
executable for that registry; else ``credsStore`` names one for every registry; else the
``auths`` entry (``auth`` = base64 ``user:password``, or ``username``/``password``,
``identitytoken``, ``registrytoken``). Every secret read is registered with
:mod:`kaniko.redact` so it can never reach a log.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaniko.errors import RegistryError
from kaniko.redact import register_secret

log = logging.getLogger(__name__)

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io"}
_HELPER_TIMEOUT = 60


@dataclass(frozen=True)
class Credential:
    """What to present to a registry. Secrets never appear in ``repr()``."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)  # an OAuth2 refresh token
    registry_token: str = field(default="", repr=False)  # a bearer token to send as is

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def __post_init__(self) -> None:
        for secret in (self.password, self.identity_token, self.registry_token):
            register_secret(secret)


ANONYMOUS = Credential()

HelperRunner = Callable[[str, str], str]


def normalize_key(key: str) -> str:
    """The registry host a config.json ``auths`` key or a reference's registry names."""
    host = key.strip()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    host = host.split("/", 1)[0].lower()
    return "index.docker.io" if host in _DOCKER_HUB_HOSTS else host


def run_helper(helper: str, registry: str) -> str:
    """Run ``docker-credential-<helper> get`` for ``registry``; return its stdout."""
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run(
            [program, "get"],
            input=registry,
            capture_output=True,
            text=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as e:
        raise RegistryError(f"credential helper {program} not found on PATH") from e
    except subprocess.TimeoutExpired as e:
        raise RegistryError(f"credential helper {program} timed out for {registry}") from e
    if done.returncode != 0:
        message = (done.stdout or done.stderr).strip()
        if "credentials not found" in message.lower():
            return ""
        raise RegistryError(f"credential helper {program} failed for {registry}: {message}")
    return done.stdout


def default_config_paths(environ: Mapping[str, str]) -> list[Path]:
    """Candidate config files, in the order they are tried."""
    paths: list[Path] = []
    if environ.get("DOCKER_CONFIG"):
        paths.append(Path(environ["DOCKER_CONFIG"]) / "config.json")
    home = environ.get("HOME") or os.path.expanduser("~")
    paths.append(Path(home) / ".docker" / "config.json")
    paths.append(Path("/kaniko/.docker/config.json"))
    if environ.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(environ["REGISTRY_AUTH_FILE"]))
    if environ.get("XDG_RUNTIME_DIR"):
        paths.append(Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    return paths


class Keychain:
    """Resolves a :class:`Credential` for a registry host."""

    def __init__(
        self,
        config_paths: Sequence[Path] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        helper_runner: HelperRunner = run_helper,
    ) -> None:
        env = os.environ if environ is None else environ
        self._paths = list(config_paths) if config_paths is not None else default_config_paths(env)
        self._run_helper = helper_runner
        self._config: dict[str, Any] | None = None
        self._config_path: Path | None = None
        self._cache: dict[str, Credential] = {}

    def _load(self) -> dict[str, Any]:
        if self._config is not None:
            return self._config
        self._config = {}
        for path in self._paths:
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            except OSError as e:
                raise RegistryError(f"cannot read docker config {path}: {e.strerror}") from e
            try:
                data = json.loads(text) if text.strip() else {}
            except json.JSONDecodeError as e:
                raise RegistryError(f"{path}:{e.lineno}: invalid JSON in docker config") from e
            if not isinstance(data, dict):
                raise RegistryError(f"{path}: docker config must be a JSON object")
            self._config, self._config_path = data, path
            log.debug("using registry credentials from %s", path)
            break
        return self._config

    def resolve(self, registry: str) -> Credential:
        """The credential to use for ``registry`` (a host[:port]); anonymous if none."""
        host = normalize_key(registry)
        if host not in self._cache:
            self._cache[host] = self._resolve(host)
        return self._cache[host]

    def _resolve(self, host: str) -> Credential:
        config = self._load()
        helpers = config.get("credHelpers") or {}
        for key, helper in helpers.items():
            if normalize_key(key) == host:
                return self._from_helper(helper, host)
        if config.get("credsStore"):
            cred = self._from_helper(config["credsStore"], host)
            if not cred.anonymous:
                return cred
        for key, entry in (config.get("auths") or {}).items():
            if normalize_key(key) == host and isinstance(entry, dict):
                return self._from_entry(entry, key)
        return ANONYMOUS

    def _from_helper(self, helper: str, host: str) -> Credential:
        server = DOCKER_HUB_KEY if host == "index.docker.io" else host
        output = self._run_helper(helper, server)
        if not output.strip():
            return ANONYMOUS
        try:
            data = json.loads(output)
        except json.JSONDecodeError as e:
            raise RegistryError(f"credential helper {helper} gave invalid JSON for {host}") from e
        username, secret = data.get("Username", ""), data.get("Secret", "")
        if username == "<token>":
            return Credential(identity_token=secret)
        return Credential(username=username, password=secret)

    def _from_entry(self, entry: dict[str, Any], key: str) -> Credential:
        username = entry.get("username", "") or ""
        password = entry.get("password", "") or ""
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(entry["auth"], validate=False).decode()
            except (binascii.Error, UnicodeDecodeError) as e:
                raise RegistryError(f"docker config: auth for {key} is not base64") from e
            username, sep, password = decoded.partition(":")
            if not sep:
                raise RegistryError(f"docker config: auth for {key} is not user:password")
        return Credential(
            username=username,
            password=password,
            identity_token=entry.get("identitytoken", "") or "",
            registry_token=entry.get("registrytoken", "") or "",
        )
