"""Image reference parsing: ``[registry/]repository[:tag][@digest]`` with Docker's defaults.

No I/O happens here; :mod:`kaniko.registry` turns a :class:`Reference` into requests.
"""

from __future__ import annotations

from kaniko.refs.grammar import InvalidReferenceError, is_loopback_registry
from kaniko.refs.reference import (
    DEFAULT_TAG,
    DOCKER_HUB,
    DOCKER_HUB_ALIAS,
    Reference,
    normalize_registry,
    parse_tagged,
)

__all__ = [
    "DEFAULT_TAG",
    "DOCKER_HUB",
    "DOCKER_HUB_ALIAS",
    "InvalidReferenceError",
    "Reference",
    "is_loopback_registry",
    "normalize_registry",
    "parse_tagged",
]
