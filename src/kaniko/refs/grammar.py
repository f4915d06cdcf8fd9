"""The image reference grammar of distribution/reference, as small validation functions.

::

    reference       := name [ ":" tag ] [ "@" digest ]
    name            := [ domain "/" ] path-component [ "/" path-component ]*
    domain          := host [ ":" port ]
    host            := domain-name | "[" IPv6address "]"
    domain-name     := domain-component [ "." domain-component ]*
    domain-component:= [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
    path-component  := [a-z0-9]+ ( separator [a-z0-9]+ )*
    separator       := "." | "_" | "__" | "-"+
    tag             := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}

The first ``/``-separated component is a registry when it contains ``.`` or ``:``, is
``localhost``, or has an uppercase letter (repository components never do); otherwise
the whole name is a Docker Hub repository. Each ``*_problem`` function returns why its
argument is invalid, or ``None``.
"""

from __future__ import annotations

import ipaddress
import re

from kaniko.errors import KanikoError

# The length limit of a repository path (registry not counted, ``library/`` counted),
# as go-containerregistry applies it; distribution's 255-character name limit in spirit.
REPOSITORY_MAX = 255

_DOMAIN_COMPONENT = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST_RE = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\]")
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
_PORT_RE = re.compile(r"[0-9]+")


class InvalidReferenceError(KanikoError):
    """An image reference that does not follow the reference grammar."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid image reference {text!r}: {reason}")


def looks_like_registry(component: str) -> bool:
    """Whether the first path component of a name denotes a registry host."""
    return (
        component == "localhost"
        or "." in component
        or ":" in component
        or component.lower() != component
    )


def split_host_port(registry: str) -> tuple[str, str]:
    """``(host, port)`` of ``host[:port]`` or ``[v6]:port``; port is "" when absent."""
    if registry.startswith("["):
        end = registry.find("]")
        if end < 0:
            return registry, ""
        rest = registry[end + 1 :]
        if rest and not rest.startswith(":"):
            return registry, ""  # junk after the bracket: the host check rejects it
        return registry[: end + 1], rest[1:]
    host, sep, port = registry.rpartition(":")
    if not sep or ":" in host:  # no port, or a bare IPv6 address
        return registry, ""
    return host, port


def registry_problem(registry: str) -> str | None:
    """Why ``registry`` (``host[:port]``) is not a valid registry, or ``None``."""
    if not registry:
        return "empty registry"
    host, port = split_host_port(registry)
    if registry.startswith("[") and "]" not in registry:
        return f"registry {registry!r} has an unclosed IPv6 bracket"
    if port or registry.endswith(":"):
        if not _PORT_RE.fullmatch(port):
            return f"registry {registry!r} has an invalid port"
        if not 0 < int(port) < 65536:
            return f"registry {registry!r} has a port outside 1-65535"
    if not _HOST_RE.fullmatch(host):
        return f"invalid registry host {host!r}"
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"invalid IPv6 address {host!r}"
    return None


def repository_problem(path: str) -> str | None:
    """Why ``path`` is not a valid repository path, or ``None``."""
    if not path:
        return "empty repository name"
    if len(path) > REPOSITORY_MAX:
        return f"repository is {len(path)} characters long (at most {REPOSITORY_MAX})"
    for component in path.split("/"):
        if not component:
            return f"repository {path!r} has an empty path component"
        if _PATH_COMPONENT_RE.fullmatch(component):
            continue
        if _PATH_COMPONENT_RE.fullmatch(component.lower()):
            return f"repository name {path!r} must be lowercase"
        return (
            f"invalid repository component {component!r} (lowercase letters, digits and "
            "single '.', '_', '__' or '-' separators between them)"
        )
    return None


def tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a valid tag, or ``None``."""
    if not tag:
        return "empty tag"
    if len(tag) > 128:
        return f"tag is {len(tag)} characters long (at most 128)"
    if not _TAG_RE.fullmatch(tag):
        return f"invalid tag {tag!r} (letters, digits, '_', '.', '-'; not starting with '.' or '-')"
    return None


def is_identifier(text: str) -> bool:
    """A bare 64-hex image ID, which Docker refuses as a repository name."""
    return bool(_IDENTIFIER_RE.fullmatch(text))


def is_loopback_registry(registry: str) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 or ``::1``, with or without a port.

    Such registries are reachable only from this machine, so plain HTTP to them is safe.
    """
    host, _ = split_host_port(registry)
    host = host.removeprefix("[").removesuffix("]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
