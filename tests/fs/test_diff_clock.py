"""The coarse-clock problem: a file rewritten with the same size in two consecutive steps
must never be missed, even when ctime, mtime, size and inode all come out identical.

Recent kernels give ext4/xfs/btrfs/tmpfs fine-grained ctimes once a ctime has been read
(multigrain timestamps), which hides the problem there; ramfs still stamps from the coarse
clock, so the decisive test runs on a ramfs mounted in a private mount namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kaniko.fs.diff import diff, is_modified
from kaniko.fs.inventory import META_FIELDS, FileRecord, Inventory, scan

ROUNDS = 50

# Runs ROUNDS consecutive steps that each rewrite one file with new bytes of the same size,
# taking an inventory after each; reports misses and how often the metadata collided.
CHAIN = textwrap.dedent(
    """
    import json, os, sys
    from kaniko.fs.diff import diff
    from kaniko.fs.inventory import META_FIELDS, FileRecord, Inventory, scan

    root, rounds = sys.argv[1], int(sys.argv[2])
    path = os.path.join(root, "f")
    missed = collided = 0
    with open(path, "wb") as fh:
        fh.write(b"%08d" % 0)
    old = Inventory.take(root)
    for i in range(1, rounds + 1):
        with open(path, "r+b") as fh:
            fh.write(b"%08d" % i)
        new = Inventory.take(root)
        if new["f"][:9] == old["f"][:9]:
            collided += 1
        if diff(old.records, new.records, root=root).modified != ("f",):
            missed += 1
        old = new
    print(json.dumps({"missed": missed, "collided": collided}))
    """
)


def run_chain(root: Path) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", CHAIN, str(root), str(ROUNDS)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_same_size_rewrites_never_missed_here(tmp_path: Path) -> None:
    path = tmp_path / "f"
    for i in range(ROUNDS):
        path.write_bytes(b"A%07d" % i)
        before = Inventory.take(tmp_path)
        path.write_bytes(b"B%07d" % i)  # same size, immediately
        after = Inventory.take(tmp_path)
        changes = diff(before.records, after.records, root=str(tmp_path))
        assert changes.modified == ("f",), f"round {i}"
    assert run_chain(tmp_path)["missed"] == 0


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_same_size_rewrites_never_missed_on_a_coarse_clock(tmp_path: Path) -> None:
    mnt = tmp_path / "ramfs"
    mnt.mkdir()
    script = f'mount -t ramfs none {mnt} && exec "$@"'
    cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
    cmd += [sys.executable, "-c", CHAIN, str(mnt), str(ROUNDS)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0 and ("permitted" in out.stderr or "denied" in out.stderr):
        pytest.skip(f"cannot mount a ramfs here: {out.stderr.strip()}")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["collided"] > 0, "the coarse clock never collided: the test proved nothing"
    assert result["missed"] == 0, result


def test_identical_metadata_settled_by_digests(tmp_path: Path) -> None:
    """What the coarse clock does, made deterministic: the new record's stat fields are
    forced equal to the old ones, as a rewrite within one tick leaves them."""
    path = tmp_path / "f"
    path.write_bytes(b"first!")
    before = Inventory.take(tmp_path)
    assert before["f"].suspect
    path.write_bytes(b"second")
    after = Inventory.take(tmp_path, digests=False)
    forged = {"f": before["f"]._replace(xattrs=None, content=None)}
    assert forged["f"] != after["f"]  # the real kernel did move something
    assert diff(before.records, forged, root=str(tmp_path)).modified == ("f",)
    assert diff(before.records, forged, root=str(tmp_path), mode="redo").modified == ()
    # Without a root to re-hash from, a suspect counts as modified rather than missed.
    assert is_modified(before["f"], forged["f"], root=None)
    # The same bytes again: no false positive.
    path.write_bytes(b"first!")
    assert diff(before.records, forged, root=str(tmp_path)).modified == ()
    # An xattr set within the tick is caught too.
    try:
        os.setxattr(path, "user.k", b"v")
    except OSError:
        return
    assert diff(before.records, forged, root=str(tmp_path)).modified == ("f",)


def test_records_outside_the_window_trust_metadata(tmp_path: Path) -> None:
    """A record taken well after its file's ctime is conclusive: digests are not consulted."""
    path = tmp_path / "f"
    path.write_bytes(b"data")
    settled = scan(str(tmp_path), "", ignore=None, started_ns=time.time_ns() + 10**12, digests=True)
    assert not settled["f"].suspect
    path.write_bytes(b"DATA")
    fresh = Inventory.take(tmp_path)["f"]
    assert fresh.suspect and fresh.content != settled["f"].content
    same_stat = FileRecord(*settled["f"][:META_FIELDS], fresh.xattrs, fresh.content)
    assert not is_modified(settled["f"], same_stat, root=str(tmp_path))
