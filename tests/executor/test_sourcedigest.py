"""What a COPY reads from the context, as the digest its cache key holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.errors import BuildError
from kaniko.executor.sourcedigest import source_digest
from kaniko.executor.steps import CopySource
from tests.executor.helpers import cp


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    (root / "app/sub").mkdir(parents=True)
    (root / "app/main.py").write_text("print(1)\n")
    (root / "app/sub/data.txt").write_text("data\n")
    (root / "app/notes.md").write_text("notes\n")
    (root / "top.txt").write_text("top\n")
    return root


def digest(ctx: Path, *args: str, ignore: list[str] | None = None, **flags: object) -> str:
    matcher = PatternMatcher(ignore) if ignore else None
    return source_digest(cp(*args, **flags), CopySource(ctx, matcher, True))


def test_content_names_and_modes_count(ctx: Path) -> None:
    first = digest(ctx, "app", "/app")
    assert digest(ctx, "app", "/app") == first
    (ctx / "app/main.py").write_text("print(2)\n")
    second = digest(ctx, "app", "/app")
    assert second != first
    os.chmod(ctx / "app/main.py", 0o755)  # mode only
    third = digest(ctx, "app", "/app")
    assert third != second
    os.rename(ctx / "app/notes.md", ctx / "app/NOTES.md")  # same content, another name
    assert digest(ctx, "app", "/app") != third


def test_owner_and_times_of_context_files_do_not_count(ctx: Path) -> None:
    first = digest(ctx, "app", "/app")
    os.chown(ctx / "app/main.py", 1234, 5678)  # COPY writes 0:0 whatever the owner
    os.utime(ctx / "app/main.py", (1, 1))
    assert digest(ctx, "app", "/app") == first


def test_dockerignore_counts_where_it_changes_what_is_copied(ctx: Path) -> None:
    first = digest(ctx, "app", "/app")
    assert digest(ctx, "app", "/app", ignore=["*.md"]) == first  # top-level only: no match
    assert digest(ctx, "app", "/app", ignore=["app/*.md"]) != first
    hidden = digest(ctx, "app", "/app", ignore=["app/sub"])
    assert hidden != first
    assert digest(ctx, "app", "/app", ignore=["app/sub", "!app/sub/data.txt"]) != hidden


def test_other_sources_flags_and_links(ctx: Path) -> None:
    assert digest(ctx, "top.txt", "/x") != digest(ctx, "app/main.py", "/x")
    assert digest(ctx, "app", "/a", exclude=("*.md",)) != digest(ctx, "app", "/a")
    os.symlink("main.py", ctx / "app/link")
    first = digest(ctx, "app", "/a")
    os.remove(ctx / "app/link")
    os.symlink("sub", ctx / "app/link")
    assert digest(ctx, "app", "/a") != first
    os.remove(ctx / "app/link")
    os.link(ctx / "app/main.py", ctx / "app/hard")
    linked = digest(ctx, "app", "/a")
    os.remove(ctx / "app/hard")
    (ctx / "app/hard").write_text("print(1)\n")  # same bytes, no longer one inode
    assert digest(ctx, "app", "/a") != linked


def test_wildcards_and_a_missing_source(ctx: Path) -> None:
    first = digest(ctx, "app/*.py", "/a/")
    (ctx / "app/extra.py").write_text("x\n")
    assert digest(ctx, "app/*.py", "/a/") != first
    with pytest.raises(BuildError):
        digest(ctx, "nothing-here", "/a/")
