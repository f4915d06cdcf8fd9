"""The keychain: which credential a registry gets, in the Go kaniko's order.

For a registry host (the one actually contacted, after ``--registry-map`` and mirrors):

1. the docker config (:mod:`kaniko.registry.dockerconfig`): ``credHelpers[host]``, then
   ``credsStore``, then ``auths[host]``. The helper names the Go kaniko's image ships or
   links (``ecr-login``, ``gcr``, ``gcloud``, ``acr-env``, ``acr``, ``gitlabci``) are
   resolved in-process (:mod:`kaniko.registry.helpers`); any other runs
   ``docker-credential-<name>`` from PATH;
2. the cloud helpers, each for the hosts its cloud owns: Google, ECR, ACR, GitLab CI;
3. anonymous.

A step that yields nothing passes to the next, as go-containerregistry's multi-keychain
does. A helper named in the config that fails is an error naming the registry and the
helper; a cloud helper that finds no identity (the common case: a public ``gcr.io`` base
image off Google Cloud) lets the registry be tried anonymously, and what it tried is kept
(:meth:`Keychain.explain`) for the error if the registry then refuses.

Credentials from helpers are cached until shortly before they end
(:func:`~kaniko.registry.credential.renew_at`) and got again after, so a build that
outlives a token (ECR's 12 hours, Google's hour, ACR's three) goes on; a registry that
refuses one makes :meth:`Keychain.invalidate` drop it early. Credentials are cached per
host, so one registry's are never presented to another.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kaniko.errors import CredentialsError, NoCredentialsError, RegistryError
from kaniko.registry.credential import (
    ANONYMOUS,
    DOCKER_HUB_KEY,
    STALE_REUSE,
    Credential,
    normalize_key,
    renew_at,
)
from kaniko.registry.dockerconfig import (
    HelperRunner,
    default_config_paths,
    entry_credential,
    helper_credential,
    load_config,
    run_helper,
)
from kaniko.registry.helpers import Helper, Link, by_config_name, cloud_helpers

__all__ = [
    "ANONYMOUS",
    "Credential",
    "Keychain",
    "Link",
    "default_config_paths",
    "normalize_key",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    credential: Credential
    renew: float  # time (the keychain's clock) at which to resolve again
    renewable: bool  # a helper gave it: asking again may give another


class Keychain:
    """Resolves a :class:`Credential` for a registry host."""

    def __init__(
        self,
        config_paths: Sequence[Path] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        helper_runner: HelperRunner = run_helper,
        helpers: Sequence[Helper] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``helpers`` replaces the cloud helpers (none: ``()``); ``clock`` is for tests."""
        env = os.environ if environ is None else environ
        self._paths = list(config_paths) if config_paths is not None else default_config_paths(env)
        self._run_helper = helper_runner
        self._helpers = tuple(helpers) if helpers is not None else cloud_helpers(env)
        self._named = by_config_name(self._helpers)
        self._clock = clock
        self._config: dict[str, Any] | None = None
        self._config_path: Path | None = None
        self._cache: dict[str, _Entry] = {}
        self._notes: dict[str, list[str]] = {}
        self._warned: set[tuple[str, str]] = set()  # (host, helper): warned once per build
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    # -- public ---------------------------------------------------------------------------
    def resolve(self, registry: str, link: Link | None = None) -> Credential:
        """The credential to use for ``registry`` (a host[:port]); anonymous if none.

        ``link`` lets a helper reach the registry itself (ACR's token exchange).
        """
        host = normalize_key(registry)
        with self._host_lock(host):
            entry = self._cache.get(host)
            now = self._clock()
            if entry is not None and now < entry.renew:
                return entry.credential
            self._notes.pop(host, None)
            credential, renewable = self._resolve(host, link)
            if renewable and credential.anonymous:
                renew = now + STALE_REUSE  # a cloud helper failed: ask it again later
            elif renewable:
                renew = renew_at(now, credential.expires_at)
            else:
                renew = math.inf
            self._cache[host] = _Entry(credential, renew, renewable)
            return credential

    def invalidate(self, registry: str) -> bool:
        """Forget ``registry``'s credential if a helper gave it (the registry refused it);
        True when one was dropped, so that resolving again may give another."""
        host = normalize_key(registry)
        with self._host_lock(host):
            entry = self._cache.get(host)
            if entry is None or not entry.renewable or entry.credential.anonymous:
                return False
            del self._cache[host]
            return True

    def explain(self, registry: str) -> str:
        """Where ``registry``'s credential came from, or why there is none (for errors)."""
        host = normalize_key(registry)
        entry = self._cache.get(host)
        if entry is not None and not entry.credential.anonymous:
            return f"credentials from {entry.credential.source or 'the docker config'}"
        notes = self._notes.get(host)
        if notes:
            return "no credentials: " + "; ".join(notes)
        where = str(self._config_path) if self._config_path else "no docker config.json found"
        return f"no credentials for {host} ({where})"

    # -- the chain ------------------------------------------------------------------------
    def _host_lock(self, host: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(host, threading.Lock())

    def _note(self, host: str, text: str) -> None:
        self._notes.setdefault(host, []).append(text)

    def _load(self) -> dict[str, Any]:
        if self._config is None:
            self._config, self._config_path = load_config(self._paths)
        return self._config

    def _resolve(self, host: str, link: Link | None) -> tuple[Credential, bool]:
        config = self._load()
        for key, name in (config.get("credHelpers") or {}).items():
            if normalize_key(key) == host and isinstance(name, str):
                # as docker: the host's helper alone speaks for the docker config
                found = self._named_helper(name, host, link, strict=True)
                return (found, True) if not found.anonymous else self._cloud(host, link)
        store = config.get("credsStore")
        if isinstance(store, str) and store:
            found = self._named_helper(store, host, link, strict=False)
            if not found.anonymous:
                return found, True
        for key, entry in (config.get("auths") or {}).items():
            if normalize_key(key) == host and isinstance(entry, dict):
                found = entry_credential(entry, key, self._config_path)
                if not found.anonymous:
                    return found, False
        return self._cloud(host, link)

    def _cloud(self, host: str, link: Link | None) -> tuple[Credential, bool]:
        owners = [helper for helper in self._helpers if helper.owns(host)]
        for helper in owners:
            try:
                found = helper.get(host, link)
            except NoCredentialsError as e:
                self._note(host, f"the {helper.name} helper found none: {e}")
                log.debug("registry %s: %s helper: %s", host, helper.name, e)
                continue
            except CredentialsError as e:
                self._note(host, f"the {helper.name} helper failed: {e}")
                if (host, helper.name) not in self._warned:  # it is asked again each minute
                    self._warned.add((host, helper.name))
                    log.warning(
                        "registry %s: the %s credential helper failed: %s; trying without",
                        host,
                        helper.name,
                        e,
                    )
                continue
            log.info("registry %s: using %s", host, found.source)
            return found, True
        return ANONYMOUS, bool(owners)

    def _named_helper(self, name: str, host: str, link: Link | None, *, strict: bool) -> Credential:
        """The credential helper ``name`` of the config for ``host``: in-process when it is
        one of the cloud helpers, else the ``docker-credential-<name>`` executable."""
        helper = self._named.get(name)
        if helper is None:
            server = DOCKER_HUB_KEY if host == "index.docker.io" else host
            return helper_credential(self._run_helper(name, server), name, host)
        if not helper.owns(host):
            if strict:
                log.warning(
                    "registry %s: credHelpers names %s, which serves only %s",
                    host,
                    name,
                    helper.serves,
                )
                self._note(host, f"credential helper {name} serves only {helper.serves}")
            return ANONYMOUS
        try:
            return helper.get(host, link)
        except NoCredentialsError as e:
            # gcloud's own helper also knows `gcloud auth login` users, which ADC does not
            if shutil.which(f"docker-credential-{name}"):
                log.debug("registry %s: %s in-process: %s; running the executable", host, name, e)
                return helper_credential(self._run_helper(name, host), name, host)
            raise RegistryError(
                f"registry {host}: credential helper {name} (in-process): {e}"
            ) from None
        except CredentialsError as e:
            raise RegistryError(
                f"registry {host}: credential helper {name} (in-process): {e}"
            ) from None
