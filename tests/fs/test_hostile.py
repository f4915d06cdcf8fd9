"""Hostile layers: nothing may be written, changed or removed outside the extraction root.

Each case is a list of layers built with tarfile (plus, for some, something planted in the
root first, as an earlier layer or the host could have). Next to the root sits a sentinel
directory; after the extraction every path outside the root must be exactly as before
(type, mode, owner, link count, content, xattrs, mtime), and the layer must be refused with
a FilesystemError or contained, as the case says.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kaniko.errors import FilesystemError
from kaniko.fs.unpack import apply_layer
from tests.fs.helpers import M, layer, snapshot_outside


@dataclass
class Case:
    id: str
    layers: Callable[[str], list[list[M]]]  # given the sentinel's absolute path
    outcome: str  # "refused" or "contained"
    setup: Callable[[Path, Path], None] | None = None  # (root, sentinel)
    extra: list[str] = field(default_factory=list)


def _plant_symlink(name: str, target: Callable[[Path], str]) -> Callable[[Path, Path], None]:
    def setup(root: Path, sentinel: Path) -> None:
        os.symlink(target(sentinel), root / name)

    return setup


def _plant_hardlink(root: Path, sentinel: Path) -> None:
    os.link(sentinel / "secret", root / "victim")


def _chain(s: str) -> list[list[M]]:
    links = [M(f"s{i}", "symlink", link=f"s{i + 1}") for i in range(40)]
    return [[*links, M("s40", "symlink", link=s), M("s0/pwned", data=b"x")]]


CASES = [
    Case("dotdot", lambda s: [[M("../sentinel/pwned", data=b"x")]], "refused"),
    Case("dotdot-deep", lambda s: [[M("a/../../sentinel/pwned", data=b"x")]], "refused"),
    Case("dot-dotdot", lambda s: [[M("./../sentinel/pwned", data=b"x")]], "refused"),
    Case("absolute-name", lambda s: [[M(s + "/pwned", data=b"x")]], "contained"),
    Case(
        "pax-path-dotdot",
        lambda s: [[M("innocent", data=b"x", pax={"path": "../sentinel/pwned"})]],
        "refused",
    ),
    Case(
        "long-name-dotdot",
        lambda s: [[M("a/" * 60 + "../" * 61 + "sentinel/pwned", data=b"x")]],
        "refused",
    ),
    Case(
        "symlink-parent-absolute",
        lambda s: [[M("evil", "symlink", link=s), M("evil/pwned", data=b"x")]],
        "contained",
    ),
    Case(
        "symlink-parent-relative",
        lambda s: [[M("evil", "symlink", link="../sentinel"), M("evil/pwned", data=b"x")]],
        "contained",
    ),
    Case(
        "symlink-parent-chain",
        lambda s: [
            [
                M("a", "symlink", link="b"),
                M("b", "symlink", link="c/../../../.." + s),
                M("a/pwned", data=b"x"),
            ]
        ],
        "contained",
    ),
    Case(
        "symlink-deep-dotdot",
        lambda s: [[M("x/y/z", "symlink", link="../" * 9 + s[1:]), M("x/y/z/pwned", data=b"x")]],
        "contained",
    ),
    Case(
        "etc-link-across-layers",
        lambda s: [[M("etc", "symlink", link=s)], [M("etc/secret", data=b"owned")]],
        "contained",
    ),
    Case(
        "symlink-loop",
        lambda s: [
            [M("l1", "symlink", link="l2"), M("l2", "symlink", link="l1"), M("l1/x", data=b"x")]
        ],
        "refused",
    ),
    Case("symlink-chain-41", _chain, "refused"),
    Case(
        "hardlink-dotdot",
        lambda s: [[M("hl", "hardlink", link="../sentinel/secret")]],
        "refused",
    ),
    Case("hardlink-absolute", lambda s: [[M("hl", "hardlink", link=s + "/secret")]], "refused"),
    Case(
        "hardlink-symlinked-parent",
        lambda s: [[M("s", "symlink", link=s), M("hl", "hardlink", link="s/secret")]],
        "refused",
    ),
    Case(
        "hardlink-pax-linkpath",
        lambda s: [[M("hl", "hardlink", link="x", pax={"linkpath": "../../etc/shadow"})]],
        "refused",
    ),
    Case(
        "hardlink-to-outward-symlink",
        lambda s: [[M("s", "symlink", link=s + "/secret"), M("hl", "hardlink", link="s")]],
        "contained",
    ),
    Case("root-symlink", lambda s: [[M(".", "symlink", link=s)]], "refused"),
    Case("root-slash-symlink", lambda s: [[M("./", "symlink", link="..")]], "refused"),
    Case("root-hardlink", lambda s: [[M("f", data=b"x"), M(".", "hardlink", link="f")]], "refused"),
    Case("hardlink-to-root", lambda s: [[M("hl", "hardlink", link=".")]], "refused"),
    Case("whiteout-dotdot", lambda s: [[M("../sentinel/.wh.secret")]], "refused"),
    Case("whiteout-named-dotdot", lambda s: [[M("sub/.wh...")]], "refused"),
    Case(
        "whiteout-through-symlink",
        lambda s: [[M("s", "symlink", link=s), M("s/.wh.secret")]],
        "contained",
    ),
    Case(
        "opaque-through-relative-symlink",
        lambda s: [[M("s", "symlink", link=".."), M("s/.wh..wh..opq")]],
        "contained",
    ),
    Case(
        "opaque-through-planted-symlink",
        lambda s: [[M("s/.wh..wh..opq")]],
        "contained",
        setup=_plant_symlink("s", str),
    ),
    Case(
        "whiteout-of-outward-symlink",
        lambda s: [[M(".wh.s")]],
        "contained",
        setup=_plant_symlink("s", str),
    ),
    Case(
        "whiteout-of-symlink-added-same-layer",
        lambda s: [[M("s", "symlink", link=s), M(".wh.s")]],
        "contained",
    ),
    Case(
        "opaque-over-added-outward-symlink",
        lambda s: [[M("d", "dir"), M("d/s", "symlink", link=s), M("d/.wh..wh..opq")]],
        "contained",
    ),
    Case(
        "file-over-outward-symlink",
        lambda s: [[M("x", "symlink", link=s + "/secret"), M("x", data=b"owned")]],
        "contained",
    ),
    Case(
        "file-over-planted-symlink",
        lambda s: [[M("x", data=b"owned", mode=0o777)]],
        "contained",
        setup=_plant_symlink("x", lambda sentinel: str(sentinel / "secret")),
    ),
    Case(
        "dir-over-outward-symlink",
        lambda s: [[M("d", "symlink", link=s), M("d", "dir"), M("d/pwned", data=b"x")]],
        "contained",
    ),
    Case(
        "symlink-metadata-not-followed",
        lambda s: [
            [
                M(
                    "x",
                    "symlink",
                    link=s + "/secret",
                    mode=0o777,
                    uid=4321,
                    gid=4321,
                    mtime=5,
                    pax={"SCHILY.xattr.user.evil": "1", "SCHILY.xattr.trusted.evil": "1"},
                )
            ]
        ],
        "contained",
    ),
    Case(
        "write-into-hardlinked-victim",
        lambda s: [[M("victim", data=b"owned")]],
        "contained",
        setup=_plant_hardlink,
    ),
    Case(
        "fifo-through-symlink",
        lambda s: [[M("s", "symlink", link=s), M("s/fifo", "fifo")]],
        "contained",
    ),
    Case(
        "device-through-symlink",
        lambda s: [[M("s", "symlink", link=s), M("s/null", "char", dev=(1, 3))]],
        "contained",
    ),
    Case(
        "deferred-dir-metadata-after-replacement",
        lambda s: [
            [
                M("d", "dir", mode=0o700),
                M("d/sub", "dir", mode=0o777, mtime=1),
                M("d", "symlink", link=s),
            ]
        ],
        "contained",
    ),
    Case(
        "dir-mtime-through-planted-symlink",
        lambda s: [[M("s/sub", "dir", mode=0o777, mtime=1)]],
        "contained",
        setup=_plant_symlink("s", str),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_layer_cannot_touch_outside(tmp_path: Path, case: Case) -> None:
    root, sentinel = tmp_path / "root", tmp_path / "sentinel"
    root.mkdir()
    (sentinel / "sub").mkdir(parents=True)
    (sentinel / "secret").write_bytes(b"s3cret")
    os.chmod(sentinel / "secret", 0o600)
    before = snapshot_outside(tmp_path, root)  # a planted hard link is undone by the layer
    if case.setup is not None:
        case.setup(root, sentinel)

    refused = None
    try:
        for members in case.layers(str(sentinel)):
            apply_layer(io.BytesIO(layer(*members)), root)
    except FilesystemError as e:
        refused = e

    assert snapshot_outside(tmp_path, root) == before
    assert (sentinel / "secret").read_bytes() == b"s3cret"
    if case.outcome == "refused":
        assert refused is not None, "expected the layer to be refused"
        assert "layer entry" in str(refused)
    else:
        assert refused is None, f"expected the layer to be contained, got {refused}"


def test_there_are_at_least_25_hostile_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 25
