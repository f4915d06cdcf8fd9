"""Docker ``config.json`` files and ``docker-credential-*`` executables.

Where the file is (the first one found is the one used, as docker and the Go kaniko do):
``$DOCKER_CONFIG/config.json`` (the executor image sets ``DOCKER_CONFIG=/kaniko/.docker/``),
``~/.docker/config.json``, ``/kaniko/.docker/config.json``, then ``$REGISTRY_AUTH_FILE``
and ``$XDG_RUNTIME_DIR/containers/auth.json`` (podman's).

What it holds for a registry: ``credHelpers[registry]`` names a helper, ``credsStore`` one
for every registry, and ``auths[registry]`` a credential (``auth`` = base64
``user:password``, or ``username``/``password``, ``identitytoken``, ``registrytoken``).
:mod:`kaniko.registry.keychain` decides the order and resolves the helper names it knows
in-process; the others are run here, as ``docker-credential-<name> get``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kaniko.errors import RegistryError
from kaniko.registry.credential import ANONYMOUS, Credential

log = logging.getLogger(__name__)

_HELPER_TIMEOUT = 60

HelperRunner = Callable[[str, str], str]


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


def load_config(paths: list[Path]) -> tuple[dict[str, Any], Path | None]:
    """The first config file of ``paths`` that exists, parsed, and its path."""
    for path in paths:
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
        log.debug("using registry credentials from %s", path)
        return data, path
    return {}, None


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


def helper_credential(output: str, helper: str, host: str) -> Credential:
    """A helper's JSON answer (``Username``, ``Secret``) as a credential."""
    if not output.strip():
        return ANONYMOUS
    try:
        data = json.loads(output)
    except json.JSONDecodeError as e:
        raise RegistryError(f"credential helper {helper} gave invalid JSON for {host}") from e
    username, secret = data.get("Username", ""), data.get("Secret", "")
    source = f"docker-credential-{helper}"
    if username == "<token>":
        return Credential(identity_token=secret, source=source)
    return Credential(username=username, password=secret, source=source)


def entry_credential(entry: dict[str, Any], key: str, path: Path | None) -> Credential:
    """An ``auths`` entry as a credential; ``key`` and ``path`` name it in errors."""
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
        source=f"{path or 'docker config'} (auths)",
    )
