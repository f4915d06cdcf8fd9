"""The one table of flags whose feature is not built yet.

A flag listed here is parsed and validated like any other, but a run that sets it to
anything but kaniko's default stops with ``not supported yet: --flag`` instead of
silently doing something else. Each later piece of work removes the rows it builds.
Values that come from ``KANIKO_*`` variables count too (``KANIKO_REGISTRY_MIRROR``
shows as ``--registry-mirror``, ``KANIKO_DIR`` as ``--kaniko-dir``).
"""

from __future__ import annotations

from collections.abc import Callable

from kaniko.errors import NotSupportedYet
from kaniko.options import BuildOptions

Getter = Callable[[BuildOptions], object]


def _explicit_maps(opts: BuildOptions) -> dict[str, tuple[str, ...]]:
    """The registry map without the ``index.docker.io`` entries that mirrors added."""
    maps = dict(opts.registry.registry_maps)
    mirrors = len(opts.registry.registry_mirrors)
    if mirrors:
        rest = maps.pop("index.docker.io", ())[:-mirrors]
        if rest:
            maps["index.docker.io"] = rest
    return maps


NOT_YET: dict[str, Getter] = {
    # build context and environment
    "--context-sub-path": lambda o: o.context_sub_path,
    "--bucket": lambda o: o.bucket,
    "--git": lambda o: o.git,
    "--kaniko-dir": lambda o: o.kaniko_dir,
    "--cleanup": lambda o: o.cleanup,
    "--image-fs-extract-retry": lambda o: o.image_fs_extract_retry,
    # outputs and pushing
    "--tar-path": lambda o: o.output.tar_path,
    "--oci-layout-path": lambda o: o.output.oci_layout_path,
    "--digest-file": lambda o: o.output.digest_file,
    "--image-name-with-digest-file": lambda o: o.output.image_name_with_digest_file,
    "--image-name-tag-with-digest-file": lambda o: o.output.image_name_tag_with_digest_file,
    "--reproducible": lambda o: o.output.reproducible,
    "--compression": lambda o: o.output.compression,
    "--compression-level": lambda o: o.output.compression_level,
    "--push-retry": lambda o: o.output.push_retry,
    "--push-ignore-immutable-tag-errors": lambda o: o.output.push_ignore_immutable_tag_errors,
    "--skip-push-permission-check": lambda o: o.output.skip_push_permission_check,
    # registries
    "--insecure": lambda o: o.registry.insecure,
    "--skip-tls-verify": lambda o: o.registry.skip_tls_verify,
    "--insecure-pull": lambda o: o.registry.insecure_pull,
    "--skip-tls-verify-pull": lambda o: o.registry.skip_tls_verify_pull,
    "--insecure-registry": lambda o: o.registry.insecure_registries,
    "--skip-tls-verify-registry": lambda o: o.registry.skip_tls_verify_registries,
    "--registry-certificate": lambda o: dict(o.registry.registry_certificates),
    "--registry-client-cert": lambda o: dict(o.registry.registry_client_certs),
    "--registry-mirror": lambda o: o.registry.registry_mirrors,
    "--registry-map": lambda o: _explicit_maps(o),
    "--skip-default-registry-fallback": lambda o: o.registry.skip_default_registry_fallback,
    "--image-download-retry": lambda o: o.registry.image_download_retry,
    # cache
    "--cache": lambda o: o.cache.enabled,
    "--cache-repo": lambda o: o.cache.repo,
    "--cache-dir": lambda o: o.cache.dir,
    "--cache-ttl": lambda o: o.cache.ttl,
    "--cache-copy-layers": lambda o: o.cache.copy_layers,
    "--cache-run-layers": lambda o: o.cache.run_layers,
    "--compressed-caching": lambda o: o.cache.compressed,
    "--no-push-cache": lambda o: o.cache.no_push_cache,
    # snapshots
    "--snapshot-mode": lambda o: o.snapshot.mode,
    "--single-snapshot": lambda o: o.snapshot.single_snapshot,
    "--use-new-run": lambda o: o.snapshot.use_new_run,
    "--ignore-var-run": lambda o: o.snapshot.ignore_var_run,
    "--ignore-path": lambda o: o.snapshot.ignore_paths,
    "--force-build-metadata": lambda o: o.snapshot.force_build_metadata,
}


def unsupported_flags(opts: BuildOptions) -> list[str]:
    """The flags of :data:`NOT_YET` that ``opts`` sets to a non-default value."""
    default = BuildOptions()
    return [flag for flag, get in NOT_YET.items() if get(opts) != get(default)]


def check_supported(opts: BuildOptions) -> None:
    """Raise :class:`NotSupportedYet` naming every not-yet flag that ``opts`` uses."""
    flags = unsupported_flags(opts)
    if flags:
        raise NotSupportedYet(f"not supported yet: {', '.join(flags)}")
