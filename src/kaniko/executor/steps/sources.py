"""Finding what a COPY/ADD source names in its source root, as BuildKit finds it.

A source is a path relative to the root (the build context, or another stage's root for
``--from``): ``/x`` and ``x`` name the same entry, and a ``..`` that would climb out of the
root is refused. Symlinks on the way are resolved inside the root, the last one too
(BuildKit's ``FollowSymlinks``), so ``COPY link /`` copies what ``link`` points to.

Wildcards are Go's ``filepath.Match`` (``*``, ``?``, ``[...]``, ``\\`` escapes; no ``/``
inside a match): the components before the first wildcard name a directory, the rest is
matched against paths below it, and a matched directory is not descended. A pattern that
matches nothing is not an error (BuildKit's ``AllowEmptyWildcard``); a literal path that
does not exist is, and the message lists the closest names of the directory it was
looked for in. In the build context, what ``.dockerignore`` excludes does not exist.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from kaniko.dockerfile import patterns as gp
from kaniko.dockerfile.dockerignore import PatternMatcher
from kaniko.errors import BuildError, ContextError, FilesystemError
from kaniko.fs.safepath import full_path, resolve_rel


@dataclass(frozen=True, slots=True)
class Found:
    """One source entry: ``name`` names it in a directory destination, ``real`` is read."""

    name: str
    real: str  # relative to the source root, symlinks resolved
    matched: str = ""  # for a wildcard match: its path below the wildcard's directory


@dataclass(frozen=True, slots=True)
class Root:
    """A source root: the directory, its ``.dockerignore`` matcher, and how to name it."""

    path: str
    matcher: PatternMatcher | None
    where: str  # "the build context" or "the --from source"

    def full(self, rel: str) -> str:
        return full_path(self.path, rel)

    def resolve(self, rel: str) -> str:
        try:
            return resolve_rel(self.path, rel)
        except FilesystemError as e:
            raise BuildError(str(e)) from None

    def hidden(self, rel: str, is_dir: bool) -> bool:
        """Whether ``.dockerignore`` keeps ``rel`` out of the context (a directory stays
        when something below it is re-included)."""
        if self.matcher is None or not rel or not self.matcher.excluded(rel):
            return False
        return not is_dir or self.matcher.can_skip_dir(rel)

    def lstat(self, rel: str) -> os.stat_result | None:
        try:
            st = os.lstat(self.full(rel))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return None if self.hidden(rel, stat.S_ISDIR(st.st_mode)) else st


def clean_source(src: str, keyword: str, root: Root) -> str:
    """``src`` as a clean root-relative path; BuildError if it climbs out of the root."""
    parts: list[str] = []
    for comp in src.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if not parts:
                raise BuildError(f"{keyword} {src}: forbidden path outside {root.where}")
            parts.pop()
        else:
            parts.append(comp)
    return "/".join(parts)


def has_wildcards(name: str) -> bool:
    """Whether ``name`` holds an unescaped ``*``, ``?`` or ``[`` (BuildKit's test)."""
    i = 0
    while i < len(name):
        if name[i] == "\\":
            i += 1
        elif name[i] in "*?[":
            return True
        i += 1
    return False


def find(src: str, keyword: str, root: Root) -> list[Found]:
    """The entries ``src`` names: one for a literal path, any number for a wildcard."""
    rel = clean_source(src, keyword, root)
    parts = rel.split("/") if rel else []
    cut = next((i for i, p in enumerate(parts) if has_wildcards(p)), len(parts))
    if cut == len(parts):
        real = root.resolve(rel)
        st = root.lstat(real)
        if st is None or (rel != real and root.hidden(rel, stat.S_ISDIR(st.st_mode))):
            raise BuildError(_missing(src, keyword, root, rel))
        return [Found(posixpath.basename(rel) or posixpath.basename(real), real)]
    base = root.resolve("/".join(parts[:cut]))
    pattern = parts[cut:]
    for part in pattern:
        _check_pattern(part, src, keyword)
    found = []
    for matched in _walk_matches(root, base, pattern):
        lexical = posixpath.join(base, matched)
        real = root.resolve(lexical)
        st = root.lstat(real)
        if st is None:
            raise BuildError(_missing(src, keyword, root, lexical))
        found.append(Found(posixpath.basename(matched), real, matched))
    return found


def _check_pattern(part: str, src: str, keyword: str) -> None:
    """Refuse a component Go's ``filepath.Match`` would reject (BuildKit silently matches
    nothing with it)."""
    if not _valid_glob(part):
        raise BuildError(f"{keyword} {src}: syntax error in pattern {part!r}")


def _valid_glob(part: str) -> bool:
    i, n = 0, len(part)
    while i < n:
        if part[i] == "\\":
            i += 2
            if i > n:
                return False
            continue
        if part[i] != "[":
            i += 1
            continue
        i += 1
        if i < n and part[i] == "^":
            i += 1
        count = 0
        while i >= n or part[i] != "]" or count == 0:
            for _ in range(2):  # lo, then hi after a '-'
                if i >= n or part[i] in "-]":
                    return False
                if part[i] == "\\":
                    i += 1
                i += 1
                if i < n and part[i] == "-" and _ == 0:
                    i += 1
                    continue
                break
            if i >= n:
                return False
            count += 1
        i += 1
    return True


def _match(part: str, name: str) -> bool:
    try:
        return gp.check_glob(part, name)
    except gp.BadPattern:
        return False


def _walk_matches(root: Root, base: str, pattern: list[str]) -> Iterator[str]:
    """Paths below ``base`` (relative to it) matching the pattern components, in order."""

    def walk(rel: str, depth: int) -> Iterator[str]:
        try:
            with os.scandir(root.full(posixpath.join(base, rel))) as scan:
                entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in scan)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as e:
            raise BuildError(f"cannot read {root.where} directory /{base}: {e}") from e
        for name, is_dir in entries:
            path = posixpath.join(rel, name)
            if root.hidden(posixpath.join(base, path), is_dir) or not _match(pattern[depth], name):
                continue
            if depth + 1 == len(pattern):
                yield path
            elif is_dir:
                yield from walk(path, depth + 1)

    yield from walk("", 0)


def _missing(src: str, keyword: str, root: Root, rel: str) -> str:
    """The one-line error for a source that is not there, with near names if any."""
    excluded = root.matcher is not None and rel and root.matcher.excluded(rel)
    if excluded and os.path.lexists(root.full(rel)):
        return f"{keyword} {src}: excluded by .dockerignore"
    if os.path.islink(root.full(rel)):
        real = root.resolve(rel)
        return f"{keyword} {src}: a symlink to /{real}, which is not in {root.where}"
    message = f"{keyword} {src}: no such file or directory in {root.where}"
    hint = _near_names(root, rel)
    return f"{message} (did you mean {hint}?)" if hint else message


def _near_names(root: Root, rel: str) -> str:
    """Close names at the first component of ``rel`` that does not exist."""
    current = ""
    for comp in rel.split("/"):
        candidate = root.resolve(posixpath.join(current, comp))
        if root.lstat(candidate) is None:
            try:
                names = [
                    name
                    for name in os.listdir(root.full(current))
                    if root.lstat(posixpath.join(current, name)) is not None
                ]
            except OSError:
                return ""
            close = difflib.get_close_matches(comp, names, n=3, cutoff=0.6)
            shown = [posixpath.join(current, name) for name in close]
            return " or ".join(f'"{name}"' for name in shown)
        current = candidate
    return ""


def pattern_matcher(patterns: tuple[str, ...], keyword: str, flag: str) -> PatternMatcher | None:
    """A moby pattern matcher for ``--exclude``/``--parents`` patterns (None if none)."""
    if not patterns:
        return None
    try:
        return PatternMatcher(list(patterns))
    except ContextError as e:
        raise BuildError(f"{keyword} {flag}: {e}") from None
