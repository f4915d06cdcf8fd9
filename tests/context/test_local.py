"""Finding the Dockerfile and the context directory the way kaniko does."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaniko.context import local as run_module
from kaniko.context.local import context_dir, read_dockerfile, resolve_dockerfile
from kaniko.errors import ContextError, NotSupportedYet


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

    monkeypatch.setattr(run_module, "open", denied, raising=False)
    with pytest.raises(ContextError, match=r"cannot read Dockerfile .*: Permission denied"):
        read_dockerfile(str(tree / "cwdfile"))
