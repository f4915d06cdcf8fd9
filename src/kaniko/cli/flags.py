"""The executor's flags: one table, from which the parser and the help are built.

Names, short forms, types and defaults are kaniko's (``cmd/executor/cmd/root.go``).
``kind`` says how a value is read:

- ``bool``: ``--x``, ``--x=true``, ``--x=false`` (Go's ``strconv.ParseBool`` spellings);
- ``str`` / ``int`` / ``duration`` / ``size``: one value, the last one given wins;
- ``multi``: repeatable, every value appended as given;
- ``kv``: repeatable ``key=value`` into a map; ``kmv``: repeatable ``a=b;c=d``;
- ``git``: repeatable ``key=value`` clone options;
- ``optional``: ``--x`` alone means ``bare``, ``--x=value`` gives a value (pflag's
  ``NoOptDefVal``); the next word is never taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from kaniko.cli import values

Kind = Literal[
    "bool",
    "str",
    "int",
    "duration",
    "size",
    "multi",
    "kv",
    "client-cert",
    "kmv",
    "git",
    "build-arg",
    "label",
    "optional",
    "secret",
    "ssh",
]

BUILD = "Build flags"
OUTPUT = "Output and push flags"
REGISTRY = "Registry flags"
CACHE = "Cache flags"
SNAPSHOT = "Snapshot flags"
ATTEST = "Attestation flags (SBOM and provenance)"
RUN = "RUN flags (secrets, ssh agents, cache mounts)"
LOGGING = "Logging flags"
DEPRECATED = "Deprecated aliases (they warn)"
GROUPS = (BUILD, OUTPUT, REGISTRY, CACHE, SNAPSHOT, RUN, ATTEST, LOGGING, DEPRECATED)


@dataclass(frozen=True, slots=True)
class Flag:
    """One executor flag."""

    name: str
    kind: Kind
    group: str
    help: str
    default: Any = None
    short: str = ""
    dest: str = ""
    hidden: bool = False
    replacement: str = ""  # set on a deprecated alias: the flag to use instead
    bare: str = ""  # kind "optional": the value of the flag given without one

    @property
    def attr(self) -> str:
        """The attribute the parsed value lands on."""
        return self.dest or self.name.replace("-", "_")

    @property
    def repeatable(self) -> bool:
        return self.kind in {
            *("multi", "kv", "client-cert", "kmv", "git", "build-arg", "label", "secret", "ssh")
        }


def _f(name: str, kind: Kind, group: str, help: str, default: Any = None, **kw: Any) -> Flag:
    if default is None and kind == "bool":
        default = False
    return Flag(name, kind, group, help, default, **kw)


# One row per flag: name, kind, group, help, default, then short/dest/hidden/replacement.
# fmt: off
FLAGS: tuple[Flag, ...] = (
    _f("dockerfile", "str", BUILD, "Path to the Dockerfile to build", "Dockerfile", short="f"),
    _f("context", "str", BUILD, "Build context: a directory or a source URL", "/workspace/",
       short="c"),
    _f("context-sub-path", "str", BUILD, "Sub path within the given context", ""),
    _f("context-size-limit", "size", BUILD, "Most bytes a remote context (archive, bucket "
       "object, git tree) may unpack to, e.g. 500MiB or 20GiB", "10GiB"),
    _f("bucket", "str", BUILD, "GCS bucket of the context tarball", "", short="b", hidden=True),
    _f("build-arg", "build-arg", BUILD, "ARG value: NAME=value, or NAME to take it from the "
       "environment; repeatable"),
    _f("target", "str", BUILD, "The stage to build", ""),
    _f("skip-unused-stages", "bool", BUILD, "Build only the stages the target needs"),
    _f("custom-platform", "str", BUILD, "Platform os/arch[/variant] to build for, or a "
       "comma-separated list of them for one multi-platform image index (default: the "
       "host's)", ""),
    _f("platform", "str", BUILD, "Alias of --custom-platform (as docker buildx spells it)", ""),
    _f("label", "label", BUILD, "Label key=value for the image; repeatable"),
    _f("force", "bool", BUILD, "Allow running outside of a container"),
    _f("isolation", "str", BUILD, "How RUN executes: chroot (a private root per step), "
       "inplace (in the container's own /, as the Go kaniko) or auto", "auto"),
    _f("kaniko-dir", "str", BUILD, "The kaniko directory (wins over KANIKO_DIR)", "/kaniko"),
    _f("cleanup", "bool", BUILD, "Clean the filesystem at the end of the build"),
    _f("image-fs-extract-retry", "int", BUILD, "Retries of the base image extraction", 0),
    _f("jobs", "int", BUILD, "Stages built at once, those that do not need each other "
       "(default 0: the number of cores, at least 2; 1: one after another)", 0),
    _f("git", "git", BUILD, "Clone option for a git context: branch=NAME, single-branch=BOOL, "
       "recurse-submodules=BOOL, insecure-skip-tls=BOOL; repeatable"),

    _f("destination", "multi", OUTPUT, "Image reference to push to; repeatable", short="d"),
    _f("no-push", "bool", OUTPUT, "Build the image without pushing it (env: KANIKO_NO_PUSH)"),
    _f("tar-path", "str", OUTPUT, "Also write the image as a docker tarball here", ""),
    _f("oci-layout-path", "str", OUTPUT, "Also write the image as an OCI layout here", ""),
    _f("digest-file", "str", OUTPUT, "Write the image digest to this file", ""),
    _f("image-name-with-digest-file", "str", OUTPUT, "Write repo@digest lines here", ""),
    _f("image-name-tag-with-digest-file", "str", OUTPUT, "Write repo:tag@digest lines here", ""),
    _f("reproducible", "bool", OUTPUT, "Strip timestamps to make the image reproducible"),
    _f("compression", "str", OUTPUT, "Layer compression: gzip or zstd (default gzip)", ""),
    _f("compression-level", "int", OUTPUT, "Compression level, used when > 0", -1),
    _f("push-retry", "int", OUTPUT, "Retries of each push", 0),
    _f("push-ignore-immutable-tag-errors", "bool", OUTPUT,
       "Treat a registry's tag-immutable push error as success"),
    _f("skip-push-permission-check", "bool", OUTPUT, "Skip the push permission check"),

    _f("insecure", "bool", REGISTRY, "Push over plain HTTP"),
    _f("skip-tls-verify", "bool", REGISTRY, "Skip TLS verification when pushing and pulling"),
    _f("insecure-pull", "bool", REGISTRY, "Pull over plain HTTP"),
    _f("skip-tls-verify-pull", "bool", REGISTRY, "Skip TLS verification when pulling"),
    _f("insecure-registry", "multi", REGISTRY, "Registry reached over plain HTTP; repeatable"),
    _f("skip-tls-verify-registry", "multi", REGISTRY,
       "Registry whose TLS certificate is not verified; repeatable"),
    _f("registry-certificate", "kv", REGISTRY,
       "CA certificate of a registry: my.registry=/path/ca.pem; repeatable"),
    _f("registry-client-cert", "client-cert", REGISTRY,
       "mTLS client certificate: my.registry=/path/cert,/path/key; repeatable"),
    _f("registry-map", "kmv", REGISTRY, "Remap pulls: orig.registry=new.registry[;a=b]; "
       "repeatable (env: KANIKO_REGISTRY_MAP)"),
    _f("registry-mirror", "multi", REGISTRY, "Mirror used instead of docker.io; repeatable "
       "(env: KANIKO_REGISTRY_MIRROR)"),
    _f("skip-default-registry-fallback", "bool", REGISTRY,
       "Fail instead of falling back to the original registry when no mirror has the image"),
    _f("image-download-retry", "int", REGISTRY, "Retries of a remote image download", 0),
    _f("registry-connect-timeout", "duration", REGISTRY,
       "Give up connecting to a registry after this long (0: never)", timedelta(seconds=30)),
    _f("registry-read-timeout", "duration", REGISTRY,
       "Give up on a registry that sends or takes no byte for this long (0: never)",
       timedelta(seconds=60)),
    _f("registry-request-timeout", "duration", REGISTRY,
       "Give up on one registry request (a blob with its body) after this long (0: never)",
       timedelta(minutes=30)),

    _f("cache", "bool", CACHE, "Use the layer cache"),
    _f("cache-repo", "str", CACHE, "Repository of cached layers ('oci:PATH': a local layout)",
       ""),
    _f("cache-dir", "str", CACHE, "Local base-image cache directory", "/cache"),
    _f("cache-ttl", "duration", CACHE, "Lifetime of cache entries (Go duration)",
       timedelta(hours=336)),
    _f("cache-copy-layers", "bool", CACHE, "Cache COPY layers"),
    _f("cache-run-layers", "bool", CACHE, "Cache RUN layers", True),
    _f("compressed-caching", "bool", CACHE, "Compress cached layers (faster, more memory)", True),
    _f("no-push-cache", "bool", CACHE, "Do not push cache layers"),

    _f("snapshot-mode", "str", SNAPSHOT, "What marks a file changed: full, redo or time", "full"),
    _f("single-snapshot", "bool", SNAPSHOT, "Take one snapshot at the end of each stage"),
    _f("use-new-run", "bool", SNAPSHOT, "Experimental RUN change detection"),
    _f("ignore-var-run", "bool", SNAPSHOT, "Leave /var/run out of snapshots", True),
    _f("ignore-path", "multi", SNAPSHOT, "Path left out of snapshots; repeatable"),
    _f("force-build-metadata", "bool", SNAPSHOT, "Add a layer for every command, even empty"),
    _f("snapshotter", "str", SNAPSHOT, "How step changes are found: auto (overlay upper "
       "directories where the host permits overlay mounts, else metadata), overlay or "
       "metadata (env: KANIKO_SNAPSHOTTER)", ""),
    _f("extracted-base-dir", "str", SNAPSHOT, "Where extracted base images are kept between "
       "builds, by layer chain (default: <kaniko-dir>/extracted; not --cache-dir's tarballs)",
       ""),
    _f("extracted-base-size", "str", SNAPSHOT, "Size limit of --extracted-base-dir; least "
       "recently used bases go first (0: keep none)", "10GiB"),

    _f("secret", "secret", RUN, "Secret for RUN --mount=type=secret: id=NAME,src=PATH or "
       "id=NAME,env=VAR (id=NAME alone: the variable NAME, else the file NAME); repeatable"),
    _f("ssh", "ssh", RUN, "SSH agent for RUN --mount=type=ssh: default (=$SSH_AUTH_SOCK), "
       "ID=/path/agent.sock or ID=/path/key[,key]; repeatable"),
    _f("cache-mount-dir", "str", RUN, "Where RUN --mount=type=cache contents persist between "
       "builds (default <kaniko-dir>/cache-mounts); mount a volume here to keep them", ""),

    _f("sbom", "optional", ATTEST, "Attach an SBOM of the image's packages: spdx (SPDX 2.3 "
       "JSON, the default) or cyclonedx (CycloneDX 1.6 JSON)", "", bare="spdx"),
    _f("sbom-scan-stages", "bool", ATTEST, "Also attach an SBOM of every intermediate stage"),
    _f("sbom-file", "str", ATTEST, "Also write the SBOM statement to this file", ""),
    _f("provenance", "optional", ATTEST, "Attach SLSA provenance v1: mode=min (the default) "
       "or mode=max (adds build args, labels and the build steps), [,builder-id=URI]", "",
       bare="mode=min"),
    _f("provenance-file", "str", ATTEST, "Also write the provenance statement to this file",
       ""),

    _f("verbosity", "str", LOGGING, "Log level: trace, debug, info, warn, error, fatal, panic",
       "info", short="v"),
    _f("log-format", "str", LOGGING, "Log format: text, color or json", "color"),
    _f("log-timestamp", "bool", LOGGING, "Full timestamps in color logs"),
    _f("profile", "str", LOGGING, "Write the build's timings (per step and phase) to this "
       "JSON file (BENCHMARK_FILE: the Go kaniko's format)", ""),

    _f("snapshotMode", "str", DEPRECATED, "Use --snapshot-mode", "",
       dest="snapshot_mode_deprecated", replacement="snapshot-mode"),
    _f("customPlatform", "str", DEPRECATED, "Use --custom-platform", "",
       dest="custom_platform_deprecated", replacement="custom-platform"),
    _f("tarPath", "str", DEPRECATED, "Use --tar-path", "",
       dest="tar_path_deprecated", replacement="tar-path"),
    _f("whitelist-var-run", "bool", DEPRECATED, "Use --ignore-var-run", True,
       dest="ignore_var_run", replacement="ignore-var-run"),
)
# fmt: on

BY_LONG: dict[str, Flag] = {f.name: f for f in FLAGS}
BY_SHORT: dict[str, Flag] = {f.short: f for f in FLAGS if f.short}

_CONVERTERS: dict[Kind, Callable[[str], Any]] = {
    "bool": values.parse_bool,
    "str": str,
    "int": values.parse_int,
    "duration": values.parse_duration,
    "size": values.parse_size,
    "multi": str,
    "kv": values.parse_key_value,
    "client-cert": values.parse_client_cert,
    "kmv": values.parse_key_multi_value,
    "git": values.parse_git,
    "build-arg": values.parse_build_arg,
    "label": values.parse_label,
    "optional": str,
    "secret": values.parse_secret,
    "ssh": values.parse_ssh,
}

_METAVARS: dict[Kind, str] = {
    "str": "string",
    "int": "int",
    "duration": "duration",
    "size": "size",
    "multi": "string",
    "kv": "key=value",
    "client-cert": "reg=cert,key",
    "kmv": "a=b[;c=d]",
    "git": "key=value",
    "build-arg": "NAME[=value]",
    "label": "key=value",
    "optional": "[=value]",
    "secret": "id=NAME,src=PATH",
    "ssh": "ID[=PATH]",
}


def converter(flag: Flag) -> Callable[[str], Any]:
    """The function turning one value of ``flag`` into its Python value."""
    return _CONVERTERS[flag.kind]


def metavar(flag: Flag) -> str:
    """How the help shows the value of ``flag`` (empty for a bool)."""
    return _METAVARS.get(flag.kind, "")
