"""The syntax tree of a Dockerfile: what the parser produces, before any semantics.

It mirrors BuildKit's parser output node for node (instruction name, flags, the value
words, JSON form or not, heredocs, first and last line) so that conformance with BuildKit
can be tested field by field. Typed instructions are built from these nodes by
:mod:`kaniko.dockerfile.instructions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Heredoc:
    """One here-document attached to an instruction (``<<EOF`` … ``EOF``)."""

    name: str
    content: str
    file_descriptor: int = 0
    expand: bool = True  # False when the delimiter was quoted: no variable expansion
    chomp: bool = False  # True for ``<<-``: leading tabs stripped from the body


@dataclass(frozen=True, slots=True)
class Node:
    """One instruction as written.

    ``cmd`` is the instruction name in lower case. ``value`` holds the words after the
    flags, split as BuildKit splits them for that instruction (one word for shell form,
    the array items for JSON form, key/value pairs for ENV and LABEL …). ``flags`` are the
    raw ``--name=value`` words. For ``ONBUILD``, ``sub`` is the triggered instruction.
    """

    cmd: str
    original: str
    start_line: int
    end_line: int
    value: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    json: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    sub: Node | None = None


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """A parsed Dockerfile: its parser directives and its instructions in order."""

    path: str
    nodes: tuple[Node, ...]
    directives: dict[str, str] = field(default_factory=dict)
    escape: str = "\\"
    warnings: tuple[str, ...] = ()
