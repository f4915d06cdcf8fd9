"""PatternMatcher against moby's matching rules: a table of (patterns, path, excluded).

Rows restate behaviour documented by moby/patternmatcher's tests, Go's filepath.Match tests
and the Dockerfile reference's .dockerignore section, as MatchesOrParentMatches applies them
(a path is excluded when it or a parent directory matches; the last matching pattern wins).
"""

from __future__ import annotations

import pytest

from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.errors import ContextError

WHEEL = "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"

TABLE: list[tuple[list[str], str, bool]] = [
    # ** in every position
    (["**"], "file", True),
    (["**"], "file/", True),
    (["**/"], "file", True),
    (["**"], "dir/file", True),
    (["**/**"], "dir/file", True),
    (["dir/**"], "dir/file", True),
    (["dir/**"], "dir/dir2/file", True),
    (["abc/**"], "abc", False),
    (["abc/**"], "abc/def/ghi", True),
    (["**/dir"], "dir", True),
    (["**/dir"], "dir/file", True),
    (["**/dir2/*"], "dir/dir2/file", True),
    (["**/dir2/*"], "dir/dir2/file/", True),
    (["**/dir2/*"], "dir/dir2", False),
    (["**/dir2/**"], "dir/dir2/dir3/file", True),
    (["**file"], "file", True),
    (["**file"], "dir/dir/file", True),
    (["**/file"], "dir/file", True),
    (["**/file*"], "dir/dir/file.txt", True),
    (["**/file*txt"], "dir/dir/file.txt", True),
    (["**/file*.txt*"], "dir/dir/file.txt", True),
    (["**/**/*.txt"], "dir/dir/file.txt", True),
    (["**/**/*.txt2"], "dir/dir/file.txt", False),
    (["**/*.txt"], "file.txt", True),
    (["**/**/*.txt"], "file.txt", True),
    (["a**/*.txt"], "a/file.txt", True),
    (["a**/*.txt"], "a/dir/dir/file.txt", True),
    (["**/foo/bar"], "foo/bar", True),
    (["**/foo/bar"], "dir/dir2/foo/bar", True),
    (["**/.foo"], ".foo", True),
    (["**/.foo"], "bar.foo", False),
    (["**/*.go"], "main.go", True),
    (["**/*.go"], "cmd/tool/main.go", True),
    (["**/*.go"], "main.gox", False),
    # * and ? never cross '/', but a parent directory match excludes everything below
    (["*"], "abc", True),
    (["*"], "dir/file", True),
    (["*c"], "abc", True),
    (["a*"], "a", True),
    (["a*"], "ab/c", True),
    (["a*/b"], "abc/b", True),
    (["a*/b"], "a/c/b", False),
    (["a/*.txt"], "a/file.txt", True),
    (["a/*.txt"], "a/dir/file.txt", False),
    (["a/*.txt**"], "a/file.txt", True),
    (["a*b*c*d*e*/f"], "axbxcxdxe/f", True),
    (["a*b*c*d*e*/f"], "axbxcxdxexxx/f", True),
    (["a*b*c*d*e*/f"], "axbxcxdxe/xxx/f", False),
    (["a*b*c*d*e*/f"], "axbxcxdxexxx/fff", False),
    (["a*b?c*x"], "abxbbxdbxebxczzx", True),
    (["a*b?c*x"], "abxbbxdbxebxczzy", False),
    (["a?b"], "a/b", False),
    (["a*b"], "a/b", False),
    (["*x"], "xxx", True),
    (["abc?def"], "abcZdef", True),
    (["abc?def"], "abcdef", False),
    (["a?b"], "a☺b", True),
    (["a???b"], "a☺b", False),
    # character classes
    (["a[b-d]e"], "ace", True),
    (["a[b-d]e"], "ae", False),
    (["a[b-d]e"], "aae", False),
    (["a[^b-d]e"], "aze", True),
    (["ab[c]"], "abc", True),
    (["ab[e-g]"], "abc", False),
    (["ab[^c]"], "abc", False),
    (["ab[^e-g]"], "abc", True),
    (["a[^a]b"], "a☺b", True),
    (["a[^a][^a][^a]b"], "a☺b", False),
    (["[a-ζ]*"], "α", True),
    (["*[a-ζ]"], "A", False),
    (["[\\]a]"], "]", True),
    (["[\\-]"], "-", True),
    (["[x\\-]"], "x", True),
    (["[x\\-]"], "-", True),
    (["[x\\-]"], "z", False),
    (["[\\-x]"], "-", True),
    (["[\\-x]"], "a", False),
    (["[!a]b"], "!b", True),  # '!' is a member, not a negation, for moby
    (["[!a]b"], "xb", False),
    # escapes and regex metacharacters that are literal in a glob
    (["a\\*b"], "a*b", True),
    (["a\\*b"], "ab", False),
    (["a\\\\"], "a\\", True),
    ([".*"], ".foo", True),
    ([".*"], "foo", False),
    (["abc.def"], "abc.def", True),
    (["abc.def"], "abcZdef", False),
    (["a(b)c/def"], "a(b)c/def", True),
    (["a(b)c/def"], "a(b)c/xyz", False),
    (["a.|)$(}+{bc"], "a.|)$(}+{bc", True),
    ([WHEEL], WHEEL, True),
    (["dist/*.whl"], WHEEL, True),
    # the Dockerfile reference's examples
    (["*/temp*"], "somedir/temporary.txt", True),
    (["*/temp*"], "somedir/temp", True),
    (["*/temp*"], "temp", False),
    (["*/*/temp*"], "somedir/subdir/temporary.txt", True),
    (["*/*/temp*"], "somedir/temporary.txt", False),
    (["temp?"], "tempa", True),
    (["temp?"], "temp", False),
    (["temp?"], "somedir/tempb", False),
    (["*.md", "!README.md"], "README.md", False),
    (["*.md", "!README.md"], "CHANGES.md", True),
    (["*.md", "!README.md"], "docs/guide.md", False),
    (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", True),
    (["*.md", "!README*.md", "README-secret.md"], "README-public.md", False),
    (["*.md", "README-secret.md", "!README*.md"], "README-secret.md", False),
    # exceptions, in order
    (["!fileutils.go", "*.go"], "fileutils.go", True),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs", "!docs/README.md"], "docs/other.md", True),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!" + WHEEL], WHEEL, False),
    (["**", "!dist/*.whl"], WHEEL, False),
    (["ignore/**", "!ignore/foo"], "ignore/foo", False),
    (["ignore/**", "!ignore/foo"], "ignore/bar", True),
    (["a", "!a/b"], "a/b/c", False),
    (["a", "!a/b", "a/b/c"], "a/b/c/d", True),
    # cleaning of patterns and paths
    (["./foo/../bar/"], "bar/x", True),
    (["foo//bar"], "foo/bar", True),
    (["/foo"], "foo", False),  # the matcher keeps '/'; parse_dockerignore strips it
    (["*.go"], ".", False),
    (["*.go"], "./main.go", True),
    (["a/c"], "a/./b/../c", True),
    (["b"], "a/../b/x", True),
    (["a/b"], "a//b/", True),
    ([], "any/path", False),
    (["  docs  ", "", "\t"], "docs/a", True),
]


@pytest.mark.parametrize(("patterns", "path", "expected"), TABLE)
def test_table(patterns: list[str], path: str, expected: bool) -> None:
    assert PatternMatcher(patterns).excluded(path) is expected


QUIRKS: list[tuple[str, str, bool]] = [
    # moby keeps a '**'-led pattern without other wildcards as a plain suffix test
    ("**foo", "barfoo", True),
    # elsewhere '**' becomes "(.*/)?": it must end at a '/'
    ("a**b", "ab", True),
    ("a**b", "ax/b", True),
    ("a**b", "axb", False),
    # '*' and '?' inside a class turn into "[^/]*" / "[^/]", which Go's regexp then reads
    # as a class "[[^/]" followed by a literal ']'
    ("x[*]", "x]", True),
    ("x[*]", "x*", False),
    ("x[?]", "x]", False),
    ("x[?]", "x/]", True),
    # a backslash before a letter reaches Go's regexp as a Perl class or anchor
    ("v\\d", "v1", True),
    ("v\\d", "vd", False),
    ("[[:digit:]]x", "5x", True),
    ("[[:digit:]]x", "ax", False),
    # an unescaped '^' is an anchor, so the pattern can never match
    ("a^b*", "a^bc", False),
    # a trailing backslash after a '*' escapes the closing '$'
    ("a*\\", "ab$", True),
    ("a*\\", "ab", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), QUIRKS)
def test_moby_quirks(pattern: str, path: str, expected: bool) -> None:
    assert PatternMatcher([pattern]).excluded(path) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "[",
        "[^",
        "[^bc",
        "a[",
        "[]a]",
        "[-]",
        "[x-]",
        "[-x]",
        "\\",
        "[a-b-c]",
        "[*",
        "[Local-Only]/",
        "[z-a]",
        "a*[",
        "foo\\e",
        "x\\8",
        "[[:nope:]]",
        "!",
        "!/",
    ],
)
def test_bad_patterns_raise_context_error(pattern: str) -> None:
    with pytest.raises(ContextError) as info:
        PatternMatcher(["ok", pattern])
    message = str(info.value)
    assert "\n" not in message
    assert ("!" in message) if pattern.startswith("!") else (repr(pattern.strip()) in message)


def test_a_mismatching_first_chunk_hides_later_glob_errors_as_in_go() -> None:
    # filepath.Match(p, ".") stops at the first chunk that fails, and Go's regexp accepts
    # "a[^/]*[[^/]*": moby takes this pattern, so must we.
    matcher = PatternMatcher(["a*[*"])
    assert matcher.excluded("a[[")
    assert not matcher.excluded("b")


def test_exclusions_property() -> None:
    assert not PatternMatcher(["a", "b/**"]).exclusions
    assert PatternMatcher(["a", "!a/b"]).exclusions
    assert not PatternMatcher([]).exclusions
