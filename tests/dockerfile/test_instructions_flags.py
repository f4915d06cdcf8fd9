"""Flag words, Go durations and ``--mount`` specs, checked directly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.dockerfile.flags import FlagError, FlagKind, parse_duration, parse_flags
from kaniko.dockerfile.mounts import Mount, MountError, parse_mount, ram_in_bytes

SPEC = {"link": FlagKind.BOOL, "from": FlagKind.STRING, "exclude": FlagKind.STRINGS}


@pytest.mark.parametrize(
    ("words", "found"),
    [
        ((), {}),
        (("--link",), {"link": True}),
        (("--link=True",), {"link": True}),
        (("--link=false",), {"link": False}),
        (("--from=",), {"from": ""}),
        (("--from=a=b",), {"from": "a=b"}),
        (("--exclude=a", "--exclude=b"), {"exclude": ("a", "b")}),
        (("--link", "--", "--bogus"), {"link": True}),
    ],
)
def test_parse_flags_accepts(words: tuple[str, ...], found: dict[str, object]) -> None:
    assert parse_flags(words, SPEC) == found


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("-link",), "arg should start with -- : -link"),
        (("--nope",), "unknown flag: nope"),
        (("--from",), "missing a value on flag: from"),
        (("--exclude",), "missing a value on flag: exclude"),
        (("--link", "--link"), "duplicate flag specified: link"),
        (("--from=a", "--from=b"), "duplicate flag specified: from"),
        (("--link=yes",), "expecting boolean value for flag link, not: yes"),
    ],
)
def test_parse_flags_refuses(words: tuple[str, ...], message: str) -> None:
    with pytest.raises(FlagError) as info:
        parse_flags(words, SPEC)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("1ns", 1),
        ("1us", 1_000),
        ("1µs", 1_000),
        ("3ms", 3_000_000),
        ("1.5s", 1_500_000_000),
        (".5s", 500_000_000),
        ("2m", 120 * 10**9),
        ("1h2m3s", 3723 * 10**9),
        ("-1m", -60 * 10**9),
        ("+10s", 10 * 10**9),
    ],
)
def test_parse_duration(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["", "s", "1", "1.5", "1x", "5s3", ".s", "-", "1h-2m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(FlagError, match=r"^time: "):
        parse_duration(text)


@settings(max_examples=60)
@given(h=st.integers(0, 99), m=st.integers(0, 59), s=st.integers(0, 59), ms=st.integers(0, 999))
def test_duration_round_trip(h: int, m: int, s: int, ms: int) -> None:
    text = f"{h}h{m}m{s}s{ms}ms"
    assert parse_duration(text) == ((h * 60 + m) * 60 + s) * 10**9 + ms * 10**6


@pytest.mark.parametrize(
    ("spec", "mount"),
    [
        ("target=/src", Mount(target="/src", readonly=True)),
        ("type=bind,src=a,dst=/b,rw", Mount(source="a", target="/b", readonly=False)),
        ("type=bind,target=/b,readwrite=true", Mount(target="/b", readonly=False)),
        (
            "type=cache,target=/c,id=go,mode=0700,uid=10,gid=20,ro",
            Mount(type="cache", target="/c", id="go", sharing="shared", mode=0o700, uid=10, gid=20),
        ),
        (
            "type=tmpfs,destination=/t,size=64m",
            Mount(type="tmpfs", target="/t", readonly=False, size=64 * 2**20),
        ),
        (
            "type=secret,target=/etc/tok,required",
            Mount(type="secret", target="/etc/tok", id="tok", required=True),
        ),
        ("type=secret,id=npm,env=NPM_TOKEN", Mount(type="secret", id="npm", env="NPM_TOKEN")),
        ("type=secret,source=aws", Mount(type="secret", id="aws", target="/run/secrets/aws")),
        ("type=ssh,required=true", Mount(type="ssh", id="default", required=True)),
        ('type=bind,"target=/a,b"', Mount(target="/a,b")),
    ],
)
def test_parse_mount(spec: str, mount: Mount) -> None:
    assert parse_mount(spec) == mount


def test_mount_csv_must_be_well_formed() -> None:
    with pytest.raises(MountError, match="failed to parse csv mounts"):
        parse_mount('type=bind,"target=/a')


def test_mount_values_expand_but_from_does_not() -> None:
    env = {"$DIR": "/cache", "$U": "42"}
    mount = parse_mount("type=cache,target=$DIR,uid=$U,from=base", lambda w: env.get(w, w))
    assert (mount.target, mount.uid, mount.from_, mount.id) == ("/cache", 42, "base", "/cache")


@pytest.mark.parametrize(
    ("spec", "mount"),
    [
        ("type=cache,target=/c,uid=$UID", Mount(type="cache", target="/c")),
        ("type=$T,target=/x,uid=1", Mount(target="/x", uid=1)),
        ("type=cache,target=$DIR", Mount(type="cache", target="$DIR")),
    ],
)
def test_mount_variables_wait_for_the_planner(spec: str, mount: Mount) -> None:
    assert parse_mount(spec) == mount  # unchecked until expanded: no defaults, no errors


@pytest.mark.parametrize(
    ("text", "size"),
    [("512", 512), ("1k", 1024), ("1KiB", 1024), ("2mb", 2 * 2**20), ("1.5g", 3 * 2**29)],
)
def test_ram_in_bytes(text: str, size: int) -> None:
    assert ram_in_bytes(text) == size
