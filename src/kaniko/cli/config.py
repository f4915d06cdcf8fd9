"""Parsed flags plus ``KANIKO_*`` environment → :class:`~kaniko.options.BuildOptions`.

The merge and validation follow kaniko's ``PersistentPreRunE``:

1. deprecated aliases (``--snapshotMode``, ``--customPlatform``, ``--tarPath``) warn and
   override the new flag; ``--whitelist-var-run`` warns and shares ``--ignore-var-run``'s
   value (the last one given wins);
2. ``KANIKO_REGISTRY_MIRROR`` appends one mirror; ``KANIKO_NO_PUSH`` (a Go bool) replaces
   ``--no-push`` (an invalid value counts as false, with a warning); ``KANIKO_REGISTRY_MAP``
   appends after ``--registry-map``; every mirror then becomes an ``index.docker.io``
   entry of the registry map;
3. ``--custom-platform`` defaults to the host and must parse;
4. ``--kaniko-dir`` wins when not ``/kaniko``, else ``KANIKO_DIR``, else ``/kaniko``;
5. ``--destination`` or ``--no-push`` is required; ``--cache`` with ``--no-push`` needs
   ``--cache-repo``; the ``--image-name*-file`` flags need a destination;
6. with ``--reproducible``, ``SOURCE_DATE_EPOCH`` (unset or empty: 0) is parsed here, and
   only here, as BuildKit parses it (:func:`~kaniko.cli.values.parse_source_date_epoch`);
   a bad value is an error. The library gets the number in ``OutputOptions``. Go kaniko
   ignores the variable (its ``--reproducible`` is always the Unix epoch), so 0 stays the
   default.

Every failure is a :class:`~kaniko.errors.UsageError` (exit 2).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kaniko.cli import values
from kaniko.cli.flags import BY_LONG
from kaniko.cli.logging_setup import parse_format, parse_level
from kaniko.cli.parser import ParsedArgs
from kaniko.cli.perfflags import perf_options
from kaniko.context.spec import parse_spec
from kaniko.errors import UsageError
from kaniko.oci.platform import Platform, parse_platforms
from kaniko.options import (
    COMPRESSIONS,
    DEFAULT_KANIKO_DIR,
    PROVENANCE_MODES,
    ROOT_MODES,
    SBOM_FORMATS,
    SNAPSHOT_MODES,
    AttestOptions,
    BuildOptions,
    CacheOptions,
    GitOptions,
    LogOptions,
    OutputOptions,
    RegistryOptions,
    RunOptions,
    SecretSource,
    SnapshotOptions,
    SshSource,
)

log = logging.getLogger("kaniko.cli")

DEFAULT_REGISTRY = "index.docker.io"


def log_options(parsed: ParsedArgs) -> LogOptions:
    """``--verbosity``, ``--log-format`` and ``--log-timestamp``, validated."""
    v = parsed.values
    return LogOptions(
        level=parse_level(v["verbosity"]),
        format=parse_format(v["log_format"]),
        timestamp=v["log_timestamp"],
    )


def _deprecated(parsed: ParsedArgs) -> dict[str, Any]:
    """Apply the deprecated aliases, warning once for each one used."""
    v = parsed.values
    out = {
        "snapshot_mode": v["snapshot_mode"],
        "custom_platform": v["custom_platform"],
        "tar_path": v["tar_path"],
    }
    for alias in dict.fromkeys(n for n in parsed.seen if BY_LONG[n].replacement):
        flag = BY_LONG[alias]
        log.warning("Flag --%s is deprecated. Use: --%s", alias, flag.replacement)
        if flag.dest.endswith("_deprecated") and v[flag.dest]:
            out[flag.replacement.replace("-", "_")] = v[flag.dest]
    return out


def _choice(value: str, allowed: tuple[str, ...], flag: str) -> Any:
    if value not in allowed:
        raise UsageError(
            f'invalid argument "{value}" for "--{flag}" flag: want one of ' + ", ".join(allowed)
        )
    return value


def registry_options(v: dict[str, Any], environ: Mapping[str, str]) -> RegistryOptions:
    """The registry flags (the executor's and the warmer's) and ``KANIKO_REGISTRY_*``."""
    mirrors = list(v["registry_mirror"])
    if environ.get("KANIKO_REGISTRY_MIRROR"):
        mirrors.append(environ["KANIKO_REGISTRY_MIRROR"])
    pairs = [pair for group in v["registry_map"] for pair in group]
    env_map = environ.get("KANIKO_REGISTRY_MAP")
    if env_map:
        try:
            pairs.extend(values.parse_key_multi_value(env_map))
        except ValueError as exc:
            raise UsageError(f"invalid KANIKO_REGISTRY_MAP {env_map!r}: {exc}") from None
    pairs.extend((DEFAULT_REGISTRY, mirror) for mirror in mirrors)
    maps: dict[str, list[str]] = {}
    for key, target in pairs:
        maps.setdefault(key, []).append(target)
    for key, targets in maps.items():
        log.debug("registry-map remaps %s to %s.", key, ", ".join(targets))
    return RegistryOptions(
        insecure=v["insecure"],
        skip_tls_verify=v["skip_tls_verify"],
        insecure_pull=v["insecure_pull"],
        skip_tls_verify_pull=v["skip_tls_verify_pull"],
        insecure_registries=tuple(v["insecure_registry"]),
        skip_tls_verify_registries=tuple(v["skip_tls_verify_registry"]),
        registry_certificates=dict(v["registry_certificate"]),
        registry_client_certs=dict(v["registry_client_cert"]),
        registry_mirrors=tuple(mirrors),
        registry_maps={k: tuple(t) for k, t in maps.items()},
        skip_default_registry_fallback=v["skip_default_registry_fallback"],
        image_download_retry=v["image_download_retry"],
        connect_timeout=_seconds(v, "registry_connect_timeout"),
        read_timeout=_seconds(v, "registry_read_timeout"),
        request_timeout=_seconds(v, "registry_request_timeout"),
    )


def _seconds(v: Mapping[str, Any], name: str) -> float:
    value: float = v[name].total_seconds()
    if value < 0:
        raise UsageError(f"--{name.replace('_', '-')}: must not be negative")
    return value


def _git(items: list[list[tuple[str, str]]]) -> GitOptions:
    fields: dict[str, Any] = {}
    for key, value in (pair for group in items for pair in group):
        if key == "branch":
            fields["branch"] = value
        elif key in values.GIT_KEYS:
            fields[key.replace("-", "_")] = values.parse_bool(value)
        else:
            log.warning(
                "--git: unknown key %r ignored (known: %s)", key, ", ".join(values.GIT_KEYS)
            )
    return GitOptions(**fields)


def _no_push(flag: bool, environ: Mapping[str, str]) -> bool:
    if "KANIKO_NO_PUSH" not in environ:
        return flag
    text = environ["KANIKO_NO_PUSH"]
    try:
        return values.parse_bool(text)
    except ValueError:
        log.warning(
            "invalid value %r for KANIKO_NO_PUSH (want true or false): taken as false", text
        )
        return False


def _source_date_epoch(environ: Mapping[str, str]) -> int:
    """``SOURCE_DATE_EPOCH`` for ``--reproducible`` (unset or empty: 0, the Unix epoch)."""
    text = environ.get("SOURCE_DATE_EPOCH", "")
    if not text:
        return 0
    try:
        return values.parse_source_date_epoch(text)
    except ValueError as e:
        raise UsageError(f"SOURCE_DATE_EPOCH={text!r}: {e}") from e


_FALSE = ("", "false", "0")
_TRUE = ("true", "1")


def _sbom(text: str) -> Any:
    value = text.strip().lower()
    if value in _FALSE:
        return None
    if value in _TRUE:
        return "spdx"
    value = value.removeprefix("format=")
    return _choice(value, SBOM_FORMATS, "sbom")


def _provenance(text: str) -> tuple[Any, str]:
    """``--provenance`` value → (mode or None, builder id)."""
    value = text.strip()
    if value.lower() in _FALSE:
        return None, ""
    if value.lower() in _TRUE:
        return "min", ""
    if value in PROVENANCE_MODES:
        return value, ""
    mode, builder_id = "min", ""
    for item in value.split(","):
        key, sep, val = item.partition("=")
        key = key.strip()
        if key == "mode" and sep:
            mode = _choice(val.strip(), PROVENANCE_MODES, "provenance")
        elif key == "builder-id" and sep and val.strip():
            builder_id = val.strip()
        else:
            raise UsageError(
                f'invalid argument "{text}" for "--provenance" flag: want mode=min|max '
                "and optionally builder-id=URI, comma-separated"
            )
    return mode, builder_id


def attest_options(v: dict[str, Any]) -> AttestOptions:
    """``--sbom``, ``--provenance`` and their companions, validated."""
    sbom = _sbom(v["sbom"])
    mode, builder_id = _provenance(v["provenance"])
    if v["sbom_file"] and sbom is None:
        raise UsageError("--sbom-file needs --sbom")
    if v["sbom_scan_stages"] and sbom is None:
        raise UsageError("--sbom-scan-stages needs --sbom")
    if v["provenance_file"] and mode is None:
        raise UsageError("--provenance-file needs --provenance")
    return AttestOptions(
        sbom=sbom,
        sbom_scan_stages=v["sbom_scan_stages"],
        sbom_file=v["sbom_file"],
        provenance=mode,
        builder_id=builder_id,
        provenance_file=v["provenance_file"],
    )


def _jobs(value: int) -> int:
    if value < 0:
        raise UsageError(f"--jobs: want a number of stages (0: one per core), not {value}")
    return value


def run_options(v: dict[str, Any]) -> RunOptions:
    """``--secret``, ``--ssh`` and ``--cache-mount-dir``; a later ``--secret``/``--ssh`` of
    the same id wins, as in BuildKit's clients."""
    secrets = {s[0]: SecretSource(*s) for s in v["secret"]}
    agents = {a[0]: SshSource(*a) for a in v["ssh"]}
    return RunOptions(
        secrets=tuple(secrets.values()),
        ssh=tuple(agents.values()),
        cache_mount_dir=v["cache_mount_dir"],
    )


def target_platforms(custom: str, alias: str) -> tuple[Platform, ...]:
    """``--custom-platform`` (or its alias ``--platform``): one platform or a list of them;
    the host's when neither is given. Both, naming different platforms, is an error."""
    found: dict[str, tuple[Platform, ...]] = {}
    for flag, text in (("custom-platform", custom), ("platform", alias)):
        if text:
            try:
                found[flag] = parse_platforms(text)
            except UsageError as exc:
                raise UsageError(f"--{flag}: {exc}") from None
    if len(set(found.values())) > 1:
        raise UsageError(f"--platform {alias} contradicts --custom-platform {custom}")
    return next(iter(found.values()), (Platform.host(),))


def build_options(parsed: ParsedArgs, environ: Mapping[str, str]) -> BuildOptions:
    """The validated options for one run; raises :class:`UsageError`."""
    v = parsed.values
    renamed = _deprecated(parsed)
    platforms = target_platforms(renamed["custom_platform"], v["platform"])
    platform = platforms[0]
    kaniko_dir = v["kaniko_dir"]
    if kaniko_dir == DEFAULT_KANIKO_DIR:
        kaniko_dir = environ.get("KANIKO_DIR") or DEFAULT_KANIKO_DIR
    compression = v["compression"] or None
    if compression is not None:
        _choice(compression, COMPRESSIONS, "compression")
    output = OutputOptions(
        destinations=tuple(v["destination"]),
        no_push=_no_push(v["no_push"], environ),
        tar_path=renamed["tar_path"],
        oci_layout_path=v["oci_layout_path"],
        digest_file=v["digest_file"],
        image_name_with_digest_file=v["image_name_with_digest_file"],
        image_name_tag_with_digest_file=v["image_name_tag_with_digest_file"],
        reproducible=v["reproducible"],
        source_date_epoch=_source_date_epoch(environ) if v["reproducible"] else 0,
        compression=compression,
        compression_level=v["compression_level"],
        push_retry=v["push_retry"],
        push_ignore_immutable_tag_errors=v["push_ignore_immutable_tag_errors"],
        skip_push_permission_check=v["skip_push_permission_check"],
    )
    opts = BuildOptions(
        dockerfile=v["dockerfile"],
        context=v["context"],
        context_sub_path=v["context_sub_path"],
        context_size_limit=v["context_size_limit"],
        bucket=v["bucket"],
        build_args=tuple(v["build_arg"]),
        target=v["target"],
        skip_unused_stages=v["skip_unused_stages"],
        platform=platform,
        platforms=platforms if len(platforms) > 1 else (),
        labels=tuple(v["label"]),
        force=v["force"],
        isolation=_choice(v["isolation"], ROOT_MODES, "isolation"),
        kaniko_dir=kaniko_dir,
        cleanup=v["cleanup"],
        image_fs_extract_retry=v["image_fs_extract_retry"],
        jobs=_jobs(v["jobs"]),
        git=_git(v["git"]),
        registry=registry_options(v, environ),
        cache=CacheOptions(
            enabled=v["cache"],
            repo=v["cache_repo"],
            dir=v["cache_dir"],
            ttl=v["cache_ttl"],
            copy_layers=v["cache_copy_layers"],
            run_layers=v["cache_run_layers"],
            compressed=v["compressed_caching"],
            no_push_cache=v["no_push_cache"],
        ),
        output=output,
        snapshot=SnapshotOptions(
            mode=_choice(renamed["snapshot_mode"], SNAPSHOT_MODES, "snapshot-mode"),
            single_snapshot=v["single_snapshot"],
            use_new_run=v["use_new_run"],
            ignore_var_run=v["ignore_var_run"],
            ignore_paths=tuple(v["ignore_path"]),
            force_build_metadata=v["force_build_metadata"],
        ),
        attest=attest_options(v),
        run=run_options(v),
        log=log_options(parsed),
        perf=perf_options(v, environ),
    )
    validate(opts)
    return opts


def validate(opts: BuildOptions) -> None:
    """kaniko's cross-flag checks; raises :class:`UsageError`."""
    out = opts.output
    if not out.no_push and not out.destinations:
        raise UsageError("you must provide --destination, or use --no-push")
    if opts.cache.enabled and out.no_push and not opts.cache.repo:
        raise UsageError(
            "cache flags invalid: if using cache with --no-push, specify cache repo with "
            "--cache-repo"
        )
    if not opts.context and not opts.bucket:
        raise UsageError(
            "please specify a path to the build context with the --context flag or a bucket "
            "with the --bucket flag"
        )
    parse_spec(opts.context, opts.bucket)  # an unknown prefix is a usage error; hides secrets
    for flag, path in (
        ("--image-name-with-digest-file", out.image_name_with_digest_file),
        ("--image-name-tag-with-digest-file", out.image_name_tag_with_digest_file),
    ):
        if path and not out.destinations:
            raise UsageError(f"you must provide --destination if setting {flag}")
