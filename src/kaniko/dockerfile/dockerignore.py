"""`.dockerignore`: reading the file and applying it to a build context.

The semantics are moby's, shared by Docker, BuildKit and the Go kaniko:

* :func:`parse_dockerignore` is ``ignorefile.ReadAll``: a UTF-8 BOM is dropped, lines starting
  with ``#`` in column 1 are comments, whitespace is trimmed, and each pattern (after a leading
  ``!``) is cleaned like Go's ``filepath.Clean``, with a leading ``/`` removed;
* :class:`PatternMatcher` is ``patternmatcher.New`` + ``MatchesOrParentMatches`` (what the Go
  kaniko calls): ``*`` and ``?`` stop at ``/``, ``**`` spans directories, ``[...]`` classes
  negate with ``^`` only, ``\\`` escapes; a path is excluded when it or one of its parent
  directories matches, and the last matching pattern decides (``!`` re-includes); a
  pattern's regex is matched in time linear in the path, as Go's engine does
  (:mod:`kaniko.dockerfile.linear_regex`), however many ``**/`` it has;
* :func:`walk_context` lists what a build context keeps, pruning excluded trees that no
  exception can reach into, and keeping an excluded directory as the parent of a re-included
  file (as BuildKit sends it).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from kaniko.dockerfile import patterns as gp
from kaniko.dockerfile.linear_regex import compile_linear, needs_linear
from kaniko.errors import ContextError
from kaniko.iotools import is_inside, read_regular_file

_log = logging.getLogger(__name__)


def parse_dockerignore(text: str) -> list[str]:
    """Return the patterns of a ``.dockerignore`` file's text, as moby's ReadAll does."""
    result: list[str] = []
    for line in text.removeprefix("\ufeff").split("\n"):
        line = line.removesuffix("\r")
        if line.startswith("#"):
            continue
        pattern = line.strip(gp.GO_SPACE)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip(gp.GO_SPACE)
        if pattern:
            pattern = gp.go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        result.append("!" + pattern if invert else pattern)
    return result


def load_dockerignore(
    context_dir: str | os.PathLike[str], dockerfile: str | os.PathLike[str] | None = None
) -> list[str]:
    """Read the ignore patterns for a build.

    ``<Dockerfile>.dockerignore`` beside the Dockerfile wins over ``<context>/.dockerignore``
    (BuildKit's and kaniko's rule); a relative ``dockerfile`` is taken inside ``context_dir``.
    Without either file there are no patterns. The file must be a regular file, and one in
    the context must resolve inside it (see :func:`~kaniko.iotools.read_regular_file`).
    """
    context = os.fspath(context_dir)
    candidates: list[str] = []
    if dockerfile is not None:
        candidates.append(os.path.join(context, os.fspath(dockerfile)) + ".dockerignore")
    candidates.append(os.path.join(context, ".dockerignore"))
    for path in candidates:
        if not os.path.lexists(path):
            continue
        within = context if is_inside(path, context) else None
        data = read_regular_file(path, "ignore file", within=within)
        _log.info("Using dockerignore file: %s", path)
        return parse_dockerignore(data.decode("utf-8", "surrogateescape"))
    return []


class _Pattern:
    """One compiled pattern: how to test a path, and what it can possibly match."""

    __slots__ = ("exclusion", "match", "parts", "prefix", "text")

    def __init__(self, text: str, exclusion: bool) -> None:
        self.text, self.exclusion = text, exclusion
        kind, source = gp.classify(text)
        self.match: Callable[[str], object]
        if kind == gp.EXACT:
            self.match = text.__eq__
        elif kind == gp.PREFIX:
            head = text[:-2]
            self.match = lambda path: path.startswith(head)
        elif kind == gp.SUFFIX:
            tail = text[2:]
            bare = tail[1:] if tail.startswith("/") else None
            self.match = lambda path: path.endswith(tail) or path == bare
        else:
            python = gp.go_regex_to_python(source)
            compiled = re.compile(python, re.ASCII)  # also proves the source well formed
            self.match = compile_linear(python) if needs_linear(python) else compiled.match
        self.prefix = gp.literal_prefix(text, kind)
        # Patterns whose only wildcards are '*' and '?' match paths of exactly as many
        # components as they have, each component on its own: enough to rule out subtrees.
        self.parts: list[Callable[[str], object]] | None = None
        if kind in (gp.EXACT, gp.REGEX) and not re.search(r"[\[\]\\]|\*\*", text):
            self.parts = [_component_matcher(part) for part in text.split("/")]

    def may_match_below(self, dirpath: str) -> bool:
        """False only if no path strictly inside ``dirpath`` can match this pattern."""
        below = dirpath + "/"
        if not (self.prefix.startswith(below) or below.startswith(self.prefix)):
            return False
        if self.parts is None:
            return True
        names = dirpath.split("/")
        if len(self.parts) <= len(names):
            return False
        return all(part(name) for part, name in zip(self.parts, names, strict=False))


def _component_matcher(part: str) -> Callable[[str], object]:
    source = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in part)
    source = f"\\A{source}\\Z"
    return compile_linear(source) if needs_linear(source) else re.compile(source).match


def _clean(path: str) -> str:
    """go_clean, skipping the work for the common already-clean relative path."""
    if path and "//" not in path and "/." not in path and path[0] not in "./":
        return path[:-1] if path.endswith("/") else path
    return gp.go_clean(path)


def _parents(path: str) -> list[str]:
    """The parent directories MatchesOrParentMatches tries (of a cleaned path), outermost first."""
    if path.startswith("/"):  # Go splits filepath.Dir(path): "/a" has parents "" and "/"
        names = gp.go_clean(path[: path.rfind("/") + 1]).split("/")
        return ["/".join(names[: i + 1]) for i in range(len(names))]
    return [path[:cut] for cut, ch in enumerate(path) if ch == "/"]


class PatternMatcher:
    """moby's PatternMatcher over a list of patterns (as returned by parse_dockerignore)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns: list[_Pattern] = []
        for raw in patterns:
            text = raw.strip(gp.GO_SPACE)
            if not text:
                continue
            text = gp.go_clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                if text == "!":
                    raise ContextError('illegal exclusion pattern: "!"')
                text = text[1:]
            try:
                gp.check_glob(text)
                self._patterns.append(_Pattern(text, exclusion))
            except (gp.BadPattern, re.error) as err:
                raise ContextError(f"invalid ignore pattern {raw.strip()!r}: {err}") from err
        self._exclusions = any(p.exclusion for p in self._patterns)

    @property
    def exclusions(self) -> bool:
        """Whether any pattern is an exception (``!pattern``)."""
        return self._exclusions

    def excluded(self, path: str) -> bool:
        """Whether ``path`` (relative to the context root, '/'-separated) is left out."""
        path = _clean(path)
        if path == ".":
            return False
        last = self._last_match(path)
        return last >= 0 and not self._patterns[last].exclusion

    def can_skip_dir(self, dirpath: str) -> bool:
        """True when ``dirpath`` and everything below it are excluded, so a walk may prune it."""
        dirpath = _clean(dirpath)
        if dirpath == ".":
            return False
        last = self._last_match(dirpath)
        if last < 0 or self._patterns[last].exclusion:
            return False
        return self._nothing_reincluded_below(dirpath, last)

    def _last_match(self, path: str) -> int:
        """Index of the last pattern matching path or a parent of it, or -1."""
        parents = _parents(path)
        for index in range(len(self._patterns) - 1, -1, -1):
            match = self._patterns[index].match
            if match(path) or any(match(parent) for parent in parents):
                return index
        return -1

    def _nothing_reincluded_below(self, dirpath: str, last: int) -> bool:
        # Below an excluded directory, patterns up to its deciding one keep matching (through
        # the parent rule), so only a later exception that can match inside may re-include.
        return not any(
            p.exclusion and p.may_match_below(dirpath) for p in self._patterns[last + 1 :]
        )


@dataclass(slots=True)
class _Frame:
    """An open directory of the walk."""

    path: str  # relative to the root, with a trailing '/'; "" for the root itself
    entries: list[tuple[str, bool]]  # (name, is a real directory), last name first
    mask: int  # bit i set: pattern i matched this directory or one of its parents
    yielded: bool


def walk_context(root: str | os.PathLike[str], matcher: PatternMatcher) -> Iterator[str]:
    """Yield the relative paths a build context keeps, depth first, names sorted per directory.

    A directory comes before its contents (Go's filepath.Walk order). Symlinks are listed, not
    followed. An excluded directory is yielded only as the parent of something re-included.
    """
    top = os.fspath(root)
    if not os.path.isdir(top):
        raise ContextError(f"build context {top} is not a directory")
    matches = [pattern.match for pattern in matcher._patterns]
    is_exception = [pattern.exclusion for pattern in matcher._patterns]
    newest_first = list(enumerate(matches))[::-1]
    stack = [_Frame("", _list_dir(top, "", excluded=False), 0, True)]
    pending = 0  # frames of excluded directories not yielded (yet)
    while stack:
        frame = stack[-1]
        if not frame.entries:
            pending -= not stack.pop().yielded
            continue
        name, is_dir = frame.entries.pop()
        path = frame.path + name
        mask = frame.mask
        last = mask.bit_length() - 1
        if is_dir:
            for index, match in enumerate(matches):
                if not mask >> index & 1 and match(path):
                    mask |= 1 << index
            last = mask.bit_length() - 1
        else:  # only patterns after the parent's deciding one can change the verdict
            for index, match in newest_first:
                if index <= last:
                    break
                if match(path):
                    last = index
                    break
        excluded = last >= 0 and not is_exception[last]
        if excluded and (not is_dir or matcher._nothing_reincluded_below(path, last)):
            continue
        if not excluded:
            if pending:
                for ancestor in stack:
                    if not ancestor.yielded:
                        ancestor.yielded = True
                        yield ancestor.path[:-1]
                pending = 0
            yield path
        if is_dir:
            children = _list_dir(os.path.join(top, path), path, excluded=excluded)
            stack.append(_Frame(path + "/", children, mask, not excluded))
            pending += excluded


def _list_dir(directory: str, relative: str, *, excluded: bool) -> list[tuple[str, bool]]:
    """Entries of a directory as (name, is a real directory), in reverse name order."""
    try:
        with os.scandir(directory) as scan:
            entries = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in scan]
    except PermissionError as e:
        if excluded:  # BuildKit too ignores an unreadable directory it would not send
            return []
        raise ContextError(f"cannot read build context directory {relative or '.'}") from e
    except OSError as err:
        where = relative or "."
        raise ContextError(f"cannot read build context directory {where}: {err}") from err
    entries.sort(reverse=True)
    return entries
