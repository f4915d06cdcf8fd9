"""COPY rules the conformance suite (tests/e2e/conformance) found us getting wrong.

Each test pins one BuildKit behaviour that buildah 1.28 shares:

- a destination ending in ``/.`` is cleaned to a plain path: one file lands *as* it;
- ``--chown=name`` without a group takes the user's primary group from the image's
  passwd (a numeric uid alone is also its gid);
- files hard-linked together in the context stay linked within one source argument, but
  two source arguments are two separate copies.
"""

from __future__ import annotations

import os
from pathlib import Path

from kaniko.fs.users import resolve_chown
from tests.executor.helpers import cp, make_context, make_root, run


def _root(tmp_path: Path) -> Path:
    root = make_root(tmp_path)
    with open(root / "etc/passwd", "a") as passwd:
        passwd.write("svc:x:1000:1500:svc:/home/svc:/bin/sh\n")
    with open(root / "etc/group", "a") as group:
        group.write("svcgrp:x:1500:\n")
    return root


def test_dest_ending_in_slash_dot_is_a_file_path(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "ctx")
    root = _root(tmp_path)
    run(cp("a.txt", "/dot/."), ctx, root)
    assert (root / "dot").is_file()
    assert (root / "dot").read_text() == "A"


def test_chown_name_alone_takes_primary_group(tmp_path: Path) -> None:
    root = _root(tmp_path)
    assert resolve_chown(root, "svc") == (1000, 1500)
    assert resolve_chown(root, "1000") == (1000, 1000)
    assert resolve_chown(root, "svc:svcgrp") == (1000, 1500)
    assert resolve_chown(root, "4321") == (4321, 4321)


def test_chown_names_not_in_the_image_fall_back_as_buildkit(tmp_path: Path) -> None:
    """BuildKit's readUser: a name not in passwd is uid 0 (its gid 0), a group not in
    /etc/group keeps the user part's gid; nothing fails."""
    ctx = make_context(tmp_path / "ctx")
    root = _root(tmp_path)
    run(cp("a.txt", "/ghost/", chown="ghost:ghosts"), ctx, root)
    run(cp("a.txt", "/svc/", chown="svc:ghosts"), ctx, root)
    for path, owner in (("ghost", (0, 0)), ("ghost/a.txt", (0, 0)), ("svc/a.txt", (1000, 1500))):
        st = os.lstat(root / path)
        assert (st.st_uid, st.st_gid) == owner, path


def test_chown_name_alone_applies_to_created_parents(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "ctx")
    root = _root(tmp_path)
    run(cp("a.txt", "/made/here/", chown="svc"), ctx, root)
    for path in ("made", "made/here", "made/here/a.txt"):
        st = os.lstat(root / path)
        assert (st.st_uid, st.st_gid) == (1000, 1500), path


def test_hardlinks_do_not_cross_source_arguments(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "ctx")
    root = _root(tmp_path)
    run(cp("dir/hard1", "dir/hard2", "/sep/"), ctx, root)
    run(cp("dir", "/together/"), ctx, root)
    assert os.lstat(root / "sep/hard1").st_ino != os.lstat(root / "sep/hard2").st_ino
    assert os.lstat(root / "sep/hard1").st_nlink == 1
    together = os.lstat(root / "together/hard1")
    assert together.st_ino == os.lstat(root / "together/hard2").st_ino
    assert together.st_nlink == 2
