"""COPY semantics, one table row per rule: what lands where, with which metadata.

Every row copies from the same build context (tests/executor/helpers.py) into a
fresh stage root and checks the resulting entries with ``lstat``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kaniko.dockerfile.commands import Add, Copy
from tests.executor.helpers import (
    T_SUB,
    D,
    Expect,
    F,
    Fifo,
    L,
    T,
    check,
    cp,
    doc,
    make_context,
    make_root,
    make_stage,
    run,
)


@dataclass(frozen=True)
class Case:
    id: str
    instr: Copy | Add
    expect: dict[str, Expect]
    workdir: str = "/"
    ignore: list[str] | None = None
    from_stage: bool = False
    written: tuple[str, ...] | None = None  # the exact list copy_step returns, if given
    extra: dict[str, object] = field(default_factory=dict)


ROOT_OWNED = (0, 0)
APP = (1000, 1000)

CASES = [
    # -- files, destinations, trailing slashes ----------------------------------------
    Case(
        "file-to-file",
        cp("a.txt", "/new.txt"),
        {"/new.txt": F("A", 0o644, ROOT_OWNED)},
        written=("/new.txt",),
    ),
    Case(
        "file-to-dir-slash",
        cp("a.txt", "/d/"),
        {"/d/a.txt": F("A"), "/d": D(0o755)},
        written=("/d", "/d/a.txt"),
    ),
    Case(
        "file-into-existing-dir",
        cp("a.txt", "/existing_dir"),
        {"/existing_dir/a.txt": F("A"), "/existing_dir": D(0o700, (7, 7))},
    ),
    Case("file-overwrites-file", cp("a.txt", "/existing.txt"), {"/existing.txt": F("A")}),
    Case("absolute-source-is-context-relative", cp("/a.txt", "/abs.txt"), {"/abs.txt": F("A")}),
    Case("dot-slash-source", cp("./dir/x.txt", "/x1"), {"/x1": F("X")}),
    Case("workdir-relative", cp("a.txt", "rel.txt"), {"/app/rel.txt": F("A")}, workdir="/app"),
    Case("workdir-dot", cp("a.txt", "."), {"/app/a.txt": F("A")}, workdir="/app"),
    Case("workdir-relative-dir", cp("a.txt", "./sub/"), {"/app/sub/a.txt": F("A")}, workdir="/app"),
    Case("workdir-parent-dir", cp("a.txt", "../up.txt"), {"/up.txt": F("A")}, workdir="/app"),
    Case("space-in-name", cp("space name.txt", "/s/"), {"/s/space name.txt": F("space")}),
    # -- directories ------------------------------------------------------------------
    Case(
        "dir-copies-contents",
        cp("dir", "/out"),
        {
            "/out/x.txt": F("X"),
            "/out/sub/y.txt": F("Y"),
            "/out/.hidden": F("H", 0o640),
            "/out/dir": None,
            "/out": D(0o755, ROOT_OWNED),
        },
    ),
    Case("dir-slash", cp("dir/", "/out/"), {"/out/x.txt": F("X"), "/out/dir": None}),
    Case(
        "context-root",
        cp(".", "/ctx/"),
        {"/ctx/a.txt": F("A"), "/ctx/dir/x.txt": F("X"), "/ctx/tree/e/f.txt": F("TF")},
    ),
    Case("dir-into-root", cp("tree/e", "/"), {"/f.txt": F("TF")}),
    Case(
        "dir-existing-top-keeps-metadata",
        cp("tree/e", "/existing_dir"),
        {"/existing_dir": D(0o700, (7, 7), T), "/existing_dir/f.txt": F("TF")},
    ),
    Case(
        "dir-into-tmp-keeps-sticky",
        cp("tree/e", "/tmp"),
        {"/tmp": D(0o1777, ROOT_OWNED), "/tmp/f.txt": F("TF")},
    ),
    Case(
        "nested-existing-dir-takes-source-mode",
        cp("dir", "/out2"),
        {"/out2/sub": D(0o700, ROOT_OWNED, T_SUB), "/out2/sub/y.txt": F("Y")},
    ),
    Case(
        "nested-dir-through-symlink",
        cp("dir", "/out3"),
        {"/out3/sub": L("../realsub"), "/realsub/y.txt": F("Y"), "/out3/x.txt": F("X")},
    ),
    Case(
        "dir-written-list",
        cp("tree/a", "/ta"),
        {"/ta/b/c.txt": F("TC")},
        written=("/ta", "/ta/b", "/ta/b/c.txt", "/ta/d.md"),
    ),
    # -- wildcards ----------------------------------------------------------------------
    Case(
        "star",
        cp("file*.txt", "/w/"),
        {"/w/file1.txt": F("1"), "/w/file2.txt": F("2"), "/w/fileA.txt": F("FA")},
    ),
    Case("question-mark", cp("q?.txt", "/w/"), {"/w/q1.txt": F("q1"), "/w/q22.txt": None}),
    Case(
        "class-range",
        cp("file[0-9].txt", "/w/"),
        {"/w/file1.txt": F("1"), "/w/file2.txt": F("2"), "/w/fileA.txt": None},
    ),
    Case(
        "class-negated",
        cp("file[^0-9].txt", "/w/"),
        {"/w/fileA.txt": F("FA"), "/w/file1.txt": None},
    ),
    Case("escaped-bracket", cp("*\\[x\\]*", "/w/"), {"/w/[x].txt": F("bracket")}),
    Case("class-matching-bracket", cp("[[]x].txt", "/w/"), {"/w/[x].txt": F("bracket")}),
    Case(
        "wildcard-dir-copies-contents",
        cp("di?", "/w/"),
        {"/w/x.txt": F("X"), "/w/sub/y.txt": F("Y"), "/w/dir": None},
    ),
    Case("wildcard-deep", cp("tree/*/*/c.txt", "/w/"), {"/w/c.txt": F("TC")}),
    Case("wildcard-middle", cp("tree/*/d.md", "/w/"), {"/w/d.md": F("TD")}),
    Case("wildcard-one-match-to-file", cp("exec.*", "/single"), {"/single": F("#!/bin/sh\n")}),
    Case("wildcard-no-match-is-empty", cp("nomatch*", "/nm/"), {"/nm": None}, written=()),
    Case(
        "star-does-not-cross-slash",
        cp("*.txt", "/w/"),
        {"/w/a.txt": F("A"), "/w/x.txt": None, "/w/c.txt": None},
    ),
    # -- several sources -----------------------------------------------------------------
    Case("multi-to-dir", cp("a.txt", "b.txt", "/m/"), {"/m/a.txt": F("A"), "/m/b.txt": F("B")}),
    Case(
        "multi-to-existing-dir",
        cp("a.txt", "b.txt", "/existing_dir"),
        {"/existing_dir/a.txt": F("A"), "/existing_dir/b.txt": F("B")},
    ),
    Case(
        "multi-mixed-dir-and-file",
        cp("tree/e", "a.txt", "/mm/"),
        {"/mm/f.txt": F("TF"), "/mm/a.txt": F("A")},
    ),
    # -- parents and symlinks in the destination ---------------------------------------
    Case(
        "missing-parents",
        cp("a.txt", "/p/q/r/a.txt"),
        {"/p": D(0o755, ROOT_OWNED), "/p/q/r": D(0o755), "/p/q/r/a.txt": F("A")},
        written=("/p", "/p/q", "/p/q/r", "/p/q/r/a.txt"),
    ),
    Case(
        "dest-through-symlinked-dir",
        cp("a.txt", "/etc/service/"),
        {"/var/service/a.txt": F("A"), "/etc/service": L("../var/service")},
        written=("/var/service/a.txt",),
    ),
    Case(
        "dest-file-through-symlinked-dir",
        cp("a.txt", "/etc/service/run/x"),
        {"/var/service/run/x": F("A"), "/etc/service": L("../var/service")},
    ),
    Case(
        "dest-final-symlink-followed",
        cp("a.txt", "/lnk"),
        {"/lnk": L("existing.txt"), "/existing.txt": F("A")},
    ),
    Case(
        "merged-usr-tree",
        cp("rootfs/", "/"),
        {"/lib": L("usr/lib"), "/usr/lib/mod.so": F("MOD", 0o755)},
    ),
    # -- ownership -------------------------------------------------------------------------
    Case("context-owner-is-root", cp("a.txt", "/o.txt"), {"/o.txt": F("A", owner=ROOT_OWNED)}),
    Case("chown-name", cp("a.txt", "/o.txt", chown="app"), {"/o.txt": F("A", owner=APP)}),
    Case(
        "chown-ids",
        cp("a.txt", "/o.txt", chown="1234:5678"),
        {"/o.txt": F("A", owner=(1234, 5678))},
    ),
    Case(
        "chown-name-group",
        cp("a.txt", "/o.txt", chown="app:staff"),
        {"/o.txt": F("A", owner=(1000, 50))},
    ),
    Case(
        "chown-uid-group-name",
        cp("a.txt", "/o.txt", chown="33:staff"),
        {"/o.txt": F("A", owner=(33, 50))},
    ),
    Case(
        "chown-created-parents",
        cp("a.txt", "/cp/deep/a.txt", chown="app"),
        {"/cp": D(0o755, APP), "/cp/deep": D(0o755, APP), "/cp/deep/a.txt": F("A", owner=APP)},
    ),
    Case(
        "chown-keeps-existing-parents",
        cp("a.txt", "/existing_dir/a", chown="app"),
        {"/existing_dir": D(0o700, (7, 7)), "/existing_dir/a": F("A", owner=APP)},
    ),
    Case(
        "chown-tree",
        cp("dir", "/co", chown="www-data"),
        {
            "/co": D(owner=(33, 33)),
            "/co/sub": D(owner=(33, 33)),
            "/co/link": L("x.txt"),
            "/co/sub/y.txt": F("Y", owner=(33, 33)),
        },
    ),
    Case(
        "from-keeps-owner",
        cp("/app/bin", "/opt/", from_="builder"),
        {"/opt/tool": F("TOOL", 0o750, (42, 43)), "/opt": D(0o755, ROOT_OWNED)},
        from_stage=True,
    ),
    Case(
        "from-chown",
        cp("/app/bin/tool", "/opt/", from_="builder", chown="app"),
        {"/opt/tool": F("TOOL", owner=APP)},
        from_stage=True,
    ),
    Case(
        "from-symlink-source-followed",
        cp("/toollink", "/t", from_="0"),
        {"/t": F("TOOL", 0o750)},
        from_stage=True,
    ),
    Case(
        "from-ignores-dockerignore",
        cp("/app/doc.md", "/doc.md", from_="0"),
        {"/doc.md": F("DOC")},
        from_stage=True,
        ignore=["**/*.md"],
    ),
    # -- modes and times ---------------------------------------------------------------------
    Case(
        "modes-kept",
        cp("exec.sh", "b.txt", "/k/"),
        {"/k/exec.sh": F("#!/bin/sh\n", 0o755), "/k/b.txt": F("B", 0o600)},
    ),
    Case("setuid-kept", cp("suid", "/s"), {"/s": F("S", 0o4755)}),
    Case("mtime-kept", cp("a.txt", "/m.txt"), {"/m.txt": F("A", mtime=T)}),
    Case(
        "dir-mtime-kept",
        cp("dir", "/dm"),
        {"/dm/sub": D(0o700, mtime=T_SUB), "/dm/sub/y.txt": F("Y", mtime=T)},
    ),
    Case("chmod-octal", cp("a.txt", "/c.txt", chmod="755"), {"/c.txt": F("A", 0o755)}),
    Case(
        "chmod-octal-leading-zero",
        cp("exec.sh", "/c.sh", chmod="0640"),
        {"/c.sh": F("#!/bin/sh\n", 0o640)},
    ),
    Case("chmod-octal-setuid", cp("a.txt", "/c.txt", chmod="4755"), {"/c.txt": F("A", 0o4755)}),
    Case(
        "chmod-octal-tree",
        cp("dir", "/ct", chmod="640"),
        {"/ct": D(0o755), "/ct/sub": D(0o640), "/ct/x.txt": F("X", 0o640), "/ct/link": L("x.txt")},
    ),
    Case("chmod-symbolic-u+x", cp("a.txt", "/c.txt", chmod="u+x"), {"/c.txt": F("A", 0o744)}),
    Case("chmod-symbolic-a+r", cp("b.txt", "/c.txt", chmod="a+r"), {"/c.txt": F("B", 0o644)}),
    Case("chmod-symbolic-go-rwx", cp("a.txt", "/c.txt", chmod="go-rwx"), {"/c.txt": F("A", 0o600)}),
    Case(
        "chmod-symbolic-equals",
        cp("exec.sh", "/c.sh", chmod="u=rw,go=r"),
        {"/c.sh": F("#!/bin/sh\n", 0o644)},
    ),
    Case(
        "chmod-symbolic-X",
        cp("dir", "/cx", chmod="a+X"),
        {"/cx/sub": D(0o711), "/cx/x.txt": F("X", 0o644)},
    ),
    # -- entry types -------------------------------------------------------------------------
    Case("symlink-in-dir-kept", cp("dir", "/sl"), {"/sl/link": L("x.txt")}),
    Case("dangling-symlink-kept", cp("dir", "/sl"), {"/sl/dangling": L("nowhere")}),
    Case("absolute-symlink-verbatim", cp("dir", "/sl"), {"/sl/abs": L("/etc/passwd")}),
    Case("top-symlink-followed", cp("link_to_a", "/w/"), {"/w/link_to_a": F("A")}),
    Case(
        "top-symlink-to-dir", cp("link_to_dir", "/w/"), {"/w/x.txt": F("X"), "/w/link_to_dir": None}
    ),
    Case("fifo-kept", cp("dir", "/ff"), {"/ff/fifo": Fifo()}),
    # -- .dockerignore -----------------------------------------------------------------------
    Case(
        "ignore-top-level",
        cp(".", "/c/"),
        {"/c/c.md": None, "/c/tree/a/d.md": F("TD"), "/c/a.txt": F("A")},
        ignore=["*.md"],
    ),
    Case(
        "ignore-doublestar",
        cp(".", "/c/"),
        {"/c/c.md": None, "/c/tree/a/d.md": None},
        ignore=["**/*.md"],
    ),
    Case(
        "ignore-dir-with-exception",
        cp(".", "/c/"),
        {"/c/tree/e/f.txt": F("TF"), "/c/tree/a": None, "/c/tree": D()},
        ignore=["tree", "!tree/e/f.txt"],
    ),
    Case(
        "ignore-inside-copied-dir",
        cp("tree", "/c/"),
        {"/c/a/d.md": None, "/c/e/f.txt": F("TF")},
        ignore=["tree/a/*.md"],
    ),
    Case(
        "ignore-wildcard-skips", cp("*.md", "/c/"), {"/c/c.md": None}, ignore=["c.md"], written=()
    ),
    # -- --exclude, --parents ----------------------------------------------------------------
    Case(
        "exclude-in-tree",
        cp("tree", "/t/", exclude=("a/*.md",)),
        {"/t/a/d.md": None, "/t/a/b/c.txt": F("TC")},
    ),
    Case(
        "exclude-doublestar",
        cp(".", "/t/", exclude=("**/*.md",)),
        {"/t/c.md": None, "/t/tree/a/d.md": None, "/t/a.txt": F("A")},
    ),
    Case(
        "exclude-wildcard-match",
        cp("?.*", "/t/", exclude=("*.md",)),
        {"/t/a.txt": F("A"), "/t/b.txt": F("B"), "/t/c.md": None},
    ),
    Case(
        "exclude-several-with-exception",
        cp("tree", "/t/", exclude=("a", "e", "!a/b")),
        {"/t/a/b/c.txt": F("TC"), "/t/a/d.md": None, "/t/e": None},
    ),
    Case(
        "parents-files",
        cp("tree/a/b/c.txt", "tree/e/f.txt", "/p/", parents=True),
        {"/p/tree/a/b/c.txt": F("TC"), "/p/tree/e/f.txt": F("TF"), "/p/tree/a/d.md": None},
    ),
    Case(
        "parents-pivot",
        cp("tree/./a/b/c.txt", "/p/", parents=True),
        {"/p/a/b/c.txt": F("TC"), "/p/tree": None},
    ),
    Case(
        "parents-wildcard",
        cp("tree/*/*.md", "/p/", parents=True),
        {"/p/tree/a/d.md": F("TD"), "/p/tree/e": None},
    ),
    Case(
        "parents-dir",
        cp("tree/a", "/p/", parents=True),
        {"/p/tree/a/b/c.txt": F("TC"), "/p/tree/a/d.md": F("TD"), "/p/tree/e": None},
    ),
    Case(
        "parents-keep-source-dir-mode",
        cp("tree/a/d.md", "/p/", parents=True),
        {"/p/tree/a": D(0o751, mtime=T), "/p": D(0o755)},
    ),
    # -- heredocs ----------------------------------------------------------------------------
    Case(
        "heredoc-file",
        cp("/h.txt", contents=(doc("EOF", "hello\n"),)),
        {"/h.txt": F("hello\n", 0o644, ROOT_OWNED)},
    ),
    Case("heredoc-dir", cp("/hd/", contents=(doc("EOF", "x\n"),)), {"/hd/EOF": F("x\n")}),
    Case(
        "heredoc-chmod-chown",
        cp("/h.sh", contents=(doc("EOT", "#!\n"),), chmod="755", chown="app"),
        {"/h.sh": F("#!\n", 0o755, APP)},
    ),
    Case(
        "heredoc-chomp",
        cp("/h.txt", contents=(doc("EOF", "\t\tindented\n", chomp=True),)),
        {"/h.txt": F("indented\n")},
    ),
    Case(
        "heredocs-and-file",
        cp("a.txt", "/hh/", contents=(doc("one", "1"), doc("two", "2"))),
        {"/hh/one": F("1"), "/hh/two": F("2"), "/hh/a.txt": F("A")},
    ),
    # -- --link --------------------------------------------------------------------------------
    Case(
        "link-replaces-symlinked-parent",
        cp("a.txt", "/etc/service/", link=True),
        {"/etc/service": D(0o755), "/etc/service/a.txt": F("A"), "/var/service/a.txt": None},
    ),
    Case(
        "link-with-chmod-follows",
        cp("a.txt", "/etc/service/", link=True, chmod="600"),
        {"/etc/service": L("../var/service"), "/var/service/a.txt": F("A", 0o600)},
    ),
    Case(
        "link-replaces-final-symlink",
        cp("a.txt", "/lnk", link=True),
        {"/lnk": F("A"), "/existing.txt": F("OLD")},
    ),
]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_context(tmp_path_factory.mktemp("copy"))


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_stage(tmp_path_factory.mktemp("stage"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_copy_table(case: Case, ctx: Path, stage: Path, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    written = run(
        case.instr,
        ctx,
        root,
        workdir=case.workdir,
        ignore=case.ignore,
        from_root=stage if case.from_stage else None,
    )
    for path, want in case.expect.items():
        check(root, path, want)
    if case.written is not None:
        assert written == list(case.written)
    for path in written:  # whatever is reported exists, without leftovers beside it
        assert Path(root, path.lstrip("/")).is_symlink() or Path(root, path.lstrip("/")).exists()
    assert not list(root.rglob(".kaniko-*"))


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


def test_hardlinks_stay_hardlinks(ctx: Path, stage: Path, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    os.link(stage / "app/bin/tool", stage / "app/bin/tool2")
    try:
        run(cp("dir", "/hl"), ctx, root)
        run(cp("/app/bin", "/fromhl", from_="0"), ctx, root, from_root=stage)
    finally:
        os.unlink(stage / "app/bin/tool2")
    assert os.lstat(root / "hl/hard1").st_ino == os.lstat(root / "hl/hard2").st_ino
    assert os.lstat(root / "hl/hard1").st_ino != os.lstat(root / "hl/x.txt").st_ino
    one, two = os.lstat(root / "fromhl/tool"), os.lstat(root / "fromhl/tool2")
    assert one.st_ino == two.st_ino and one.st_nlink == 2
    assert (one.st_uid, one.st_gid) == (42, 43)
    assert one.st_mtime_ns == os.lstat(stage / "app/bin/tool").st_mtime_ns


def test_xattrs_are_copied(ctx: Path, tmp_path: Path) -> None:
    try:
        want = os.getxattr(ctx / "xattr.txt", "user.origin")
    except OSError:
        pytest.skip("this file system keeps no user xattrs")
    root = make_root(tmp_path)
    run(cp("xattr.txt", "/x"), ctx, root)
    assert os.getxattr(root / "x", "user.origin") == want


def test_second_copy_replaces_atomically(ctx: Path, tmp_path: Path) -> None:
    """A file is replaced by rename: a reader holding the old one keeps the old content."""
    root = make_root(tmp_path)
    run(cp("a.txt", "/f"), ctx, root)
    with open(root / "f") as held:
        run(cp("b.txt", "/f"), ctx, root)
        assert held.read() == "A"
    assert (root / "f").read_text() == "B"
