from __future__ import annotations

import pytest

from kaniko.registry.challenge import Challenge, parse_challenges, pick


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Basic realm="Registry Realm"', [Challenge("basic", {"realm": "Registry Realm"})]),
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/busybox:pull"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "https://auth.docker.io/token",
                        "service": "registry.docker.io",
                        "scope": "repository:library/busybox:pull",
                    },
                )
            ],
        ),
        (
            'Bearer realm="r",error="insufficient_scope",scope="repository:a:pull,push"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "r",
                        "error": "insufficient_scope",
                        "scope": "repository:a:pull,push",
                    },
                )
            ],
        ),
        ("bearer realm=tok", [Challenge("bearer", {"realm": "tok"})]),
        (
            'Basic realm="a", Bearer realm="b", service="s"',
            [
                Challenge("basic", {"realm": "a"}),
                Challenge("bearer", {"realm": "b", "service": "s"}),
            ],
        ),
        ('Basic realm="quo\\"ted"', [Challenge("basic", {"realm": 'quo"ted'})]),
        ("Negotiate", [Challenge("negotiate", {})]),
        ("", []),
    ],
)
def test_parse(header: str, expected: list[Challenge]) -> None:
    assert parse_challenges(header) == expected


def test_properties_and_pick() -> None:
    [c] = parse_challenges(
        'Bearer realm="r",service="s",scope="repository:a:pull repository:b:push"'
    )
    assert (c.realm, c.service) == ("r", "s")
    assert c.scopes == ("repository:a:pull", "repository:b:push")
    both = parse_challenges('Basic realm="x", Bearer realm="y"')
    assert pick(both).scheme == "bearer"
    assert pick(parse_challenges('Basic realm="x"')).scheme == "basic"
    assert pick(parse_challenges("Negotiate")) is None
