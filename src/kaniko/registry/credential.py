"""What a registry is shown, and how registry names compare.

A :class:`Credential` is what one registry gets: a user and password, an OAuth2 refresh
token (``identitytoken``; a cloud's exchanged token), or a bearer token to send as is. It
may carry when it ends (``expires_at``: the ECR token's twelve hours, a Google access
token's hour) and where it came from (``source``, for error messages); neither takes part
in equality. Every secret is registered with :mod:`kaniko.redact` as it is created.

Registry names are compared as docker does (:func:`normalize_key`: no scheme or path,
lower case, Docker Hub's aliases folded), and a cloud helper decides by host name alone
(:func:`hostname`): every port of ``gcr.io`` is Google's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kaniko.redact import register_secret

RENEW_EARLY = 300.0  # renew a credential this long before it ends (if it lives long enough)
STALE_REUSE = 60.0  # how long to reuse one whose stated end had already passed when it came
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io"}


@dataclass(frozen=True)
class Credential:
    """What to present to a registry. Secrets never appear in ``repr()``."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)  # an OAuth2 refresh token
    registry_token: str = field(default="", repr=False)  # a bearer token to send as is
    expires_at: float | None = field(default=None, compare=False)  # epoch seconds
    source: str = field(default="", compare=False)  # e.g. "the ecr-login helper"

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def __post_init__(self) -> None:
        for secret in (self.password, self.identity_token, self.registry_token):
            register_secret(secret)


ANONYMOUS = Credential()


def normalize_key(key: str) -> str:
    """The registry host a config.json ``auths`` key or a reference's registry names."""
    host = key.strip()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    host = host.split("/", 1)[0].lower()
    return "index.docker.io" if host in _DOCKER_HUB_HOSTS else host


def hostname(registry: str) -> str:
    """``registry`` (a host, ``host:port`` or ``[v6]:port``) without its port, lower case."""
    host = normalize_key(registry)
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


def same_registry(a: str, b: str) -> bool:
    """Whether two names are one registry: same host and port, ``:443`` being the default."""

    def canonical(name: str) -> str:
        host = normalize_key(name)
        return host.removesuffix(":443") if not host.startswith("[") else host

    return canonical(a) == canonical(b)


def renew_at(now: float, expires_at: float | None) -> float:
    """When a credential got at ``now`` and ending at ``expires_at`` is to be renewed.

    Five minutes before its end, or half-way for one that lives less than ten; never for
    one with no known end. One whose end has already passed (a clock off, or a server
    that states no real end) is reused for a minute: a registry refusing it makes the
    keychain renew it at once anyway.
    """
    if expires_at is None:
        return math.inf
    left = expires_at - now
    if left <= 0:
        return now + STALE_REUSE
    return now + max(left - RENEW_EARLY, left / 2)
