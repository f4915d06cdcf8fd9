"""Every option of the executor, as frozen dataclasses with kaniko's defaults.

The CLI (:mod:`kaniko.cli`) fills these from argv and the ``KANIKO_*`` environment
variables; the library only reads them. Nothing here looks at argv or the environment.
Maps are read-only (:class:`types.MappingProxyType`) and lists are tuples, so an options
value can be shared freely between threads and stages.

The groups follow what each part of the builder needs::

    BuildOptions                what to build and from where
    ├── registry: RegistryOptions   how to talk to registries (TLS, mirrors, retries)
    ├── cache: CacheOptions         layer cache and base-image cache
    ├── output: OutputOptions       where the image goes (push, tarball, layout, digests)
    ├── snapshot: SnapshotOptions   how filesystem changes become layers
    ├── attest: AttestOptions       SBOM and provenance attestations
    ├── run: RunOptions             what RUN steps may mount (secrets, ssh, cache mounts)
    ├── git: GitOptions             clone options for a ``git://`` context
    ├── log: LogOptions             verbosity and format of the log
    └── perf: PerfOptions           snapshotter, kept extracted bases, build profile
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Literal

# Re-exported: the snapshot modes and compressions the options name are those the
# snapshotter and the layer writer define.
from kaniko.fs.diff import SNAPSHOT_MODES as SNAPSHOT_MODES
from kaniko.fs.diff import SnapshotMode as SnapshotMode
from kaniko.oci.mediatypes import Compression as Compression
from kaniko.oci.platform import Platform

DEFAULT_KANIKO_DIR = "/kaniko"
DEFAULT_CONTEXT = "/workspace/"
DEFAULT_CACHE_DIR = "/cache"
DEFAULT_CACHE_TTL = timedelta(hours=336)
DEFAULT_CONTEXT_SIZE_LIMIT = 10 * 1024**3  # bytes a remote context may unpack to

LogLevel = Literal["panic", "fatal", "error", "warning", "info", "debug", "trace"]
LogFormat = Literal["text", "color", "json"]
RootMode = Literal["auto", "chroot", "inplace"]
"""Where stage roots live (``--isolation``): a directory per stage, run through the chroot
sandbox, or the container's own ``/``; ``auto`` is in-place only inside the executor image.
Not :data:`kaniko.sandbox.spec.Isolation`, which is how far the chroot sandbox confines a
RUN."""

LOG_LEVELS: tuple[LogLevel, ...] = ("panic", "fatal", "error", "warning", "info", "debug", "trace")
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "color", "json")
COMPRESSIONS: tuple[Compression, ...] = ("gzip", "zstd")  # what --compression accepts
ROOT_MODES: tuple[RootMode, ...] = ("auto", "chroot", "inplace")


def _freeze(obj: Any, name: str) -> None:
    """Replace the mapping field ``name`` of a frozen dataclass by a read-only copy."""
    value = getattr(obj, name)
    if not isinstance(value, MappingProxyType):
        object.__setattr__(obj, name, MappingProxyType(dict(value)))


def _empty_map() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class LogOptions:
    """``--verbosity``, ``--log-format`` and ``--log-timestamp``."""

    level: LogLevel = "info"
    format: LogFormat = "color"
    timestamp: bool = False


@dataclass(frozen=True, slots=True)
class GitOptions:
    """``--git key=value`` options for a ``git://`` build context."""

    branch: str = ""
    single_branch: bool = False
    recurse_submodules: bool = False
    insecure_skip_tls: bool = False


DEFAULT_CONNECT_TIMEOUT = 30.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_REQUEST_TIMEOUT = 30 * 60.0


@dataclass(frozen=True)
class RegistryOptions:
    """How registries are reached, for pulls and pushes alike.

    ``registry_maps`` is the effective remap table: ``--registry-map`` entries, then
    ``KANIKO_REGISTRY_MAP``, then one ``index.docker.io`` entry per mirror (flag mirrors
    first, then ``KANIKO_REGISTRY_MIRROR``), each key's targets tried in order.
    ``registry_mirrors`` keeps the mirrors as given, for display. Timeouts are seconds
    (0: none): ``connect_timeout`` per connection attempt, ``read_timeout`` for each
    wait on the network (no byte for that long is a stall), ``request_timeout`` for a
    whole request, body included (a registry trickling bytes is stopped).
    """

    insecure: bool = False
    skip_tls_verify: bool = False
    insecure_pull: bool = False
    skip_tls_verify_pull: bool = False
    insecure_registries: tuple[str, ...] = ()
    skip_tls_verify_registries: tuple[str, ...] = ()
    registry_certificates: Mapping[str, str] = field(default_factory=_empty_map)
    registry_client_certs: Mapping[str, tuple[str, str]] = field(default_factory=_empty_map)
    registry_mirrors: tuple[str, ...] = ()
    registry_maps: Mapping[str, tuple[str, ...]] = field(default_factory=_empty_map)
    skip_default_registry_fallback: bool = False
    image_download_retry: int = 0
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("registry_certificates", "registry_client_certs", "registry_maps"):
            _freeze(self, name)


@dataclass(frozen=True, slots=True)
class CacheOptions:
    """``--cache`` and its companions (layer cache and base-image cache)."""

    enabled: bool = False
    repo: str = ""
    dir: str = DEFAULT_CACHE_DIR
    ttl: timedelta = DEFAULT_CACHE_TTL
    copy_layers: bool = False
    run_layers: bool = True
    compressed: bool = True
    no_push_cache: bool = False


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """Where the built image goes and how its layers are written."""

    destinations: tuple[str, ...] = ()
    no_push: bool = False
    tar_path: str = ""
    oci_layout_path: str = ""
    digest_file: str = ""
    image_name_with_digest_file: str = ""
    image_name_tag_with_digest_file: str = ""
    reproducible: bool = False
    source_date_epoch: int = 0  # with reproducible: the time of every entry and "created"
    compression: Compression | None = None  # None: kaniko's default, gzip
    compression_level: int = -1  # applied only when > 0
    push_retry: int = 0
    push_ignore_immutable_tag_errors: bool = False
    skip_push_permission_check: bool = False


@dataclass(frozen=True, slots=True)
class SnapshotOptions:
    """How filesystem changes are detected and turned into layers."""

    mode: SnapshotMode = "full"
    single_snapshot: bool = False
    use_new_run: bool = False
    ignore_var_run: bool = True
    ignore_paths: tuple[str, ...] = ()
    force_build_metadata: bool = False


@dataclass(frozen=True, slots=True)
class SecretSource:
    """One ``--secret``: the value of secret ``id`` is the file ``src`` or the environment
    variable ``env`` (neither: ``env`` if the build's environment has a variable named
    ``id``, else the file ``id``, as BuildKit's secrets provider decides)."""

    id: str
    src: str = ""
    env: str = ""


@dataclass(frozen=True, slots=True)
class SshSource:
    """One ``--ssh``: agent ``id`` forwards to the agent socket, or serves the key files,
    named in ``paths`` (none: ``$SSH_AUTH_SOCK``)."""

    id: str = "default"
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What ``RUN --mount`` may use: ``--secret``, ``--ssh`` and where cache mounts persist
    (``--cache-mount-dir``; empty: ``<kaniko dir>/cache-mounts``)."""

    secrets: tuple[SecretSource, ...] = ()
    ssh: tuple[SshSource, ...] = ()
    cache_mount_dir: str = ""


SnapshotterKind = Literal["auto", "overlay", "metadata"]
SNAPSHOTTERS: tuple[SnapshotterKind, ...] = ("auto", "overlay", "metadata")
DEFAULT_BASE_STORE_SIZE = 10 * 1024**3


@dataclass(frozen=True, slots=True)
class PerfOptions:
    """How a build saves work: snapshotter, kept extracted bases, profile output.

    ``snapshotter``: ``auto`` uses overlay snapshots where the host permits them,
    ``metadata`` forces the userspace snapshotter, ``overlay`` fails where overlay is
    refused. ``base_store_dir`` is where extracted bases are kept (empty:
    ``<kaniko dir>/extracted``); ``base_store_size`` its size limit in bytes (0: keep
    none). ``profile_file`` (``--profile``) and ``benchmark_file`` (``BENCHMARK_FILE``)
    receive the build's timings.
    """

    snapshotter: SnapshotterKind = "auto"
    base_store_dir: str = ""
    base_store_size: int = DEFAULT_BASE_STORE_SIZE
    profile_file: str = ""
    benchmark_file: str = ""


SbomFormat = Literal["spdx", "cyclonedx"]
ProvenanceMode = Literal["min", "max"]
SBOM_FORMATS: tuple[SbomFormat, ...] = ("spdx", "cyclonedx")
PROVENANCE_MODES: tuple[ProvenanceMode, ...] = ("min", "max")


@dataclass(frozen=True, slots=True)
class AttestOptions:
    """``--sbom``, ``--provenance`` and their companions.

    ``sbom`` / ``provenance`` ``None`` means off. ``builder_id`` is the provenance's
    ``runDetails.builder.id`` (``--provenance=builder-id=URI``; empty: kaniko's default).
    """

    sbom: SbomFormat | None = None
    sbom_scan_stages: bool = False
    sbom_file: str = ""
    provenance: ProvenanceMode | None = None
    builder_id: str = ""
    provenance_file: str = ""

    @property
    def enabled(self) -> bool:
        return self.sbom is not None or self.provenance is not None


@dataclass(frozen=True)
class BuildOptions:
    """Everything one executor run needs.

    ``build_args`` keeps the command line's order; a ``None`` value is a bare
    ``--build-arg NAME``, whose value the planner takes from the environment. ``platform``
    ``None`` means the host's platform. ``platforms``: every target platform when
    ``--custom-platform`` lists several (``platform`` is then the first), else empty.
    ``kaniko_dir`` is the effective directory (``--kaniko-dir``, else ``KANIKO_DIR``,
    else ``/kaniko``). ``jobs`` is how many stages may be built at once (``--jobs``; 0:
    the number of cores, at least 2).
    """

    dockerfile: str = "Dockerfile"
    context: str = DEFAULT_CONTEXT
    context_sub_path: str = ""
    context_size_limit: int = DEFAULT_CONTEXT_SIZE_LIMIT
    bucket: str = ""
    build_args: tuple[tuple[str, str | None], ...] = ()
    target: str = ""
    skip_unused_stages: bool = False
    platform: Platform | None = None
    platforms: tuple[Platform, ...] = ()  # a multi-platform build's targets (issue 15)
    labels: tuple[tuple[str, str], ...] = ()
    force: bool = False
    isolation: RootMode = "auto"
    kaniko_dir: str = DEFAULT_KANIKO_DIR
    cleanup: bool = False
    image_fs_extract_retry: int = 0
    jobs: int = 0
    git: GitOptions = field(default_factory=GitOptions)
    registry: RegistryOptions = field(default_factory=RegistryOptions)
    cache: CacheOptions = field(default_factory=CacheOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    snapshot: SnapshotOptions = field(default_factory=SnapshotOptions)
    attest: AttestOptions = field(default_factory=AttestOptions)
    run: RunOptions = field(default_factory=RunOptions)
    log: LogOptions = field(default_factory=LogOptions)
    perf: PerfOptions = field(default_factory=PerfOptions)

    @property
    def cache_mount_dir(self) -> str:
        """Where cache mounts persist between builds (see :class:`RunOptions`)."""
        return self.run.cache_mount_dir or f"{self.kaniko_dir.rstrip('/')}/cache-mounts"

    def build_arg_map(self) -> dict[str, str | None]:
        """The build args as a dict; a later ``--build-arg`` of the same name wins."""
        return dict(self.build_args)


@dataclass(frozen=True)
class WarmerOptions:
    """Everything one warmer run needs (``kaniko warmer``, the ``warmer`` script).

    ``images`` are the ``--image`` references; ``dockerfile`` a Dockerfile (path or
    http(s) URL) whose base images are warmed too, its ARGs set by ``build_args``.
    ``platform`` ``None`` means the host's.
    """

    images: tuple[str, ...] = ()
    dockerfile: str = ""
    build_args: tuple[tuple[str, str | None], ...] = ()
    cache_dir: str = DEFAULT_CACHE_DIR
    ttl: timedelta = DEFAULT_CACHE_TTL
    force: bool = False
    platform: Platform | None = None
    registry: RegistryOptions = field(default_factory=RegistryOptions)
    log: LogOptions = field(default_factory=LogOptions)
