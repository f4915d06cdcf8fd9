"""What a build used from outside, recorded as it happens, for the provenance.

The executor opens a :class:`Materials` collector for the build (:func:`collecting`);
code that fetches something reports it through the module functions, which record into
the build's collector, if any, and do nothing otherwise:

* base images and ``COPY --from`` images: :func:`report_image` (the executor);
* ``ADD <url>`` downloads: :func:`report_url` (:mod:`kaniko.executor.steps.fetch`);
* remote build contexts (git, https tarballs, buckets): :func:`report_context`, the hook
  for the context sources: the URL (credentials removed) and its immutable digest
  (``sha1`` of a git commit, ``sha256`` of an archive). It becomes the provenance's
  ``configSource`` and a resolved dependency, and makes the dependencies complete.

The collector lives in a :class:`contextvars.ContextVar`, so concurrent builds in one
process keep separate records.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from kaniko.oci.digest import Digest
from kaniko.oci.platform import Platform


@dataclass(frozen=True, slots=True)
class ImageMaterial:
    """A registry image the build pulled: as written, and the digest it resolved to."""

    reference: str
    digest: Digest
    platform: Platform | None


@dataclass(frozen=True, slots=True)
class UrlMaterial:
    """A URL the build downloaded (ADD), with the digest of what it got."""

    url: str
    digest: Digest


@dataclass(frozen=True, slots=True)
class ContextMaterial:
    """A remote build context: its URL and immutable digest (e.g. ``sha1`` of a commit)."""

    url: str
    digest: dict[str, str]


@dataclass
class Materials:
    """Everything reported during one build, in first-seen order, without duplicates."""

    images: list[ImageMaterial] = field(default_factory=list)
    urls: list[UrlMaterial] = field(default_factory=list)
    context: ContextMaterial | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, item: ImageMaterial | UrlMaterial) -> None:
        with self._lock:
            if isinstance(item, ImageMaterial):
                if item not in self.images:
                    self.images.append(item)
            elif item not in self.urls:
                self.urls.append(item)


_current: contextvars.ContextVar[Materials | None] = contextvars.ContextVar(
    "kaniko_materials", default=None
)


@contextmanager
def collecting(materials: Materials) -> Iterator[Materials]:
    """Record what is reported from here on (in this context) into ``materials``."""
    token = _current.set(materials)
    try:
        yield materials
    finally:
        _current.reset(token)


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed (it must never reach an attestation)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def report_image(reference: str, digest: Digest, platform: Platform | None) -> None:
    current = _current.get()
    if current is not None:
        current.add(ImageMaterial(reference, digest, platform))


def report_url(url: str, digest: Digest) -> None:
    current = _current.get()
    if current is not None:
        current.add(UrlMaterial(without_credentials(url), digest))


def report_context(url: str, digest: dict[str, str]) -> None:
    """The hook for remote build contexts (see the module docs)."""
    current = _current.get()
    if current is not None:
        current.context = ContextMaterial(without_credentials(url), dict(digest))
