"""The header encoder of tarwrite, read back by Python's tarfile and by GNU tar."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.fs.tarformat import DIRTYPE, LNKTYPE, REGTYPE, SYMTYPE, encode_header

NS = 1_000_000_000

names = st.text(
    st.characters(blacklist_characters="\0/", blacklist_categories=("Cs",)), min_size=1, max_size=40
)
paths = st.lists(names, min_size=1, max_size=8).map("/".join)
raw_names = st.binary(min_size=1, max_size=30).filter(lambda b: b"\0" not in b and b"/" not in b)


def parse(blob: bytes) -> tarfile.TarInfo:
    with tarfile.open(fileobj=io.BytesIO(blob + b"\0" * 1024), mode="r|") as tar:
        member = tar.next()
        assert member is not None
        return member


@settings(max_examples=150, deadline=None)
@given(
    name=paths | raw_names.map(os.fsdecode),
    mode=st.integers(0, 0o7777),
    uid=st.integers(0, 2**32 - 1),
    gid=st.integers(0, 2**32 - 1),
    mtime_ns=st.integers(-(2**40) * NS, 2**36 * NS),
    link=st.none() | paths,
    xattrs=st.dictionaries(
        st.sampled_from(["user.a", "user.ü", "security.capability"]), st.binary(max_size=40)
    ),
)
def test_headers_read_back_exactly(
    name: str,
    mode: int,
    uid: int,
    gid: int,
    mtime_ns: int,
    link: str | None,
    xattrs: dict[str, bytes],
) -> None:
    typeflag = SYMTYPE if link else REGTYPE
    blob = encode_header(
        name,
        typeflag,
        mode=mode,
        uid=uid,
        gid=gid,
        mtime_ns=mtime_ns,
        link=link or "",
        xattrs=sorted(xattrs.items()),
    )
    assert len(blob) % 512 == 0
    m = parse(blob)
    assert os.fsencode(m.name) == os.fsencode(name)
    assert (m.mode, m.uid, m.gid, m.type) == (mode, uid, gid, typeflag)
    assert os.fsencode(m.linkname) == os.fsencode(link or "")
    pax_mtime = m.pax_headers.get("mtime")
    if mtime_ns % NS:
        assert pax_mtime is not None
        whole, _, frac = pax_mtime.lstrip("-").partition(".")
        sign = -1 if pax_mtime.startswith("-") else 1
        assert sign * (int(whole) * NS + int(frac.ljust(9, "0"))) == mtime_ns
    else:
        assert int(m.mtime) == mtime_ns // NS
    got = {
        k[len("SCHILY.xattr.") :]: v.encode("utf-8", "surrogateescape")
        for k, v in m.pax_headers.items()
        if k.startswith("SCHILY.xattr.")
    }
    assert got == xattrs


def test_plain_headers_need_no_pax() -> None:
    blob = encode_header("etc/passwd", REGTYPE, mode=0o644, size=10, mtime_ns=5 * NS)
    assert len(blob) == 512 and blob[156:157] == REGTYPE
    assert encode_header("etc/passwd", REGTYPE, mtime_ns=5 * NS + 1)[156:157] == b"x"


def test_huge_sizes_go_to_pax() -> None:
    m = parse(encode_header("big", REGTYPE, size=2**34))
    assert m.size == 2**34 and m.pax_headers["size"] == str(2**34)


def test_types_and_links() -> None:
    assert parse(encode_header("d/", DIRTYPE)).isdir()
    hard = parse(encode_header("b", LNKTYPE, link="a" * 150))
    assert hard.islnk() and hard.linkname == "a" * 150


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar is not installed")
def test_gnu_tar_lists_what_we_encode(tmp_path: Path) -> None:
    long_name = "dir/" + "x" * 200
    body = b"hello"
    blob = (
        encode_header("dir/", DIRTYPE, mode=0o755)
        + encode_header(
            long_name, REGTYPE, mode=0o600, size=len(body), uid=3_000_000, mtime_ns=-5 * NS
        )
        + body
        + b"\0" * (512 - len(body))
        + b"\0" * 1024
    )
    (tmp_path / "t.tar").write_bytes(blob)
    out = subprocess.run(
        ["tar", "--numeric-owner", "-tvf", str(tmp_path / "t.tar")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert out[0].startswith("drwxr-xr-x 0/0")
    assert out[1].startswith("-rw------- 3000000/0") and out[1].endswith(long_name)
