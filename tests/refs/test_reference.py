"""Behaviour of Reference beyond parsing: forms, derived references, loopback detection."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kaniko.oci.digest import Digest
from kaniko.refs import (
    DOCKER_HUB,
    InvalidReferenceError,
    Reference,
    is_loopback_registry,
    parse_tagged,
)

SHA = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "familiar"),
    [
        ("ubuntu", "ubuntu:latest"),
        ("docker.io/library/ubuntu:22.04", "ubuntu:22.04"),
        ("index.docker.io/library/redis", "redis:latest"),
        ("library/foo/bar", "library/foo/bar:latest"),
        ("dmcgowan/myapp", "dmcgowan/myapp:latest"),
        ("other/library", "other/library:latest"),
        ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase:latest"),
        ("example.com/privatebase:1", "example.com/privatebase:1"),
        (f"busybox:1.36@{SHA}", f"busybox:1.36@{SHA}"),
        (f"busybox@{SHA}", f"busybox@{SHA}"),
        ("Foo/bar", "Foo/bar:latest"),
    ],
)
def test_familiar(text: str, familiar: str) -> None:
    assert Reference.parse(text).familiar() == familiar


def test_fully_qualified_string_and_name() -> None:
    ref = Reference.parse("ubuntu")
    assert str(ref) == "index.docker.io/library/ubuntu:latest"
    assert ref.name == "index.docker.io/library/ubuntu"
    assert ref.is_docker_hub
    assert ref.identifier == "latest"
    assert ref.scope() == "repository:library/ubuntu:pull"
    assert ref.scope("push,pull") == "repository:library/ubuntu:push,pull"


def test_tag_and_digest_together_digest_wins() -> None:
    ref = Reference.parse(f"gcr.io/proj/app:v1@{SHA}")
    assert ref.tag == "v1"
    assert ref.digest == Digest.parse(SHA)
    assert ref.identifier == SHA
    assert str(ref) == f"gcr.io/proj/app:v1@{SHA}"


def test_digest_only_has_no_tag() -> None:
    ref = Reference.parse(f"gcr.io/proj/app@{SHA}")
    assert ref.tag is None
    assert str(ref) == f"gcr.io/proj/app@{SHA}"


def test_context_with_tag_and_digest() -> None:
    ref = Reference.parse(f"localhost:5000/app:v1@{SHA}")
    assert str(ref.with_tag("v2")) == "localhost:5000/app:v2"
    assert str(ref.context()) == "localhost:5000/app:latest"
    other = "sha256:" + "cd" * 32
    assert str(ref.with_digest(other)) == f"localhost:5000/app:v1@{other}"
    assert str(ref.context(digest=Digest.parse(other))) == f"localhost:5000/app@{other}"
    with pytest.raises(InvalidReferenceError, match="invalid digest"):
        ref.with_digest("sha256:short")
    with pytest.raises(InvalidReferenceError, match="invalid tag"):
        ref.with_tag("-bad")


def test_default_registry() -> None:
    ref = Reference.parse("ubuntu", default_registry="registry.example.com:5000")
    assert str(ref) == "registry.example.com:5000/ubuntu:latest"
    assert not ref.is_docker_hub
    assert Reference.parse("ubuntu", default_registry="docker.io").registry == DOCKER_HUB
    explicit = Reference.parse("quay.io/x/y", default_registry="registry.example.com")
    assert explicit.registry == "quay.io"
    with pytest.raises(InvalidReferenceError, match="default registry"):
        Reference.parse("ubuntu", default_registry="bad host")


def test_direct_construction_is_validated() -> None:
    assert Reference("gcr.io", "a/b").tag == "latest"
    with pytest.raises(InvalidReferenceError, match="lowercase"):
        Reference("gcr.io", "A/b")
    with pytest.raises(InvalidReferenceError, match="invalid registry"):
        Reference("gcr..io", "a/b")


def test_error_names_the_input_and_reason() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        Reference.parse("docker.io/Library/Ubuntu")
    assert str(info.value) == (
        "invalid image reference 'docker.io/Library/Ubuntu': "
        "repository name 'Library/Ubuntu' must be lowercase"
    )
    assert info.value.text == "docker.io/Library/Ubuntu"


@pytest.mark.parametrize(
    ("registry", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("LOCALHOST:5000", True),
        ("registry.localhost:80", True),
        ("127.0.0.1", True),
        ("127.0.0.1:5000", True),
        ("127.1.2.3:443", True),
        ("[::1]", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("localhost.example.com", False),
        ("128.0.0.1:5000", False),
        ("10.0.0.1:5000", False),
        ("[::2]:5000", False),
        ("index.docker.io", False),
        ("mylocalhost", False),
    ],
)
def test_is_loopback_registry(registry: str, loopback: bool) -> None:
    assert is_loopback_registry(registry) is loopback


_component = st.from_regex(r"[a-z0-9]{1,8}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,8}){0,2}", fullmatch=True)
_host = st.sampled_from(["", "gcr.io/", "localhost:5000/", "[::1]:5000/", "a-b.example.com/"])
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(
    host=_host,
    path=st.lists(_component, min_size=1, max_size=4),
    tag=st.none() | _tag,
    digest=st.none() | st.binary(max_size=8).map(lambda b: str(Digest.of(b))),
)
def test_generated_references_round_trip(
    host: str, path: list[str], tag: str | None, digest: str | None
) -> None:
    assume(host or "." not in path[0])  # a first component with '.' names a registry
    text = host + "/".join(path)
    text += f":{tag}" if tag else ""
    text += f"@{digest}" if digest else ""
    ref = Reference.parse(text)
    assert ref.repository.endswith("/".join(path))
    assert ref.tag == (tag if tag or digest else "latest")
    assert (str(ref.digest) if ref.digest else None) == digest
    assert Reference.parse(str(ref)) == ref
    assert Reference.parse(ref.familiar()) == ref


def test_parse_tagged_refuses_a_digest() -> None:
    assert parse_tagged("reg.example/app").tag == "latest"
    assert parse_tagged("reg.example/app:v1").tag == "v1"
    with pytest.raises(InvalidReferenceError, match="a digest is not a tag"):
        parse_tagged("reg.example/app:v1@sha256:" + "a" * 64)
    with pytest.raises(InvalidReferenceError, match="invalid image reference"):
        parse_tagged("reg.example/App")
