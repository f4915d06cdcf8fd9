"""Reading .dockerignore files, pruning excluded trees, and walking a real build context."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaniko.dockerfile.dockerignore import (
    PatternMatcher,
    load_dockerignore,
    parse_dockerignore,
    walk_context,
)
from kaniko.errors import ContextError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# comment\n*/temp*\n*/*/temp*\ntemp?\n", ["*/temp*", "*/*/temp*", "temp?"]),
        ("  # not a comment\n", ["# not a comment"]),
        ("\ufeffnode_modules\n", ["node_modules"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("\n\n   \n\t\nx", ["x"]),
        ("  spaced  \n", ["spaced"]),
        ("/foo\n./bar\nbaz/\nq//r\nfoo/./x/../y\n", ["foo", "bar", "baz", "q/r", "foo/y"]),
        ("!  /foo/ \n!./bar", ["!foo", "!bar"]),
        ("/\n.\n../up\n/../x\n", ["/", ".", "../up", "x"]),
        ("!\n! \n", ["!", "!"]),
        ("a\u2028b\nc\x0bd\n", ["a\u2028b", "c\x0bd"]),  # only '\n' ends a line
        ("keep\x1c\n", ["keep\x1c"]),  # Go's TrimSpace does not strip \x1c
        ("x\ufeff\n\ufeffy\n", ["x\ufeff", "\ufeffy"]),  # a BOM only counts at the start
        ("", []),
    ],
)
def test_parse_dockerignore(text: str, expected: list[str]) -> None:
    assert parse_dockerignore(text) == expected


def test_parsed_leading_slash_matches_relative_paths() -> None:
    assert PatternMatcher(parse_dockerignore("/foo/bar\n")).excluded("foo/bar")
    with pytest.raises(ContextError):
        PatternMatcher(parse_dockerignore("!\n"))


def test_load_without_any_file(tmp_path: Path) -> None:
    assert load_dockerignore(tmp_path) == []
    assert load_dockerignore(tmp_path, tmp_path / "Dockerfile") == []


def test_load_context_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_bytes(b"\xef\xbb\xbf*.log\n!keep.log\n")
    assert load_dockerignore(tmp_path, "Dockerfile") == ["*.log", "!keep.log"]


def test_dockerfile_specific_file_wins(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("from-context\n")
    build = tmp_path / "build"
    build.mkdir()
    (build / "app.Dockerfile").write_text("FROM scratch\n")
    (build / "app.Dockerfile.dockerignore").write_text("from-dockerfile\n")
    assert load_dockerignore(tmp_path, build / "app.Dockerfile") == ["from-dockerfile"]
    assert load_dockerignore(tmp_path, "build/app.Dockerfile") == ["from-dockerfile"]
    assert load_dockerignore(tmp_path, "build/other.Dockerfile") == ["from-context"]
    assert load_dockerignore(tmp_path) == ["from-context"]
    (build / "app.Dockerfile.dockerignore").write_text("")  # present but empty still wins
    assert load_dockerignore(tmp_path, build / "app.Dockerfile") == []


def test_a_fifo_ignore_file_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".dockerignore")
    with pytest.raises(ContextError, match=r"\.dockerignore is a FIFO, not a regular file"):
        load_dockerignore(tmp_path, "Dockerfile")


def test_an_ignore_file_symlinked_out_of_the_context_is_refused(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (tmp_path / "secret").write_text("token-1234\n")
    (ctx / ".dockerignore").symlink_to(tmp_path / "secret")
    with pytest.raises(ContextError, match="symlink to a file outside the build context"):
        load_dockerignore(ctx, "Dockerfile")
    (ctx / "kept").write_text("*.log\n")
    (ctx / "Dockerfile.dockerignore").symlink_to("kept")  # inside: fine
    assert load_dockerignore(ctx, "Dockerfile") == ["*.log"]


def test_unreadable_ignore_file_is_a_context_error(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").mkdir()
    with pytest.raises(ContextError, match=r"\.dockerignore"):
        load_dockerignore(tmp_path)


@pytest.mark.parametrize(
    ("patterns", "dirpath", "expected"),
    [
        (["node_modules"], "node_modules", True),
        (["node_modules"], "node_modules/pkg", True),
        (["node_modules"], "src", False),  # not excluded at all
        (["node_modules/**"], "node_modules", False),  # "X/**" leaves X itself
        (["node_modules", "!node_modules/keep"], "node_modules", False),
        (["node_modules", "!node_modules/keep"], "node_modules/other", True),
        (["node_modules", "!node_modules/keep/x.js"], "node_modules/keep", False),
        (["node_modules", "!**/*.js"], "node_modules", False),
        (["node_modules", "!*.js"], "node_modules", True),  # '*.js' stays at the top level
        (["build", "!build/*/keep.txt"], "build", False),
        (["build", "!build/*/keep.txt"], "build/a", False),
        (["build", "!build/*/keep.txt"], "build/a/b", True),
        (["build", "!build/a?/keep.txt"], "build/b1", True),
        (["build", "!build/[ab]/keep.txt"], "build/c", False),  # classes: no pruning
        (["a", "!a/b", "a"], "a", True),  # the exception is overridden by the later 'a'
        (["a", "!a/b", "a"], "a/b", True),
        (["*", "!src/main.go"], "src", False),
        (["*", "!src/main.go"], "docs", True),
        (["*", "!src"], "src", False),  # re-included itself
        (["**", "!dist/**"], "dist", False),
        (["**", "!dist/**"], "docs", True),
        (["x", "!**"], "x", False),
    ],
)
def test_can_skip_dir(patterns: list[str], dirpath: str, expected: bool) -> None:
    assert PatternMatcher(patterns).can_skip_dir(dirpath) is expected


def make_tree(root: Path) -> None:
    files = [
        ".dockerignore",
        "Dockerfile",
        "README.md",
        "CHANGES.md",
        "docs/guide.md",
        "node_modules/pkg/index.js",
        "node_modules/keep/x.js",
        "node_modules/keep/deep/y.js",
        "src/main.go",
        "src/util/helper.go",
        "src/util/data.txt",
        "a.txt",
        "a/b",
    ]
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    (root / "logs").mkdir()
    (root / "empty").mkdir()
    (root / "link").symlink_to("src")


def test_walk_context_with_exception_inside_excluded_dir(tmp_path: Path) -> None:
    make_tree(tmp_path)
    patterns = ["node_modules", "!node_modules/keep", "*.md", "!README.md", "logs", "**/*.txt"]
    kept = list(walk_context(tmp_path, PatternMatcher(patterns)))
    assert kept == [
        ".dockerignore",
        "Dockerfile",
        "README.md",
        "a",
        "a/b",
        "docs",
        "docs/guide.md",
        "empty",
        "link",
        "node_modules",
        "node_modules/keep",
        "node_modules/keep/deep",
        "node_modules/keep/deep/y.js",
        "node_modules/keep/x.js",
        "src",
        "src/main.go",
        "src/util",
        "src/util/helper.go",
    ]
    assert kept == sorted(kept, key=lambda p: p.split("/"))


def test_walk_keeps_excluded_parents_only_for_reincluded_files(tmp_path: Path) -> None:
    make_tree(tmp_path)
    kept = list(walk_context(tmp_path, PatternMatcher(["src", "!src/util/helper.go"])))
    assert [p for p in kept if p.startswith("src")] == ["src", "src/util", "src/util/helper.go"]
    kept = list(walk_context(tmp_path, PatternMatcher(["src", "!src/util/none.go"])))
    assert not [p for p in kept if p.startswith("src")]


def test_walk_without_patterns_lists_everything_and_no_symlink_targets(tmp_path: Path) -> None:
    make_tree(tmp_path)
    kept = list(walk_context(tmp_path, PatternMatcher([])))
    expected = []
    for dirpath, dirnames, filenames in os.walk(tmp_path):
        rel = os.path.relpath(dirpath, tmp_path)
        for name in dirnames + filenames:
            expected.append(name if rel == "." else f"{rel}/{name}")
    assert sorted(kept) == sorted(expected)
    assert "link" in kept
    assert not [p for p in kept if p.startswith("link/")]


def test_walk_prunes_directories_no_exception_reaches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    opened: list[str] = []
    real_scandir = os.scandir

    def spy(path: str):
        opened.append(os.path.relpath(path, tmp_path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", spy)
    list(walk_context(tmp_path, PatternMatcher(["node_modules", "!node_modules/keep", "src"])))
    assert "node_modules" in opened
    assert "node_modules/keep" in opened
    assert "node_modules/pkg" not in opened
    assert not [p for p in opened if p.startswith("src")]


def test_walk_missing_root_is_a_context_error(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="not a directory"):
        list(walk_context(tmp_path / "missing", PatternMatcher([])))


TREE_PATHS = [
    "a",
    "a/b",
    "a/b/c.txt",
    "a/b/d.go",
    "a/e.txt",
    "ab",
    "ab/b",
    "ab/b/c.txt",
    "b",
    "b/a",
    "b/a/a.go",
    "c.go",
]
FILES = {"a/b/c.txt", "a/b/d.go", "a/e.txt", "ab/b/c.txt", "b/a/a.go", "c.go"}
GLOB_PARTS = ["a", "b", "ab", "*", "?", "**", "a*", "*.txt", "*.go", "[ab]", "c.txt"]
pattern_strategy = st.builds(
    lambda neg, parts: ("!" if neg else "") + "/".join(parts),
    st.booleans(),
    st.lists(st.sampled_from(GLOB_PARTS), min_size=1, max_size=3),
)


@pytest.fixture(scope="module")
def small_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ctx")
    for path in TREE_PATHS:
        if path in FILES:
            (root / path).write_text(path)
        else:
            (root / path).mkdir()
    return root


@settings(max_examples=150, deadline=None)
@given(patterns=st.lists(pattern_strategy, max_size=5))
def test_walk_and_pruning_agree_with_excluded(small_tree: Path, patterns: list[str]) -> None:
    matcher = PatternMatcher(patterns)
    kept = {p for p in TREE_PATHS if not matcher.excluded(p)}
    for path in list(kept):
        parts = path.split("/")
        kept.update("/".join(parts[:i]) for i in range(1, len(parts)))
    assert list(walk_context(small_tree, matcher)) == sorted(kept, key=lambda p: p.split("/"))
    for directory in set(TREE_PATHS) - FILES:
        if matcher.can_skip_dir(directory):
            below = [p for p in TREE_PATHS if p.startswith(directory + "/")]
            assert all(matcher.excluded(p) for p in below), directory


segment = st.text(st.sampled_from("abcXYZ019-_.,=+@%~ ()$"), min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..") and s == s.strip()
)  # patterns are trimmed


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(segment, min_size=1, max_size=5))
def test_literal_path_matches_itself_and_its_parent(parts: list[str]) -> None:
    path = "/".join(parts)
    assert PatternMatcher([path]).excluded(path)
    assert not PatternMatcher([path, "!" + path]).excluded(path)
    assert not PatternMatcher([path]).excluded(path + "x")
    if len(parts) > 1:
        parent = "/".join(parts[:-1])
        assert PatternMatcher([parent]).excluded(path)
        assert PatternMatcher([parent + "/**"]).excluded(path)
        assert PatternMatcher([parent + "/*"]).excluded(path)
        assert PatternMatcher(["**/" + parts[-1]]).excluded(path)
        assert not PatternMatcher([path]).excluded(parent)
