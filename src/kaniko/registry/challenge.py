"""``WWW-Authenticate`` challenges (RFC 7235) as registries send them.

A registry answers ``GET /v2/`` or any request it refuses with, for example::

    Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull"
    Basic realm="Registry Realm"

Several challenges may share one header, separated by commas; parameter values may be
quoted strings with backslash escapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})(?=\s|$|,)")
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*')


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge: a scheme (lower case) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def service(self) -> str:
        return self.params.get("service", "")

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.params.get("scope", "").split())

    @property
    def error(self) -> str:
        return self.params.get("error", "")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse every challenge of a ``WWW-Authenticate`` header value."""
    challenges: list[Challenge] = []
    pos = 0
    text = header.strip()
    while pos < len(text):
        if text[pos] in ", \t":
            pos += 1
            continue
        match = _SCHEME_RE.match(text, pos)
        if not match:
            break  # malformed tail: keep what we understood
        scheme = match.group(1).lower()
        pos = match.end()
        params: dict[str, str] = {}
        while True:
            param = _PARAM_RE.match(text, pos)
            if not param:
                break
            value = param.group(2)
            value = re.sub(r"\\(.)", r"\1", value) if value is not None else param.group(3)
            params[param.group(1).lower()] = value
            pos = param.end()
            if pos < len(text) and text[pos] == ",":
                # a comma ends this parameter; the next word is a parameter or a scheme
                nxt = _PARAM_RE.match(text, pos + 1)
                if not nxt:
                    pos += 1
                    break
                pos += 1
        challenges.append(Challenge(scheme, params))
    return challenges


def pick(challenges: list[Challenge]) -> Challenge | None:
    """The challenge to answer: Bearer over Basic; None if neither is offered."""
    by_scheme = {c.scheme: c for c in challenges}
    return by_scheme.get("bearer") or by_scheme.get("basic")
