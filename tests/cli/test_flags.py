"""Every executor flag, parsed the way kaniko (cobra/pflag) spells it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from kaniko.cli.flags import BY_LONG, FLAGS
from kaniko.cli.parser import normalize, parse_argv
from kaniko.errors import UsageError
from kaniko.oci.platform import Platform
from kaniko.options import BuildOptions, GitOptions, SecretSource, SshSource

from .helpers import options

Get = Callable[[BuildOptions], Any]

ROWS: list[tuple[list[str], Get, Any]] = [
    (["--dockerfile", "a/Dockerfile"], lambda o: o.dockerfile, "a/Dockerfile"),
    (["-f", "x"], lambda o: o.dockerfile, "x"),
    (["-fx.Dockerfile"], lambda o: o.dockerfile, "x.Dockerfile"),
    (["-f=y"], lambda o: o.dockerfile, "y"),
    (["--context=dir:///src"], lambda o: o.context, "dir:///src"),
    (["-c", "/ctx"], lambda o: o.context, "/ctx"),
    (["--context-sub-path", "sub"], lambda o: o.context_sub_path, "sub"),
    (["--context-size-limit", "512MiB"], lambda o: o.context_size_limit, 512 * 2**20),
    ([], lambda o: o.context_size_limit, 10 * 2**30),
    (["--bucket", "b"], lambda o: o.bucket, "b"),
    (["-b", "gs://b"], lambda o: o.bucket, "gs://b"),
    (["-d", "r/a", "--destination=r/b"], lambda o: o.output.destinations, ("r/a", "r/b")),
    (["--snapshot-mode", "redo"], lambda o: o.snapshot.mode, "redo"),
    (["--custom-platform=linux/arm64"], lambda o: o.platform, Platform("linux", "arm64")),
    (["--custom-platform", "linux/arm/v7"], lambda o: o.platform, Platform("linux", "arm", "v7")),
    (["--custom-platform", "linux/arm64"], lambda o: o.platforms, ()),
    (
        ["--custom-platform", "linux/amd64, linux/arm64,linux/arm/v7,linux/aarch64"],
        lambda o: (o.platform, o.platforms),
        (
            Platform("linux", "amd64"),
            (
                Platform("linux", "amd64"),
                Platform("linux", "arm64"),
                Platform("linux", "arm", "v7"),
            ),
        ),
    ),
    (["--platform=linux/arm64,linux/amd64"], lambda o: o.platforms[1], Platform("linux", "amd64")),
    (
        ["--platform=linux/s390x", "--custom-platform=linux/s390x"],
        lambda o: o.platform,
        Platform("linux", "s390x"),
    ),
    ([], lambda o: o.platform, Platform.host()),
    (["--build-arg", "A=1", "--build-arg=B"], lambda o: o.build_args, (("A", "1"), ("B", None))),
    (["--insecure"], lambda o: o.registry.insecure, True),
    (["--skip-tls-verify"], lambda o: o.registry.skip_tls_verify, True),
    (["--insecure-pull"], lambda o: o.registry.insecure_pull, True),
    (["--skip-tls-verify-pull=true"], lambda o: o.registry.skip_tls_verify_pull, True),
    (["--push-retry", "3"], lambda o: o.output.push_retry, 3),
    (
        ["--push-ignore-immutable-tag-errors"],
        lambda o: o.output.push_ignore_immutable_tag_errors,
        True,
    ),
    (["--image-fs-extract-retry=2"], lambda o: o.image_fs_extract_retry, 2),
    (["--jobs", "1"], lambda o: o.jobs, 1),
    ([], lambda o: o.jobs, 0),
    (["--image-download-retry", "4"], lambda o: o.registry.image_download_retry, 4),
    (["--registry-connect-timeout", "5s"], lambda o: o.registry.connect_timeout, 5.0),
    (["--registry-read-timeout=1m30s"], lambda o: o.registry.read_timeout, 90.0),
    (["--registry-request-timeout", "0"], lambda o: o.registry.request_timeout, 0.0),
    (["--kaniko-dir", "/k2"], lambda o: o.kaniko_dir, "/k2"),
    (["--tar-path", "out.tar"], lambda o: o.output.tar_path, "out.tar"),
    (["--single-snapshot"], lambda o: o.snapshot.single_snapshot, True),
    (["--reproducible"], lambda o: o.output.reproducible, True),
    (["--target", "build"], lambda o: o.target, "build"),
    (["--target", "-odd"], lambda o: o.target, "-odd"),
    (["--no-push"], lambda o: o.output.no_push, True),
    (["--no-push-cache"], lambda o: o.cache.no_push_cache, True),
    (["--cache-repo", "r/cache"], lambda o: o.cache.repo, "r/cache"),
    (["--cache-dir=/c2"], lambda o: o.cache.dir, "/c2"),
    (["--digest-file", "d.txt"], lambda o: o.output.digest_file, "d.txt"),
    (
        ["-d", "r/a", "--image-name-with-digest-file", "n"],
        lambda o: o.output.image_name_with_digest_file,
        "n",
    ),
    (
        ["-d", "r/a", "--image-name-tag-with-digest-file=t"],
        lambda o: o.output.image_name_tag_with_digest_file,
        "t",
    ),
    (["--oci-layout-path", "/oci"], lambda o: o.output.oci_layout_path, "/oci"),
    (["--compression", "zstd"], lambda o: o.output.compression, "zstd"),
    ([], lambda o: o.output.compression, None),
    (["--compression-level", "9"], lambda o: o.output.compression_level, 9),
    (["--cache", "--cache-repo=r/c"], lambda o: o.cache.enabled, True),
    (["--cache", "-d", "r/a"], lambda o: (o.cache.enabled, o.cache.repo), (True, "")),
    (["--compressed-caching=false"], lambda o: o.cache.compressed, False),
    (["--cleanup"], lambda o: o.cleanup, True),
    (["--cache-ttl", "1h30m"], lambda o: o.cache.ttl, timedelta(minutes=90)),
    (["--cache-ttl=90s"], lambda o: o.cache.ttl, timedelta(seconds=90)),
    ([], lambda o: o.cache.ttl, timedelta(hours=336)),
    (
        ["--insecure-registry", "a:5000", "--insecure-registry=b"],
        lambda o: o.registry.insecure_registries,
        ("a:5000", "b"),
    ),
    (["--skip-tls-verify-registry", "a"], lambda o: o.registry.skip_tls_verify_registries, ("a",)),
    (
        ["--registry-certificate", "a=/ca.pem", "--registry-certificate=b=/b.pem"],
        lambda o: dict(o.registry.registry_certificates),
        {"a": "/ca.pem", "b": "/b.pem"},
    ),
    (
        ["--registry-certificate", "a=/1", "--registry-certificate", "a=/2"],
        lambda o: dict(o.registry.registry_certificates),
        {"a": "/2"},
    ),
    (
        ["--registry-client-cert", "a=/c,/k"],
        lambda o: dict(o.registry.registry_client_certs),
        {"a": ("/c", "/k")},
    ),
    (
        ["--registry-map", "a=b;c=d", "--registry-map=a=e"],
        lambda o: dict(o.registry.registry_maps),
        {"a": ("b", "e"), "c": ("d",)},
    ),
    (
        ["--registry-mirror", "m1", "--registry-mirror=m2"],
        lambda o: (o.registry.registry_mirrors, dict(o.registry.registry_maps)),
        (("m1", "m2"), {"index.docker.io": ("m1", "m2")}),
    ),
    (
        ["--skip-default-registry-fallback"],
        lambda o: o.registry.skip_default_registry_fallback,
        True,
    ),
    (["--ignore-var-run=false"], lambda o: o.snapshot.ignore_var_run, False),
    (["--label", "a=1", "--label=b=x=y"], lambda o: o.labels, (("a", "1"), ("b", "x=y"))),
    (["--skip-unused-stages"], lambda o: o.skip_unused_stages, True),
    (["--use-new-run"], lambda o: o.snapshot.use_new_run, True),
    (
        ["--git", "branch=dev,single-branch=true"],
        lambda o: o.git,
        GitOptions(branch="dev", single_branch=True),
    ),
    (
        ["--git=recurse-submodules=true", "--git", "insecure-skip-tls=1"],
        lambda o: o.git,
        GitOptions(recurse_submodules=True, insecure_skip_tls=True),
    ),
    (["--cache-copy-layers"], lambda o: o.cache.copy_layers, True),
    (["--cache-run-layers=false"], lambda o: o.cache.run_layers, False),
    (["--ignore-path", "/a", "--ignore-path=/b"], lambda o: o.snapshot.ignore_paths, ("/a", "/b")),
    (["--force-build-metadata"], lambda o: o.snapshot.force_build_metadata, True),
    (["--skip-push-permission-check"], lambda o: o.output.skip_push_permission_check, True),
    (["--verbosity", "debug"], lambda o: o.log.level, "debug"),
    (["-v", "WARN"], lambda o: o.log.level, "warning"),
    (["-v=trace"], lambda o: o.log.level, "trace"),
    (["--log-format", "json"], lambda o: o.log.format, "json"),
    (["--log-timestamp"], lambda o: o.log.timestamp, True),
    (["--force"], lambda o: o.force, True),
    (["--isolation", "chroot"], lambda o: o.isolation, "chroot"),
    (["--isolation=inplace"], lambda o: o.isolation, "inplace"),
    (["--sbom"], lambda o: o.attest.sbom, "spdx"),
    (["--sbom", "--sbom-scan-stages"], lambda o: o.attest.sbom_scan_stages, True),
    (["--sbom", "--sbom-file=s.json"], lambda o: o.attest.sbom_file, "s.json"),
    (["--provenance=mode=max"], lambda o: o.attest.provenance, "max"),
    (["--provenance", "--provenance-file", "p.json"], lambda o: o.attest.provenance_file, "p.json"),
    (
        ["--secret", "id=a,src=/s", "--secret=id=b,env=B", "--secret", "type=env,id=c,src=C"],
        lambda o: o.run.secrets,
        (SecretSource("a", "/s"), SecretSource("b", env="B"), SecretSource("c", env="C")),
    ),
    (
        ["--secret", "id=a,src=/1", "--secret", "id=a,src=/2"],
        lambda o: o.run.secrets,
        (SecretSource("a", "/2"),),
    ),
    (["--secret=id=TOKEN"], lambda o: o.run.secrets, (SecretSource("TOKEN"),)),
    (
        ["--ssh", "default", "--ssh=git=/k1,/k2"],
        lambda o: o.run.ssh,
        (SshSource("default"), SshSource("git", ("/k1", "/k2"))),
    ),
    (["--cache-mount-dir", "/cm"], lambda o: o.cache_mount_dir, "/cm"),
    ([], lambda o: o.cache_mount_dir, "/kaniko/cache-mounts"),
    (["--kaniko-dir=/k"], lambda o: o.cache_mount_dir, "/k/cache-mounts"),
    (["--snapshotter=metadata"], lambda o: o.perf.snapshotter, "metadata"),
    (["--extracted-base-dir", "/var/lib/kb"], lambda o: o.perf.base_store_dir, "/var/lib/kb"),
    (["--extracted-base-size=2GiB"], lambda o: o.perf.base_store_size, 2 * 1024**3),
    (["--profile", "p.json"], lambda o: o.perf.profile_file, "p.json"),
    # deprecated aliases
    (["--snapshotMode", "time"], lambda o: o.snapshot.mode, "time"),
    (["--snapshot-mode=redo", "--snapshotMode=time"], lambda o: o.snapshot.mode, "time"),
    (["--customPlatform=linux/s390x"], lambda o: o.platform, Platform("linux", "s390x")),
    (["--tarPath", "i.tar"], lambda o: o.output.tar_path, "i.tar"),
    (["--whitelist-var-run=false"], lambda o: o.snapshot.ignore_var_run, False),
    (["--whitelist-var-run=false", "--ignore-var-run"], lambda o: o.snapshot.ignore_var_run, True),
]


@pytest.mark.parametrize(("argv", "get", "expected"), ROWS)
def test_flag(argv: list[str], get: Get, expected: Any) -> None:
    assert get(options(argv)) == expected


def test_every_flag_has_a_row() -> None:
    used = set()
    for argv, _, _ in ROWS:
        for word in argv:
            name = word.lstrip("-").split("=", 1)[0]
            if word.startswith("--"):
                used.add(name)
            elif word.startswith("-"):
                used.update(f.name for f in FLAGS if f.short == name[:1])
    assert {f.name for f in FLAGS} <= used


def test_defaults_match_kaniko() -> None:
    o = options([])
    assert o.dockerfile == "Dockerfile" and o.context == "/workspace/"
    assert o.kaniko_dir == "/kaniko" and o.cache.dir == "/cache"
    assert o.snapshot.mode == "full" and o.snapshot.ignore_var_run is True
    assert o.cache.run_layers is True and o.cache.compressed is True
    assert o.log.level == "info" and o.log.format == "color" and o.log.timestamp is False
    assert o.output.compression_level == -1


BOOL_FLAGS = [f.name for f in FLAGS if f.kind == "bool"]


@pytest.mark.parametrize("name", BOOL_FLAGS)
@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("", True),
        ("=true", True),
        ("=1", True),
        ("=True", True),
        ("=false", False),
        ("=0", False),
        ("=F", False),
    ],
)
def test_bool_forms(name: str, suffix: str, expected: bool) -> None:
    parsed = parse_argv([f"--{name}{suffix}"])
    assert parsed.values[BY_LONG[name].attr] is expected


def test_bare_bool_does_not_take_next_word() -> None:
    parsed = parse_argv(["--cache", "false"])
    assert parsed.values["cache"] is True
    assert parsed.positionals == ("false",)
    parsed = parse_argv(["--cache", "--target", "x"])
    assert parsed.values["cache"] is True and parsed.values["target"] == "x"


def test_value_flag_takes_next_word_even_a_flag() -> None:
    assert parse_argv(["--target", "--cache"]).values["target"] == "--cache"
    assert parse_argv(["-f", "-v"]).values["dockerfile"] == "-v"


def test_empty_value_and_last_wins() -> None:
    assert parse_argv(["--target="]).values["target"] == ""
    assert parse_argv(["--target=a", "--target", "b"]).values["target"] == "b"


def test_double_dash_ends_flags() -> None:
    parsed = parse_argv(["--cache", "--", "--no-push"])
    assert parsed.positionals == ("--no-push",)
    assert parsed.values["no_push"] is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nope"], "unknown flag: --nope"),
        (["--dockerf=x"], "unknown flag: --dockerf"),  # no abbreviations
        (["-x"], "unknown shorthand flag: 'x' in -x"),
        (["--target"], "flag needs an argument: --target"),
        (["-f"], "flag needs an argument: -f"),
        (["--cache=maybe"], 'invalid argument "maybe" for "--cache" flag'),
        (["--cache="], 'invalid argument "" for "--cache" flag'),
        (["--push-retry", "x"], 'invalid argument "x" for "--push-retry" flag'),
        (["--cache-ttl", "14d"], 'invalid argument "14d" for "--cache-ttl" flag'),
        (["--registry-certificate", "noeq"], "--registry-certificate"),
        (["--registry-client-cert", "r=/only"], "--registry-client-cert"),
        (["--registry-map", "a=b;c"], "--registry-map"),
        (["--label", "nolabel"], "--label"),
        (["--git", "main"], "invalid git flag"),
        (["--context-size-limit", "lots"], 'invalid argument "lots" for "--context-size-limit"'),
        (["--context-size-limit", "0"], 'invalid argument "0" for "--context-size-limit"'),
        (["--build-arg", "=v"], "--build-arg"),
        (["--secret", "src=/x"], 'for "--secret" flag: want id=NAME'),
        (["--secret", "id=a,file=/x"], "unexpected key 'file'"),
        (["--secret", "id=a,type=vault"], "unsupported secret type"),
        (["--secret", "id=a,src=/x,env=Y"], "give src or env, not both"),
        (["--secret", "id"], "want key=value"),
        (["--ssh", "=/sock"], 'for "--ssh" flag'),
        (["--ssh", "git="], 'for "--ssh" flag'),
    ],
)
def test_parse_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_argv(argv)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_normalize_canonical_words() -> None:
    out = normalize(["-f", "D", "--cache", "-dR", "--label", "k=v", "pos"])
    assert out.words == ["--dockerfile=D", "--cache=true", "--destination=R", "--label=k=v"]
    assert out.positionals == ["pos"]
    assert out.seen == ["dockerfile", "cache", "destination", "label"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--snapshot-mode", "fast"], '"--snapshot-mode" flag'),
        (["--compression", "xz"], '"--compression" flag'),
        (["--custom-platform", "linux/"], "invalid platform"),
        (["--jobs", "-1"], "--jobs: want a number of stages"),
        (
            ["--custom-platform", "linux/amd64,,linux/arm64"],
            "--custom-platform: invalid platform list",
        ),
        (["--custom-platform", "linux/amd46"], "unknown architecture 'amd46'"),
        (["--platform", "linux/arm64,bsd/arm64"], "--platform: invalid platform 'bsd/arm64'"),
        (["--platform", "linux/arm64", "--custom-platform", "linux/amd64"], "contradicts"),
        (["-v", "loud"], "not a valid log level"),
        (["--log-format", "yaml"], "not a valid log format"),
    ],
)
def test_value_validation(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        options(argv)
