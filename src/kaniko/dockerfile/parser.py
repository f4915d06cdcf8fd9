"""The Dockerfile parser: text in, :class:`~kaniko.dockerfile.ast.Dockerfile` out, syntax only.

It follows BuildKit's parser (moby/buildkit frontend/dockerfile/parser) line for line in
what it accepts and produces, so that the differential tests in tests/dockerfile can hold
it to the same output field by field:

- parser directives (``# syntax=``, ``# escape=``, ``# check=``) are read only from the
  top of the file, before any other comment, empty line or instruction; keys are
  case-insensitive, a repeated one is an error, an unknown one ends the directives;
- a line ending in the escape character (optionally followed by blanks) continues on
  the next line; comment lines and empty lines inside a continuation are skipped;
- each logical line is split by :mod:`kaniko.dockerfile.lines`; RUN, COPY and ADD (also
  under ONBUILD) in shell form may open heredocs (:mod:`kaniko.dockerfile.heredoc`),
  whose bodies follow the line.

Unknown instructions are kept (their arguments dropped, as BuildKit does): rejecting them
is the job of the instruction layer. Where BuildKit rejects the file, this raises
:class:`~kaniko.errors.DockerfileError` naming the file and line.
"""

from __future__ import annotations

import re

from kaniko.dockerfile.ast import Dockerfile, Heredoc, Node
from kaniko.dockerfile.heredoc import heredocs_from_line
from kaniko.dockerfile.lines import Parsed, dispatch
from kaniko.dockerfile.words import GO_SPACES, LineError, go_lower, split_command
from kaniko.errors import DockerfileError

__all__ = ["KNOWN_DIRECTIVES", "MAX_LINE_BYTES", "parse"]

KNOWN_DIRECTIVES = ("syntax", "escape", "check")
MAX_LINE_BYTES = 65535  # bufio.Scanner's limit on a line, its newline excluded
_HEREDOC_CMDS = frozenset({"run", "copy", "add"})
_RE_DIRECTIVE = re.compile(
    r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*"
)
_RE_LINES = re.compile(r"[^\n]*\n|[^\n]+")


def _continuation_regex(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z")


_CONTINUATION = {"\\": _continuation_regex("\\"), "`": _continuation_regex("`")}


class _Directives:
    """The directive block at the top of the file (BuildKit's DirectiveParser)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.done = False
        self.found: dict[str, str] = {}
        self.escape = "\\"

    def feed(self, line: str, number: int) -> None:
        if self.done:
            return
        match = _RE_DIRECTIVE.fullmatch(line)
        key = match.group(1).lower() if match else ""
        if key not in KNOWN_DIRECTIVES:
            self.done = True
            return
        if key in self.found:
            raise DockerfileError(
                f"only one {key} parser directive can be used", path=self.path, line=number
            )
        value = match.group(2) if match else ""
        self.found[key] = value
        if key == "escape":
            if value not in ("\\", "`"):
                raise DockerfileError(
                    f"invalid escape token '{value}' does not match ` or \\",
                    path=self.path,
                    line=number,
                )
            self.escape = value


def _split_lines(text: str) -> tuple[list[str], int | None]:
    """Physical lines with their newlines; stops at a line too long for BuildKit's scanner.

    Returns the lines and, if one was too long, its 1-based number.
    """
    lines = _RE_LINES.findall(text)
    for index, raw in enumerate(lines):
        if len(raw) > MAX_LINE_BYTES // 4:
            size = len(raw.encode("utf-8", "surrogateescape"))
            limit = MAX_LINE_BYTES + 1 if raw.endswith("\n") else MAX_LINE_BYTES
            if size > limit:
                return lines[:index], index + 1
    return lines, None


def _is_comment(raw: str) -> bool:
    return raw.lstrip(GO_SPACES).startswith("#")


def _node(
    cmd: str,
    flags: tuple[str, ...],
    original: str,
    parsed: Parsed,
    lines: tuple[int, int],
    heredocs: tuple[Heredoc, ...] = (),
) -> Node:
    start, end = lines
    sub = None
    if parsed.sub is not None:
        sub_cmd, sub_flags, sub_original, sub_parsed = parsed.sub
        sub = _node(sub_cmd, sub_flags, sub_original, sub_parsed, lines)
    return Node(
        cmd=go_lower(cmd),
        original=original,
        start_line=start,
        end_line=end,
        value=parsed.value,
        flags=flags,
        json=parsed.json,
        heredocs=heredocs,
        sub=sub,
    )


def _may_open_heredocs(cmd: str, parsed: Parsed) -> bool:
    if go_lower(cmd) == "onbuild" and parsed.sub is not None:
        cmd, parsed = parsed.sub[0], parsed.sub[3]
    return go_lower(cmd) in _HEREDOC_CMDS and not parsed.json


def _trim_continuation(token: str, escape: str) -> tuple[str, bool]:
    """The line without its trailing continuation escape, and whether it had one.

    An escape preceded by another escape does not continue the line; blanks after it do
    not matter.
    """
    if not token.rstrip(" \t").endswith(escape):
        return token, False
    match = _CONTINUATION[escape].search(token)
    if match is None:
        return token, False
    return token[: match.start()] + (match.group(1) or ""), True


def _join_continuations(
    first: str, lines: list[str], index: int, escape: str
) -> tuple[str, int, bool]:
    """The logical line starting with ``first``, its continuation lines read from
    ``lines[index:]``: the line, the index after it, and whether an empty line was skipped.
    """
    line, more = _trim_continuation(first, escape)
    parts = [line]
    skipped_empty = False
    while more and index < len(lines):
        raw = lines[index]
        index += 1
        if _is_comment(raw):
            continue
        token = raw.rstrip("\r\n")
        if not token.lstrip(GO_SPACES):
            skipped_empty = True
            continue
        line, more = _trim_continuation(token, escape)
        parts.append(line)
    return "".join(parts), index, skipped_empty


def parse(text: str | bytes, path: str = "Dockerfile") -> Dockerfile:
    """Parse a Dockerfile's text (str, or UTF-8 bytes with or without a BOM)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    lines, too_long_at = _split_lines(text)
    directives = _Directives(path)
    nodes: list[Node] = []
    warnings: list[str] = []
    index = 0  # the next physical line to read, which is also the number of lines read
    while index < len(lines):
        raw = lines[index].removeprefix("\ufeff") if index == 0 else lines[index]
        index += 1
        start = index
        token = raw.rstrip("\r\n").lstrip(GO_SPACES)
        directives.feed(token, start)
        if token.startswith("#"):
            token = ""
        if not _trim_continuation(token, directives.escape)[1] and not token:
            continue
        line, index, skipped_empty = _join_continuations(token, lines, index, directives.escape)
        if skipped_empty:
            warnings.append(f"{path}:{start}: empty continuation line found in: {line}")
        heredocs: tuple[Heredoc, ...] = ()
        try:
            cmd, flags, args = split_command(line)
            parsed = dispatch(cmd)(args, directives.escape)
            if "<<" in line and _may_open_heredocs(cmd, parsed):
                heredocs, index = _read_heredocs(line, lines, index)
        except LineError as err:
            raise DockerfileError(str(err), path=path, line=start) from None
        nodes.append(_node(cmd, flags, line, parsed, (start, index), heredocs))
    if not nodes:
        raise DockerfileError("file with no instructions", path=path, line=max(index, 1))
    if too_long_at is not None:
        raise DockerfileError(
            f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}",
            path=path,
            line=too_long_at,
        )
    return Dockerfile(
        path=path,
        nodes=tuple(nodes),
        directives=dict(directives.found),
        escape=directives.escape,
        warnings=tuple(warnings),
    )


def _read_heredocs(line: str, lines: list[str], index: int) -> tuple[tuple[Heredoc, ...], int]:
    """The heredocs ``line`` opens, their bodies read from ``lines[index:]``.

    Returns them and the index of the first line after the last terminator.
    """
    found: list[Heredoc] = []
    count = len(lines)
    for heredoc in heredocs_from_line(line):
        body: list[str] = []
        while True:
            if index >= count:
                raise LineError("unterminated heredoc")
            raw = lines[index]
            index += 1
            candidate = raw.rstrip("\r\n")
            if heredoc.chomp:
                candidate = candidate.lstrip("\t")
            if candidate == heredoc.name:
                break
            body.append(raw)
        found.append(
            Heredoc(
                name=heredoc.name,
                content="".join(body),
                file_descriptor=heredoc.file_descriptor,
                expand=heredoc.expand,
                chomp=heredoc.chomp,
            )
        )
    return tuple(found), index
