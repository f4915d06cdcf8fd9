"""Table tests of reference parsing, from the cases of distribution/reference's test data.

Expected values use kaniko's (go-containerregistry's) normalised form: Docker Hub is
``index.docker.io`` and single-component Hub names live under ``library/``.
"""

from __future__ import annotations

import pytest

from kaniko.errors import KanikoError
from kaniko.refs import InvalidReferenceError, Reference

HUB = "index.docker.io"
F64 = "f" * 64
SHA = f"sha256:{F64}"
SHA512 = "sha512:" + "f" * 128
BUSY = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
DBCC = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
LONG_PATH = "a/" * 127 + "a"
HEX_NAME = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
SONG = "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev"

# (input, registry, repository, tag, digest)
VALID: list[tuple[str, str, str, str | None, str | None]] = [
    ("test_com", HUB, "library/test_com", "latest", None),
    ("test.com:tag", HUB, "library/test.com", "tag", None),
    ("test.com:5000", HUB, "library/test.com", "5000", None),
    ("test.com/repo:tag", "test.com", "repo", "tag", None),
    ("test:5000/repo", "test:5000", "repo", "latest", None),
    ("test:5000/repo:tag", "test:5000", "repo", "tag", None),
    (f"test:5000/repo@{SHA}", "test:5000", "repo", None, SHA),
    (f"test:5000/repo:tag@{SHA}", "test:5000", "repo", "tag", SHA),
    ("lowercase:Uppercase", HUB, "library/lowercase", "Uppercase", None),
    (f"{LONG_PATH}:tag-puts-this-over-max", HUB, LONG_PATH, "tag-puts-this-over-max", None),
    ("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "latest", None),
    (
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "sub-dom1.foo.com",
        "bar/baz/quux",
        "some-long-tag",
        None,
    ),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io",
        "test.example.com/my-app",
        "test.example.com",
        None,
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", None),
    (
        f"xn--7o8h.com/myimage:xn--7o8h.com@{SHA512}",
        "xn--7o8h.com",
        "myimage",
        "xn--7o8h.com",
        SHA512,
    ),
    ("foo_bar.com:8080", HUB, "library/foo_bar.com", "8080", None),
    ("foo/foo_bar.com:8080", HUB, "foo/foo_bar.com", "8080", None),
    ("192.168.1.1", HUB, "library/192.168.1.1", "latest", None),
    ("192.168.1.1:tag", HUB, "library/192.168.1.1", "tag", None),
    ("192.168.1.1:5000", HUB, "library/192.168.1.1", "5000", None),
    ("192.168.1.1/repo", "192.168.1.1", "repo", "latest", None),
    ("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", "latest", None),
    ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", None),
    ("[2001:db8::1]/repo", "[2001:db8::1]", "repo", "latest", None),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", None),
    ("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", "latest", None),
    ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", None),
    (f"[2001:db8::1]:5000/repo@{SHA}", "[2001:db8::1]:5000", "repo", None, SHA),
    (f"[2001:db8::1]:5000/repo:tag@{SHA}", "[2001:db8::1]:5000", "repo", "tag", SHA),
    ("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "latest", None),
    ("[::1]:5000/repo", "[::1]:5000", "repo", "latest", None),
    ("docker/docker", HUB, "docker/docker", "latest", None),
    ("library/debian", HUB, "library/debian", "latest", None),
    ("debian", HUB, "library/debian", "latest", None),
    ("docker.io/docker/docker", HUB, "docker/docker", "latest", None),
    ("docker.io/library/debian", HUB, "library/debian", "latest", None),
    ("docker.io/debian", HUB, "library/debian", "latest", None),
    ("index.docker.io/docker/docker", HUB, "docker/docker", "latest", None),
    ("index.docker.io/library/debian", HUB, "library/debian", "latest", None),
    ("index.docker.io/debian", HUB, "library/debian", "latest", None),
    ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", "latest", None),
    ("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", "latest", None),
    ("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", "latest", None),
    ("192.168.0.1", HUB, "library/192.168.0.1", "latest", None),
    ("192.168.0.1:80", HUB, "library/192.168.0.1", "80", None),
    ("192.168.0.1:8/debian", "192.168.0.1:8", "debian", "latest", None),
    ("192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", "latest", None),
    (SONG, HUB, f"library/{SONG}", "latest", None),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "latest", None),
    ("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", "latest", None),
    (
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "[fc00:1:2:3:4:5:6:7]:5000",
        "library/debian",
        "latest",
        None,
    ),
    (f"docker.io/{HEX_NAME}", HUB, f"library/{HEX_NAME}", "latest", None),
    ("Docker/docker", "Docker", "docker", "latest", None),
    ("DOCKER/docker", "DOCKER", "docker", "latest", None),
    ("docker-rules/docker", HUB, "docker-rules/docker", "latest", None),
    ("docker---rules/docker", HUB, "docker---rules/docker", "latest", None),
    ("doc/docker", HUB, "doc/docker", "latest", None),
    ("d/docker", HUB, "d/docker", "latest", None),
    ("jess/t", HUB, "jess/t", "latest", None),
    ("dock__er/docker", HUB, "dock__er/docker", "latest", None),
    ("localhost/foo", "localhost", "foo", "latest", None),
    ("localhost:5000/foo/bar:v1", "localhost:5000", "foo/bar", "v1", None),
    ("localhost", HUB, "library/localhost", "latest", None),
    ("library/foo/bar", HUB, "library/foo/bar", "latest", None),
    (f"busybox:latest@{BUSY}", HUB, "library/busybox", "latest", BUSY),
    (f"dmcgowan/myapp@{DBCC}", HUB, "dmcgowan/myapp", None, DBCC),
    (f"docker.io/library/redis@{DBCC}", HUB, "library/redis", None, DBCC),
    (DBCC[7:-1], HUB, f"library/{DBCC[7:-1]}", "latest", None),
    ("dbcc1", HUB, "library/dbcc1", "latest", None),
    ("example.com:8000/privatebasee", "example.com:8000", "privatebasee", "latest", None),
    ("test-com:8080/foo", "test-com:8080", "foo", "latest", None),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "latest", None),
    (
        "gcr.io/kaniko-project/executor:v1.23.2",
        "gcr.io",
        "kaniko-project/executor",
        "v1.23.2",
        None,
    ),
    ("registry.example.com/a/b/c/d:1.0_rc-2", "registry.example.com", "a/b/c/d", "1.0_rc-2", None),
    ("UPPER.example.com/repo", "UPPER.example.com", "repo", "latest", None),
    ("quay.io/a.b_c-d/e:_tag", "quay.io", "a.b_c-d/e", "_tag", None),
    ("repo:" + "t" * 128, HUB, "library/repo", "t" * 128, None),
]

INVALID: list[str] = [
    "",
    ":justtag",
    f"@{SHA}",
    "repo@sha256:" + "f" * 34,
    f"validname@invaliddigest:{F64}",
    "Uppercase:tag",
    "test:5000/Uppercase/lowercase:tag",
    "a/" * 128 + "a:tag",
    "aa/asdf$$^/aa",
    "[2001:db8::1]",
    "[2001:db8::1]:5000",
    "[2001:db8::1]:tag",
    "[fe80::1%eth0]:5000/repo",
    "[fe80::1%@invalidzone]:5000/repo",
    "https://github.com/docker/docker",
    "docker/Docker",
    "-docker",
    "-docker/docker",
    "-docker.io/docker/docker",
    "docker///docker",
    "docker.io/docker/Docker",
    "docker.io/docker///docker",
    "[fc00::1]",
    "[fc00::1]:5000",
    "fc00::1:5000/debian",
    "[fe80::1%eth0]:5000/debian",
    "[2001:db8:3:4::192.0.2.33]:5000/debian",
    HEX_NAME,
    "docker-/docker",
    "-docker-/docker",
    "____/____",
    "_docker/_docker",
    "dock..er/docker",
    "dock_.er/docker",
    "dock-.er/docker",
    "docker/",
    "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255" * 4 + "/docker",
    "repo:-tag",
    "repo:.tag",
    "repo:" + "t" * 129,
    "repo@sha256:" + "F" * 64,
    f"repo@{SHA}@{SHA}",
    "repo@",
    "repo:",
    "localhost:99999/repo",
    "localhost:0/repo",
    "host:/repo",
    "repo:tag:tag2",
    "my repo",
    "dock___er/docker",
    "foo/bar/",
    "/foo",
    "[::1/repo",
    "[::1]5000/repo",
    "ubuntu:22.04\n",
]


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), VALID)
def test_valid(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
    assert (str(ref.digest) if ref.digest else None) == digest
    # the fully qualified form reparses to the same reference
    assert Reference.parse(str(ref)) == ref
    assert Reference.parse(ref.familiar()) == ref


@pytest.mark.parametrize("text", INVALID)
def test_invalid(text: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        Reference.parse(text)
    message = str(info.value)
    assert isinstance(info.value, KanikoError)
    assert repr(text) in message
    assert "\n" not in message
