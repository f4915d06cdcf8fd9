"""Parsed image references: ``[registry/]repository[:tag][@digest]`` with Docker's defaults.

Naming follows go-containerregistry, which the Go kaniko uses: Docker Hub is the registry
``index.docker.io`` (``docker.io`` is accepted and rewritten to it), single-component Hub
names get the ``library/`` namespace, and a reference with neither tag nor digest means
``:latest``. Docker's own normalised spelling (``docker.io/library/…``) names the same
image; :meth:`Reference.familiar` gives the short form ``docker`` commands print.

A reference may carry both a tag and a digest (``busybox:1.36@sha256:…``): the digest is
what gets pulled, the tag is kept for display and for tagging what is pushed.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaniko.errors import ImageError
from kaniko.oci.digest import Digest, digest_problem
from kaniko.refs.grammar import (
    InvalidReferenceError,
    is_identifier,
    looks_like_registry,
    registry_problem,
    repository_problem,
    tag_problem,
)

DOCKER_HUB = "index.docker.io"
DOCKER_HUB_ALIAS = "docker.io"
OFFICIAL_NAMESPACE = "library"
DEFAULT_TAG = "latest"


def normalize_registry(registry: str) -> str:
    """Rewrite Docker Hub's ``docker.io`` alias to ``index.docker.io``."""
    return DOCKER_HUB if registry == DOCKER_HUB_ALIAS else registry


@dataclass(frozen=True, slots=True)
class Reference:
    """A fully qualified image reference. Build one with :meth:`parse`."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    def __post_init__(self) -> None:
        if self.tag is None and self.digest is None:
            object.__setattr__(self, "tag", DEFAULT_TAG)
        problem = (
            registry_problem(self.registry)
            or repository_problem(self.repository)
            or (tag_problem(self.tag) if self.tag is not None else None)
        )
        if problem:
            raise InvalidReferenceError(self._text(), problem)

    @classmethod
    def parse(cls, text: str, *, default_registry: str = DOCKER_HUB) -> Reference:
        """Parse ``text``; names without a registry go to ``default_registry``.

        Raises :class:`~kaniko.refs.grammar.InvalidReferenceError` naming ``text``.
        """
        if not text:
            raise InvalidReferenceError(text, "empty reference")
        if is_identifier(text):
            raise InvalidReferenceError(
                text, "a 64-character hex string is an image ID, not a repository name"
            )
        name_tag, at, digest_text = text.partition("@")
        digest = None
        if at:
            if "@" in digest_text:
                raise InvalidReferenceError(text, "more than one '@'")
            problem = digest_problem(digest_text)
            if problem:
                raise InvalidReferenceError(text, f"invalid digest {digest_text!r}: {problem}")
            digest = Digest.parse(digest_text)
        name, tag = _split_tag(name_tag)
        if tag is not None and (problem := tag_problem(tag)):
            raise InvalidReferenceError(text, problem)
        if not name:
            raise InvalidReferenceError(text, "missing repository name")
        first, slash, rest = name.partition("/")
        if slash and looks_like_registry(first):
            registry, path = first, rest
            if problem := registry_problem(registry):
                raise InvalidReferenceError(text, problem)
        else:
            registry, path = default_registry, name
            if problem := registry_problem(registry):
                raise InvalidReferenceError(text, f"default registry: {problem}")
        registry = normalize_registry(registry)
        if registry == DOCKER_HUB and "/" not in path:
            path = f"{OFFICIAL_NAMESPACE}/{path}"
        if problem := repository_problem(path):
            raise InvalidReferenceError(text, problem)
        return cls(registry, path, tag, digest)

    # ---- views -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """``registry/repository``, e.g. ``index.docker.io/library/ubuntu``."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest if there is one, else the tag."""
        return str(self.digest) if self.digest is not None else str(self.tag)

    @property
    def is_docker_hub(self) -> bool:
        """Whether the registry is Docker Hub."""
        return self.registry == DOCKER_HUB

    def __str__(self) -> str:
        return self._text()

    def familiar(self) -> str:
        """The short form Docker prints: ``ubuntu:22.04``, ``me/app@sha256:…``."""
        path = self.repository
        if self.is_docker_hub:
            remainder = path.removeprefix(f"{OFFICIAL_NAMESPACE}/")
            if remainder != path and "/" not in remainder:
                path = remainder
            base = path
        else:
            base = self.name
        return base + self._suffix()

    def scope(self, action: str = "pull") -> str:
        """The token-auth scope for ``action`` on this repository."""
        return f"repository:{self.repository}:{action}"

    # ---- derived references ----------------------------------------------------------

    def context(self, *, tag: str | None = None, digest: Digest | str | None = None) -> Reference:
        """The same repository with another tag and/or digest (neither: ``:latest``)."""
        if isinstance(digest, str):
            digest = _parse_digest(digest, f"{self.name}@{digest}")
        return Reference(self.registry, self.repository, tag, digest)

    def with_tag(self, tag: str) -> Reference:
        """This repository at ``tag`` (any digest dropped)."""
        return self.context(tag=tag)

    def with_digest(self, digest: Digest | str) -> Reference:
        """This reference pinned to ``digest``, keeping the tag for display."""
        return self.context(tag=self.tag, digest=digest)

    def _suffix(self) -> str:
        suffix = f":{self.tag}" if self.tag is not None else ""
        return suffix + (f"@{self.digest}" if self.digest is not None else "")

    def _text(self) -> str:
        return self.name + self._suffix()


def parse_tagged(text: str) -> Reference:
    """``text`` as a reference that names a tag, as an output destination must (a tarball's
    ``RepoTags``, an image name file); raises
    :class:`~kaniko.refs.grammar.InvalidReferenceError` if it has a digest."""
    ref = Reference.parse(text)
    if ref.digest is not None:
        raise InvalidReferenceError(text, "a digest is not a tag: it must be a tag, not a digest")
    return ref


def _split_tag(name_tag: str) -> tuple[str, str | None]:
    """Split ``name[:tag]``: a ':' after the last '/' starts the tag."""
    colon = name_tag.rfind(":")
    if colon > name_tag.rfind("/"):
        return name_tag[:colon], name_tag[colon + 1 :]
    return name_tag, None


def _parse_digest(text: str, where: str) -> Digest:
    try:
        return Digest.parse(text)
    except ImageError as exc:
        raise InvalidReferenceError(where, str(exc)) from None
