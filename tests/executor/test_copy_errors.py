"""COPY/ADD failures: one clear line each, raised before anything is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaniko.dockerfile.commands import Add, Copy
from kaniko.errors import BuildError
from tests.executor.helpers import add, cp, doc, make_context, make_root, run


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_context(tmp_path_factory.mktemp("copy-errors"))


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its mode and mtime: to prove nothing changed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), root)] = (st.st_mode, st.st_mtime_ns)
    return out


ERRORS = [
    ("missing-near-name", cp("a.tx", "/"), ["COPY a.tx: no such file", '"a.txt"']),
    ("missing-nested-near-name", cp("dir/x.tx", "/"), ['"dir/x.txt"']),
    ("missing-dir-component", cp("dri/x.txt", "/"), ['"dir"']),
    (
        "missing-no-near-name",
        cp("zzzzzz", "/"),
        ["COPY zzzzzz: no such file or directory in the build context"],
    ),
    ("missing-among-several", cp("a.txt", "nope.txt", "/d/"), ["nope.txt"]),
    (
        "outside-context",
        cp("../secret", "/"),
        ["COPY ../secret: forbidden path outside the build context"],
    ),
    ("outside-context-nested", cp("dir/../../x", "/"), ["forbidden path outside"]),
    (
        "symlink-out-resolved-inside",
        cp("escape", "/"),
        ["COPY escape: a symlink to /etc/hostname, which is not in the build context"],
    ),
    (
        "dangling-top-symlink",
        cp("dangling_top", "/"),
        ["COPY dangling_top: a symlink to /missing-target, which is not in the build context"],
    ),
    ("ignored-source", cp("c.md", "/"), ["COPY c.md: excluded by .dockerignore"]),
    ("chmod-too-big", cp("a.txt", "/", chmod="17777"), ["invalid chmod parameter: '17777'"]),
    ("chmod-not-octal", cp("a.txt", "/", chmod="9"), ["it should be octal string"]),
    ("chmod-bad-symbolic", cp("a.txt", "/", chmod="u+q"), ["invalid --chmod='u+q'"]),
    (
        "multi-no-slash",
        cp("a.txt", "b.txt", "/nodir"),
        ["When using COPY with more than one source file, the destination must be a directory"],
    ),
    ("wildcard-multi-no-slash", cp("file*.txt", "/nodir"), ["more than one source file"]),
    (
        "heredoc-and-file-no-slash",
        cp("a.txt", "/nodir", contents=(doc("EOF", "x"),)),
        ["more than one source file"],
    ),
    ("bad-pattern", cp("file[.txt", "/w/"), ["syntax error in pattern"]),
    ("copy-url", cp("https://example.com/x", "/"), ["source can't be a URL"]),
    (
        "checksum-local",
        add("a.txt", "/", checksum="sha256:" + "0" * 64),
        ["checksum requires HTTP(S) or Git sources"],
    ),
    (
        "checksum-multi",
        add("http://h/a", "http://h/b", "/d/", checksum="sha256:" + "0" * 64),
        ["checksum can't be specified for multiple sources"],
    ),
    (
        "checksum-malformed",
        add("http://h/a", "/d/", checksum="sha256:xyz"),
        ["ADD --checksum=sha256:xyz: invalid digest"],
    ),
    ("dir-onto-file", cp("dir", "/existing.txt"), ["cannot copy a directory onto non-directory"]),
]


@pytest.mark.parametrize(("name", "instr", "needles"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(
    name: str, instr: Copy | Add, needles: list[str], ctx: Path, tmp_path: Path
) -> None:
    root = make_root(tmp_path)
    ignore = ["*.md"] if name == "ignored-source" else None
    before = snapshot(root)
    with pytest.raises(BuildError) as info:
        run(instr, ctx, root, ignore=ignore)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    if name != "dir-onto-file":  # detected while writing; the rest before any write
        assert snapshot(root) == before


def test_file_cannot_replace_directory(ctx: Path, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "d" / "a.txt").mkdir(parents=True)
    with pytest.raises(BuildError, match=r"cannot replace directory /d/a\.txt"):
        run(cp("a.txt", "/d/"), ctx, root)


def test_unreachable_git_source_is_one_line_naming_it(ctx: Path, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    with pytest.raises(BuildError, match=r"^ADD: http://127\.0\.0\.1:9/repo\.git: ") as e:
        run(add("http://127.0.0.1:9/repo.git", "/src"), ctx, root)
    assert "\n" not in str(e.value)
    assert not (root / "src").exists()


def test_symlink_loop_is_a_clear_error(ctx: Path, tmp_path: Path) -> None:
    loop = tmp_path / "loopctx"
    loop.mkdir()
    os.symlink("b", loop / "a")
    os.symlink("a", loop / "b")
    root = make_root(tmp_path)
    with pytest.raises(BuildError, match="too many levels of symbolic links"):
        run(cp("a", "/x"), loop, root)


def test_host_files_never_read_through_symlinks(ctx: Path, tmp_path: Path) -> None:
    """A context symlink to /etc/passwd means <context>/etc/passwd, never the host's."""
    evil = tmp_path / "evil"
    (evil / "etc").mkdir(parents=True)
    (evil / "etc" / "passwd").write_text("context passwd\n")
    os.symlink("/etc/passwd", evil / "pw")
    os.symlink("../../../../../../etc", evil / "up")
    root = make_root(tmp_path)
    run(cp("pw", "up/passwd", "/got/"), evil, root)
    assert (root / "got" / "pw").read_text() == "context passwd\n"
    assert (root / "got" / "passwd").read_text() == "context passwd\n"


def test_chown_uses_destination_passwd_not_context(ctx: Path, tmp_path: Path) -> None:
    """Names resolve in the image being built; /etc reached through a symlink stays inside."""
    root = make_root(tmp_path)
    os.rename(root / "etc", root / "real-etc")
    os.symlink("/real-etc", root / "etc")
    run(cp("a.txt", "/o", chown="app:staff"), ctx, root)
    st = os.lstat(root / "real-etc" / ".." / "o")
    assert (st.st_uid, st.st_gid) == (1000, 50)
