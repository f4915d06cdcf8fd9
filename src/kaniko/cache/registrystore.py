"""Layer-cache entries in a registry repository: ``<repo>:<key>``, as the Go kaniko tags them.

The repository is ``--cache-repo``, or ``<first destination's repository>/cache`` when
none is given (kaniko's ``cache.Destination``). It is reached through the build's
:class:`~kaniko.registry.transport.Transport`, so everything that applies to a registry
applies to it: the keychain (``config.json``, credential helpers, the cloud helpers; the
cache repository may be on another registry, with other credentials, than the
destination), ``--insecure``/``--insecure-registry``, ``--skip-tls-verify*``,
``--registry-certificate``/``--registry-client-cert``, timeouts and retries.

An entry is read as any image is (its manifest by tag, its config; its layer blob is
streamed and checked by the cache); a manifest the registry does not have is a miss. An
entry is written as any image is pushed: blobs the repository has are skipped, the
manifest is put under the key's tag last. Two builds writing one key both succeed (the
registry keeps one of the two equivalent manifests).
"""

from __future__ import annotations

from kaniko.errors import RegistryError, UsageError
from kaniko.images.push import push
from kaniko.images.remote import RemoteImage
from kaniko.oci.image import Image
from kaniko.oci.manifest import Manifest, parse_manifest
from kaniko.refs.grammar import InvalidReferenceError
from kaniko.refs.reference import Reference
from kaniko.registry.client import RegistryClient
from kaniko.registry.errors import RegistryStatusError
from kaniko.registry.transport import Transport


def cache_repository(cache_repo: str, destinations: tuple[str, ...]) -> Reference:
    """The repository entries go to: ``--cache-repo``, else the first destination's
    repository with ``/cache`` appended (a UsageError naming the flag if neither works)."""
    if cache_repo:
        try:
            ref = Reference.parse(cache_repo)
        except InvalidReferenceError as e:
            raise UsageError(f"--cache-repo {cache_repo!r}: {e}") from None
        if ref.digest is not None or (ref.tag is not None and _tag_given(cache_repo)):
            raise UsageError(f"--cache-repo {cache_repo!r}: name a repository, not a tag")
        return Reference(ref.registry, ref.repository)
    if not destinations:
        raise UsageError("--cache needs --cache-repo or a --destination to infer it from")
    try:
        first = Reference.parse(destinations[0])
    except InvalidReferenceError as e:
        raise UsageError(f"--destination {destinations[0]!r}: {e}") from None
    return Reference(first.registry, f"{first.repository}/cache")


def _tag_given(text: str) -> bool:
    last = text.rsplit("/", 1)[-1]
    return ":" in last


class RegistryStore:
    """Entries in ``repository`` (a :class:`Reference` without tag), over ``transport``."""

    def __init__(self, transport: Transport, repository: Reference) -> None:
        self.transport = transport
        self.repository = repository
        self._reader = RegistryClient(transport, repository.registry, repository.repository)

    @property
    def name(self) -> str:
        return f"{self.repository.registry}/{self.repository.repository}"

    def where(self, key: str) -> str:
        return f"{self.name}:{key}"

    def read(self, key: str) -> Image | None:
        try:
            raw = self._reader.get_manifest(key)
        except RegistryStatusError as e:
            if e.status == 404:
                return None
            raise
        parsed = parse_manifest(raw.data, content_type=raw.media_type, what=self.where(key))
        if not isinstance(parsed, Manifest):
            raise RegistryError(f"{self.where(key)}: not an image manifest")
        reference = Reference(self.repository.registry, self.repository.repository, key)
        return RemoteImage(reference, self._reader, raw.data, parsed)

    def write(self, key: str, entry: Image) -> None:
        reference = Reference(self.repository.registry, self.repository.repository, key)
        push(self.transport, entry, [reference])
