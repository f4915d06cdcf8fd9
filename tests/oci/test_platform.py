from __future__ import annotations

import pytest

from kaniko.errors import UsageError
from kaniko.oci.platform import Platform, parse_platforms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", Platform("linux", "amd64", "")),
        ("linux/arm64/v8", Platform("linux", "arm64", "")),
        ("linux/arm/v7", Platform("linux", "arm", "v7")),
        ("LINUX/AMD64", Platform("linux", "amd64", "")),
        ("linux/x86_64", Platform("linux", "amd64", "")),
        ("linux/aarch64", Platform("linux", "arm64", "")),
        ("linux/armhf", Platform("linux", "arm", "v7")),
        ("arm64", Platform("linux", "arm64", "")),
        ("windows/amd64", Platform("windows", "amd64", "")),
        ("linux/arm/7", Platform("linux", "arm", "v7")),
        ("linux/amd64/v1", Platform("linux", "amd64", "")),
        ("linux/amd64/v3", Platform("linux", "amd64", "v3")),
        ("linux/armel", Platform("linux", "arm", "v6")),
        ("linux/i386", Platform("linux", "386", "")),
        ("macos/arm64", Platform("darwin", "arm64", "")),
        ("x86_64", Platform("linux", "amd64", "")),
        ("linux/riscv64", Platform("linux", "riscv64", "")),
    ],
)
def test_parse(text: str, expected: Platform) -> None:
    assert Platform.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "linux/", "/amd64", "a/b/c/d", "linux//v7", "linux/am d64", "lin.ux/amd64", "linux/*"],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="invalid platform"):
        Platform.parse(text)


def test_a_platform_list_is_refused_where_one_platform_is_expected() -> None:
    # it used to build an image for architecture "amd64,linux", variant "arm64"
    with pytest.raises(UsageError) as info:
        Platform.parse("linux/amd64,linux/arm64")
    assert str(info.value) == (
        "invalid platform 'linux/amd64,linux/arm64': one platform expected here, not a "
        "list; give one os/arch[/variant]"
    )


def test_a_platform_list_parses_normalised_without_duplicates() -> None:
    assert parse_platforms("linux/amd64, linux/aarch64,linux/arm64/v8,linux/armhf,amd64") == (
        Platform("linux", "amd64"),
        Platform("linux", "arm64"),
        Platform("linux", "arm", "v7"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "an empty entry"),
        ("linux/amd64,", "an empty entry"),
        ("linux/amd64,,linux/arm64", "an empty entry"),
        ("linux/amd46", "unknown architecture 'amd46'"),
        ("plan10/amd64", "unknown operating system 'plan10'"),
        ("linux/amd64,linux/*", "wildcards are not supported"),
    ],
)
def test_a_bad_platform_list_names_the_bad_entry(text: str, message: str) -> None:
    with pytest.raises(UsageError, match="invalid platform") as info:
        parse_platforms(text)
    assert message in str(info.value)


def test_one_word_is_a_known_os_or_a_known_architecture() -> None:
    assert Platform.parse("linux") == Platform.host()
    assert Platform.parse("arm64") == Platform("linux", "arm64")
    with pytest.raises(UsageError, match="unknown operating system or architecture"):
        Platform.parse("potato")


def test_components_are_checked_as_containerd_does() -> None:
    with pytest.raises(UsageError) as info:
        Platform.parse("linux/amd64/v1;rm")
    assert "'v1;rm' is not a valid variant" in str(info.value)


def test_str_round_trip() -> None:
    for text in ["linux/amd64", "linux/arm/v7", "linux/s390x"]:
        assert str(Platform.parse(text)) == text


def test_host_is_linux_and_known() -> None:
    host = Platform.host()
    assert host.os == "linux"
    assert host.architecture and "_" not in host.architecture


def test_matches() -> None:
    want = Platform.parse("linux/arm64")
    assert want.matches(Platform("linux", "arm64", "v8"))
    assert not want.matches(Platform("linux", "amd64"))
    assert Platform.parse("linux/arm").matches(Platform("linux", "arm", "v7"))
    assert not Platform.parse("linux/arm/v6").matches(Platform("linux", "arm", "v7"))


def test_build_args() -> None:
    args = Platform.parse("linux/arm/v7").build_args("TARGET")
    assert args == {
        "TARGETPLATFORM": "linux/arm/v7",
        "TARGETOS": "linux",
        "TARGETARCH": "arm",
        "TARGETVARIANT": "v7",
    }
