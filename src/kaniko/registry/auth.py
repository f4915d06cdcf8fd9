"""Authenticating to one registry: the ``/v2/`` ping, Basic, and Bearer tokens per scope.

:class:`Authenticator` learns the registry's challenge from ``GET /v2/`` and then hands
out an ``Authorization`` header for a set of scopes (``repository:NAME:pull,push``),
fetching a token from the challenge's realm when needed and caching it per scope set until
shortly before it expires. A 401 on a later request (a token expired early, or the
registry wants a wider scope) is reported back through :meth:`Authenticator.retry_after`,
which refreshes the token once.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Iterable

import httpx

from kaniko.errors import RegistryError
from kaniko.redact import register_secret
from kaniko.registry.challenge import Challenge, parse_challenges, pick
from kaniko.registry.errors import describe
from kaniko.registry.keychain import ANONYMOUS, Credential

log = logging.getLogger(__name__)

_EARLY = 30  # seconds before expiry at which a cached token is renewed
_DEFAULT_TTL = 60  # the token spec's default when expires_in is absent


def scope(repository: str, *actions: str) -> str:
    """A repository scope string, e.g. ``repository:library/busybox:pull,push``."""
    return f"repository:{repository}:{','.join(actions)}"


class Authenticator:
    """Holds what is needed to authorize requests to one registry."""

    def __init__(self, registry: str, base_url: str, http: httpx.Client, credential: Credential):
        self.registry = registry
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._credential = credential
        self._challenge: Challenge | None = None
        self._pinged = False
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._lock = threading.Lock()

    # -- ping -----------------------------------------------------------------------------
    def ping(self) -> None:
        """``GET /v2/``: learn how the registry wants to be authenticated (once)."""
        if self._pinged:
            return
        try:
            response = self._http.get(f"{self.base_url}/v2/")
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise RegistryError(f"registry {self.registry}: unreachable: {reason(e)}") from e
        self.learn(response)

    def learn(self, response: httpx.Response) -> None:
        """Take the answer to a ``GET /v2/`` (made here or by the transport's probe)."""
        if response.status_code == 401:
            offered = pick(parse_challenges(response.headers.get("WWW-Authenticate", "")))
            with self._lock:
                self._challenge = offered
        elif response.status_code == 404:
            raise RegistryError(
                f"registry {self.registry}: /v2/ not found: it does not speak the "
                "registry v2 API (v1-only registries are not supported)"
            )
        elif response.status_code >= 400:
            raise RegistryError(
                f"registry {self.registry}: ping /v2/ answered HTTP {response.status_code}"
            )
        self._pinged = True

    # -- headers ------------------------------------------------------------------------
    def authorization(self, scopes: Iterable[str]) -> str | None:
        """The ``Authorization`` header value for a request needing ``scopes``."""
        self.ping()
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return self._basic()
        key = tuple(sorted(set(scopes)))
        with self._lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return f"Bearer {cached[0]}"
        token, ttl = self._fetch_token(challenge, key)
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + max(ttl - _EARLY, 1))
        return f"Bearer {token}"

    def retry_after(self, response: httpx.Response, scopes: Iterable[str]) -> bool:
        """After a 401: update from its challenge and drop the cached token.

        Returns True when a retry may succeed (a new challenge or a token to renew).
        """
        offered = pick(parse_challenges(response.headers.get("WWW-Authenticate", "")))
        if offered is None:
            return False
        key = tuple(sorted(set(scopes)))
        with self._lock:
            had_token = self._tokens.pop(key, None) is not None
            changed = self._challenge is None or self._challenge.scheme != offered.scheme
            self._challenge = Challenge(offered.scheme, {**offered.params})
        return had_token or changed

    def _basic(self) -> str | None:
        cred = self._credential
        if not (cred.username or cred.password):
            return None
        raw = base64.b64encode(f"{cred.username}:{cred.password}".encode()).decode()
        register_secret(raw)
        return f"Basic {raw}"

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...]) -> tuple[str, int]:
        cred = self._credential
        if cred.registry_token:
            return cred.registry_token, 3600
        if not challenge.realm:
            raise RegistryError(f"registry {self.registry}: Bearer challenge without a realm")
        params: list[tuple[str, str]] = []
        if challenge.service:
            params.append(("service", challenge.service))
        params.extend(("scope", s) for s in scopes)
        try:
            if cred.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": cred.identity_token,
                    "client_id": "kaniko",
                    "service": challenge.service,
                    "scope": " ".join(scopes),
                }
                response = self._http.post(challenge.realm, data=form)
            else:
                auth = (cred.username, cred.password) if cred is not ANONYMOUS else None
                if auth == ("", ""):
                    auth = None
                response = self._http.get(challenge.realm, params=tuple(params), auth=auth)
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise RegistryError(
                f"registry {self.registry}: token service {challenge.realm} unreachable: "
                f"{reason(e)}"
            ) from e
        if response.status_code in (401, 403):
            who = f"user {cred.username!r}" if cred.username else "anonymous access"
            raise RegistryError(
                f"registry {self.registry}: UNAUTHORIZED: authentication failed for {who} "
                f"(token service answered HTTP {response.status_code})"
            )
        if response.status_code >= 400:
            raise RegistryError(
                f"registry {self.registry}: token service {challenge.realm} answered "
                f"HTTP {response.status_code}"
            )
        try:
            body = response.json()
        except ValueError as e:
            raise RegistryError(f"registry {self.registry}: token service sent no JSON") from e
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not token or not isinstance(token, str):
            raise RegistryError(f"registry {self.registry}: token service sent no token")
        register_secret(token)
        expires = body.get("expires_in")
        ttl = int(expires) if isinstance(expires, int | float) and expires > 0 else _DEFAULT_TTL
        log.debug("registry %s: token for %s (%ss)", self.registry, " ".join(scopes), ttl)
        return token, ttl


def reason(error: Exception) -> str:
    """One line for a failure of the HTTP stack (see :func:`~kaniko.registry.errors.describe`)."""
    return describe(error)
