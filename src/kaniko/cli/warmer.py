"""The warmer command: ``kaniko warmer …``, the ``warmer`` script, ``/kaniko/warmer``.

The Go warmer's flags (``cmd/warmer/cmd/root.go``), with its short forms, which differ
from the executor's (``-c`` is ``--cache-dir``, ``-d`` ``--dockerfile``, ``-f``
``--force``, ``-i`` ``--image``), and the registry flags the executor has (TLS, maps and
mirrors, retries, timeouts). ``KANIKO_REGISTRY_MAP`` (and ``KANIKO_REGISTRY_MIRROR``) add
to the maps as for the executor. At least one ``--image`` or a ``--dockerfile`` is
required. Exit status: 0 when at least one image was warmed or already fresh, 1 when
every one failed, 2 for a usage error. What it does is :mod:`kaniko.cache.warmer`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta

from kaniko.cli.config import registry_options
from kaniko.cli.flags import BY_LONG, CACHE, LOGGING, REGISTRY, Flag, _f
from kaniko.cli.logging_setup import configure_logging, parse_format, parse_level
from kaniko.cli.parser import Command, ParsedArgs, format_help, parse_argv
from kaniko.errors import UsageError
from kaniko.oci.platform import Platform
from kaniko.options import LogOptions, WarmerOptions

log = logging.getLogger("kaniko.cli")

WARM = "Warmer flags"

SHARED = (
    "insecure", "skip-tls-verify", "insecure-pull", "skip-tls-verify-pull",
    "insecure-registry", "skip-tls-verify-registry", "registry-certificate",
    "registry-client-cert", "registry-map", "registry-mirror",
    "skip-default-registry-fallback", "image-download-retry", "registry-connect-timeout",
    "registry-read-timeout", "registry-request-timeout",
    "verbosity", "log-format", "log-timestamp",
)  # fmt: skip
"""The executor's flags the warmer has too, as the executor has them."""

# fmt: off
WARMER_FLAGS: tuple[Flag, ...] = (
    _f("image", "multi", WARM, "Image to cache; repeatable", short="i"),
    _f("dockerfile", "str", WARM, "Dockerfile (path or http(s) URL) whose base images "
       "to cache", "", short="d"),
    _f("build-arg", "build-arg", WARM, "ARG value for --dockerfile's FROM lines: NAME=value, "
       "or NAME to take it from the environment; repeatable"),
    _f("cache-dir", "str", CACHE, "Directory of the cache", "/cache", short="c"),
    _f("cache-ttl", "duration", CACHE, "Lifetime of cached images (Go duration)",
       timedelta(hours=336)),
    _f("force", "bool", CACHE, "Overwrite cached images, fresh ones too", short="f"),
    _f("customPlatform", "str", WARM, "Platform os/arch[/variant] of the images (default: "
       "the host's)", "", dest="custom_platform"),
    _f("custom-platform", "str", WARM, "Same as --customPlatform", "",
       dest="custom_platform_new"),
    *(BY_LONG[name] for name in SHARED),
)
# fmt: on

WARMER = Command(
    WARMER_FLAGS,
    (WARM, CACHE, REGISTRY, LOGGING),
    "{prog} [flags]",
    "Save base images into the base-image cache (--cache-dir), in kaniko's format, for "
    "builds run with --cache.",
)


def warmer_options(parsed: ParsedArgs, environ: Mapping[str, str]) -> WarmerOptions:
    """The validated options of one warmer run; raises :class:`UsageError`."""
    v = parsed.values
    platform_text = v["custom_platform"] or v["custom_platform_new"]
    try:
        platform = Platform.parse(platform_text) if platform_text else Platform.host()
    except UsageError as exc:
        raise UsageError(f"--customPlatform: {exc}") from None
    if not v["image"] and not v["dockerfile"]:
        raise UsageError(
            "you must select at least one image to cache (--image) or a Dockerfile to parse "
            "(--dockerfile)"
        )
    return WarmerOptions(
        images=tuple(v["image"]),
        dockerfile=v["dockerfile"],
        build_args=tuple(v["build_arg"]),
        cache_dir=v["cache_dir"],
        ttl=v["cache_ttl"],
        force=v["force"],
        platform=platform,
        registry=registry_options(v, environ),
        log=LogOptions(
            level=parse_level(v["verbosity"]),
            format=parse_format(v["log_format"]),
            timestamp=v["log_timestamp"],
        ),
    )


def run(argv: Sequence[str], prog: str = "warmer") -> int:
    """Parse ``argv``, set up logging and warm; raises on failure."""
    parsed = parse_argv(argv, prog, WARMER)
    if parsed.help:
        sys.stdout.write(format_help(prog, WARMER))
        return 0
    if parsed.positionals:
        raise UsageError(f'unknown command "{parsed.positionals[0]}" for "{prog}"')
    v = parsed.values
    configure_logging(
        LogOptions(parse_level(v["verbosity"]), parse_format(v["log_format"]), v["log_timestamp"])
    )
    options = warmer_options(parsed, os.environ)
    from kaniko.cache.warmer import warm
    from kaniko.registry.transport import Transport

    with Transport(options.registry) as transport:
        warm(options, transport)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``warmer`` script: ``kaniko warmer`` (the executor's error
    reporting, signal handling and exit statuses); returns the exit status."""
    from kaniko.cli.main import main as kaniko_main

    args = list(sys.argv[1:] if argv is None else argv)
    return kaniko_main(["warmer", *args])


if __name__ == "__main__":
    sys.exit(main())
