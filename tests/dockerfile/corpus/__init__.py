"""Hand-written Dockerfile edge cases and the views that compare our parser with BuildKit's.

Each case module (directives, lines, forms, heredocs, errors) holds a tuple ``CASES`` of
``(id, text)`` pairs, grouped by feature. :func:`oracle_view` and :func:`kaniko_view`
turn the two parsers' outputs into the same plain tuples, field by field.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from kaniko.dockerfile.ast import Dockerfile, Node
from kaniko.dockerfile.parser import parse
from kaniko.dockerfile.words import go_lower
from kaniko.errors import DockerfileError

View = tuple[Any, ...]


def _heredoc_suffix(heredocs: tuple[Any, ...]) -> str:
    # The `dockerfile` package appends each heredoc body and terminator to `original`.
    if not heredocs:
        return ""
    return "\n" + "".join(h.content + h.name + "\n" for h in heredocs)


def oracle_view(commands: tuple[Any, ...]) -> list[View]:
    """What `dockerfile.parse_string` returned, normalised.

    The package keeps instruction names as written; they are lowered the way BuildKit
    lowers them to dispatch (Go's strings.ToLower).
    """
    return [
        (
            go_lower(c.cmd or ""),
            go_lower(c.sub_cmd) if c.sub_cmd else None,
            c.json,
            c.original or "",  # the package reports an empty string as None
            c.start_line,
            c.end_line,
            tuple(c.flags),
            tuple(c.value),
            tuple((h.name, h.content, h.file_descriptor) for h in c.heredocs),
        )
        for c in commands
    ]


def _node_view(node: Node) -> View:
    # The package reports the ONBUILD's own flags but the trigger's value, form and
    # heredocs; BuildKit itself keeps a trigger's heredocs on the ONBUILD node. An
    # ONBUILD's trigger hangs under one empty node in BuildKit's tree, whose value the
    # package shows for a nested ONBUILD ONBUILD.
    shown = node.sub if node.sub is not None else node
    value = ("",) if shown.sub is not None else shown.value
    return (
        node.cmd,
        node.sub.cmd if node.sub is not None else None,
        shown.json,
        node.original + _heredoc_suffix(shown.heredocs),
        node.start_line,
        node.end_line,
        node.flags,
        value,
        tuple((h.name, h.content, h.file_descriptor) for h in shown.heredocs),
    )


def kaniko_view(result: Dockerfile) -> list[View]:
    """Our parse result in the shape of :func:`oracle_view`."""
    return [_node_view(node) for node in result.nodes]


def all_cases() -> list[tuple[str, str]]:
    """Every hand-written case as ``(group/id, text)``."""
    from tests.dockerfile.corpus import directives, forms, heredocs, lines

    return [
        (f"{module.__name__.rsplit('.', 1)[-1]}/{case_id}", text)
        for module in (directives, lines, forms, heredocs)
        for case_id, text in module.CASES
    ]


def _has_lone_byte(word: str) -> bool:
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def assert_same_as_buildkit(text: str, oracle: ModuleType) -> bool:
    """Parse ``text`` with both parsers and require the same result or both to reject it.

    ``oracle`` is the `dockerfile` package. Returns whether BuildKit rejected the text.
    """
    try:
        expected = oracle_view(oracle.parse_string(text))
    except oracle.GoParseError as rejection:
        message = str(rejection)
    except UnicodeDecodeError:
        # BuildKit split a UTF-8 character where it works on bytes (a flag word, the
        # HEALTHCHECK type word) and the package cannot decode its answer; we keep such
        # bytes as surrogate escapes, so our answer must hold one.
        words = [w for n in parse(text).nodes for w in (*n.value, *n.flags, n.original)]
        assert any(not w.isascii() and _has_lone_byte(w) for w in words)
        return False
    else:
        assert kaniko_view(parse(text)) == expected
        return False
    try:
        parse(text)
    except DockerfileError as err:
        assert err.message == message
        assert err.line is not None and err.line >= 1
        assert str(err) == f"Dockerfile:{err.line}: {message}"
        return True
    raise AssertionError(f"BuildKit rejects {text!r} ({message}) but we accepted it")
