"""Finding the Dockerfile and the context directory the way kaniko does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaniko import iotools
from kaniko.context.fetch import sub_path
from kaniko.context.local import context_dir, read_dockerfile, resolve_dockerfile
from kaniko.errors import ContextError, NotSupportedYet, UsageError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "ctx" / "sub").mkdir(parents=True)
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM a\n")
    (tmp_path / "ctx" / "sub" / "Alt").write_text("FROM b\n")
    (tmp_path / "cwdfile").write_text("FROM c\n")
    return tmp_path


def test_relative_to_cwd_wins(tree: Path) -> None:
    path, display = resolve_dockerfile("cwdfile", "ctx", cwd=str(tree))
    assert path == str(tree / "cwdfile") and display == "cwdfile"


def test_relative_to_context(tree: Path) -> None:
    path, display = resolve_dockerfile("sub/Alt", str(tree / "ctx"), cwd=str(tree))
    assert path == str(tree / "ctx" / "sub" / "Alt")
    assert display == str(tree / "ctx" / "sub" / "Alt")


def test_relative_context_relative_dockerfile(tree: Path) -> None:
    path, display = resolve_dockerfile("Dockerfile", "ctx/", cwd=str(tree))
    assert path == str(tree / "ctx" / "Dockerfile") and display == "ctx/Dockerfile"


def test_absolute_path(tree: Path) -> None:
    target = str(tree / "ctx" / "sub" / "Alt")
    assert resolve_dockerfile(target, "/nowhere", cwd="/")[0] == target


def test_missing_absolute_path_is_looked_for_in_context(tree: Path) -> None:
    # Go's filepath.Join("/ctx", "/Dockerfile") is "/ctx/Dockerfile"
    path, _ = resolve_dockerfile("/Dockerfile", str(tree / "ctx"), cwd="/")
    assert path == str(tree / "ctx" / "Dockerfile")


def test_missing_everywhere(tree: Path) -> None:
    with pytest.raises(ContextError, match="please provide a valid path to a Dockerfile"):
        resolve_dockerfile("nope", str(tree / "ctx"), cwd=str(tree))


@pytest.mark.parametrize("url", ["https://example.com/Dockerfile", "http://h/D"])
def test_url_not_yet(url: str) -> None:
    with pytest.raises(NotSupportedYet, match="not supported yet: --dockerfile"):
        resolve_dockerfile(url, "/ctx")


def test_context_dir() -> None:
    assert context_dir("/workspace/") == "/workspace/"
    assert context_dir("dir:///src/app") == "/src/app"
    assert context_dir("rel/dir") == "rel/dir"
    for remote in [
        "tar://ctx.tar.gz",
        "git://github.com/a/b",
        "s3://b/k",
        "gs://b",
        "https://h/ctx.tar.gz",
    ]:
        with pytest.raises(NotSupportedYet, match="not supported yet: --context"):
            context_dir(remote)


def test_read_dockerfile(tree: Path) -> None:
    raw = tree / "raw"
    raw.write_bytes(b"FROM a\nLABEL x=\xff\n")
    text = read_dockerfile(str(raw))
    assert text.startswith("FROM a\n")
    assert text.encode("utf-8", "surrogateescape") == raw.read_bytes()
    with pytest.raises(ContextError, match="is a directory"):
        read_dockerfile(str(tree / "ctx"))


def test_unreadable_dockerfile(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(iotools.os, "open", denied)
    with pytest.raises(ContextError, match=r"cannot read Dockerfile .*: Permission denied"):
        read_dockerfile(str(tree / "cwdfile"))


def test_a_fifo_dockerfile_is_refused_without_blocking(tree: Path) -> None:
    fifo = tree / "ctx" / "Dockerfile.fifo"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(ContextError) as info:
        read_dockerfile(str(fifo), str(tree / "ctx"))
    assert str(info.value) == f"Dockerfile {fifo} is a FIFO, not a regular file"


def test_a_device_is_not_a_dockerfile(tree: Path) -> None:
    with pytest.raises(ContextError, match="is a character device, not a regular file"):
        read_dockerfile("/dev/zero")


SECRET = '{"auths":{"registry.example":{"auth":"c2VjcmV0OnBhc3N3b3Jk"}}}'


def test_a_dockerfile_symlinked_out_of_the_context_is_refused(tree: Path) -> None:
    secret = tree / "config.json"
    secret.write_text(SECRET + "\n")
    link = tree / "ctx" / "Dockerfile"
    link.unlink()
    link.symlink_to(secret)
    with pytest.raises(ContextError) as info:
        read_dockerfile(str(link), str(tree / "ctx"))
    assert str(info.value) == (
        f"Dockerfile {link} is a symlink to a file outside the build context; "
        "only files inside the context are read"
    )
    assert "c2Vj" not in str(info.value)


def test_symlinks_inside_the_context_and_explicit_paths_are_read(tree: Path) -> None:
    inside = tree / "ctx" / "Dockerfile.link"
    inside.symlink_to("sub/Alt")
    assert read_dockerfile(str(inside), str(tree / "ctx")) == "FROM b\n"
    # a --dockerfile outside the context is the user's own choice, links and all
    outside = tree / "elsewhere"
    outside.symlink_to(tree / "cwdfile")
    assert read_dockerfile(str(outside), str(tree / "ctx")) == "FROM c\n"


def test_context_sub_path_stays_inside_the_context(tree: Path) -> None:
    ctx = str(tree / "ctx")
    assert sub_path(ctx, "sub", ctx) == str(tree / "ctx" / "sub")
    assert sub_path(ctx, "/sub/", ctx) == str(tree / "ctx" / "sub")  # Go's filepath.Join
    assert sub_path(ctx, "sub/../sub", ctx) == str(tree / "ctx" / "sub")
    for escape in ("..", "../..", "sub/../../ctx2", "../ctx/../.."):
        with pytest.raises(UsageError) as info:
            sub_path(ctx, escape, ctx)
        assert str(info.value) == f"--context-sub-path {escape}: leaves the build context"


def test_context_sub_path_through_a_symlink_stays_inside(tree: Path) -> None:
    (tree / "ctx" / "up").symlink_to("/")
    # re-rooted as a chroot would: ctx/up/etc is ctx/etc, never the host's /etc
    with pytest.raises(ContextError, match="no such directory"):
        sub_path(str(tree / "ctx"), "up/etc", "ctx")
    (tree / "ctx" / "etc").mkdir()
    assert sub_path(str(tree / "ctx"), "up/etc", "ctx") == str(tree / "ctx" / "etc")
