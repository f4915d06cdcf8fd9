"""Parsers of the instructions with flags of their own: FROM, RUN, COPY, ADD, HEALTHCHECK.

Each takes one syntax node and returns its typed instruction from
:mod:`kaniko.dockerfile.commands`, words as written. Problems are raised as
:class:`NodeError` (or the flag and mount errors, also ``ValueError``); the caller,
:func:`kaniko.dockerfile.instructions.parse_instruction`, adds the file and line.
"""

from __future__ import annotations

import re
from typing import TypedDict

from kaniko.dockerfile.ast import Heredoc, Node
from kaniko.dockerfile.commands import Add, Copy, From, Healthcheck, KeyValue, Run
from kaniko.dockerfile.flags import FlagKind, FlagValue, parse_duration, parse_flags
from kaniko.dockerfile.heredoc import parse_heredoc_word
from kaniko.dockerfile.mounts import check_network, check_security, parse_mount
from kaniko.dockerfile.words import LineError

B, S, SS = FlagKind.BOOL, FlagKind.STRING, FlagKind.STRINGS
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")
_MIN_INTERVAL_NS = 1_000_000  # 1ms, Docker's minimum healthcheck duration
_COPY_FLAGS = {"chown": S, "chmod": S, "link": B, "exclude": SS}


class NodeError(ValueError):
    """An error of one node; turned into a DockerfileError with its line."""


class Base(TypedDict):
    """The fields every instruction has."""

    original: str
    line: int
    end_line: int


class _Sources(TypedDict):
    sources: tuple[str, ...]
    dest: str
    contents: tuple[Heredoc, ...]


def base(node: Node) -> Base:
    """The fields every instruction has."""
    return {"original": node.original.strip(), "line": node.start_line, "end_line": node.end_line}


def flags(node: Node, spec: dict[str, FlagKind] | None = None) -> dict[str, FlagValue]:
    """The node's flags checked against ``spec`` (no flags allowed when it is None)."""
    return parse_flags(node.flags, spec or {})


def strings(found: dict[str, FlagValue], name: str) -> tuple[str, ...]:
    """The values of strings flag ``name`` (``()`` when it was not given)."""
    value = found.get(name, ())
    assert isinstance(value, tuple), f"--{name} is not a strings flag"
    return value


def exactly_one(node: Node, keyword: str) -> str:
    if len(node.value) != 1:
        raise NodeError(f"{keyword} requires exactly one argument")
    return node.value[0]


def pairs(node: Node, keyword: str) -> tuple[KeyValue, ...]:
    """ENV and LABEL words, which the parser already split into key, value, key, …"""
    words = node.value
    if not words:
        raise NodeError(f"{keyword} requires at least one argument")
    if len(words) % 2:
        raise NodeError(f"Bad input to {keyword}, too many arguments")
    if any(not key for key in words[::2]):
        raise NodeError(f"{keyword} names can not be blank")
    return tuple(KeyValue(k, v) for k, v in zip(words[::2], words[1::2], strict=True))


def command_line(node: Node) -> tuple[str, ...]:
    """Exec form: the JSON items; shell form: the one command string."""
    if node.json:
        return tuple(node.value)
    return (" ".join(node.value),) if node.value else ()


def parse_from(node: Node) -> From:
    args = node.value
    name = ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise NodeError(
                f'invalid name for build stage: "{args[2]}", '
                "name can't start with a number or contain symbols"
            )
    elif len(args) != 1:
        raise NodeError("FROM requires either one or three arguments")
    found = flags(node, {"platform": S})
    return From(**base(node), base=args[0], name=name, platform=str(found.get("platform", "")))


def parse_run(node: Node) -> Run:
    found = flags(node, {"mount": SS, "network": S, "security": S, "device": SS})
    specs = strings(found, "mount")
    network = str(found.get("network", ""))
    security = str(found.get("security", ""))
    return Run(
        **base(node),
        cmd=command_line(node),
        json=node.json,
        heredocs=node.heredocs,
        mount_specs=specs,
        mounts=tuple(parse_mount(spec) for spec in specs),
        network=check_network(network) if network else "",
        security=check_security(security) if security else "",
        devices=strings(found, "device"),
    )


def _heredoc_of(word: str, node: Node) -> Heredoc | None:
    try:
        opened = parse_heredoc_word(word)
    except LineError:
        return None
    if opened is None:
        return None
    for doc in node.heredocs:
        if doc.name == opened.name:
            return doc
    return None


def _sources_and_dest(node: Node, keyword: str) -> _Sources:
    if len(node.value) < 2:
        raise NodeError(
            f"{keyword} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    *sources, dest = node.value
    if _heredoc_of(dest, node) is not None:
        raise NodeError(f"{keyword} cannot accept a heredoc as a destination")
    paths: list[str] = []
    contents: list[Heredoc] = []
    for src in sources:
        doc = _heredoc_of(src, node)
        if doc is None:
            paths.append(src)
        else:
            contents.append(doc)
    return {"sources": tuple(paths), "dest": dest, "contents": tuple(contents)}


def parse_copy(node: Node) -> Copy:
    found = flags(node, {**_COPY_FLAGS, "from": S, "parents": B})
    return Copy(
        **base(node),
        **_sources_and_dest(node, "COPY"),
        from_=str(found.get("from", "")),
        chown=str(found.get("chown", "")),
        chmod=str(found.get("chmod", "")),
        link=bool(found.get("link", False)),
        parents=bool(found.get("parents", False)),
        exclude=strings(found, "exclude"),
    )


def parse_add(node: Node) -> Add:
    found = flags(node, {**_COPY_FLAGS, "checksum": S, "keep-git-dir": B, "unpack": B})
    unpack = found.get("unpack")
    return Add(
        **base(node),
        **_sources_and_dest(node, "ADD"),
        chown=str(found.get("chown", "")),
        chmod=str(found.get("chmod", "")),
        link=bool(found.get("link", False)),
        checksum=str(found.get("checksum", "")),
        keep_git_dir=bool(found.get("keep-git-dir", False)),
        unpack=None if unpack is None else bool(unpack),
        exclude=strings(found, "exclude"),
    )


def _interval(found: dict[str, FlagValue], name: str) -> int:
    text = str(found.get(name, ""))
    if not text:
        return 0
    value = parse_duration(text)
    if value != 0 and value < _MIN_INTERVAL_NS:
        raise NodeError(f'Interval "{name}" cannot be less than 1ms')
    return value


def _retries(text: str) -> int:
    if not text:
        return 0
    try:
        retries = int(text, 10)
    except ValueError:
        raise NodeError(f'invalid value for --retries: "{text}"') from None
    if retries < 0:
        raise NodeError(f"--retries cannot be negative ({retries})")
    return retries


def parse_healthcheck(node: Node) -> Healthcheck:
    if not node.value:
        raise NodeError("HEALTHCHECK requires at least one argument")
    kind, args = node.value[0].upper(), node.value[1:]
    if kind == "NONE":
        if args:
            raise NodeError("HEALTHCHECK NONE takes no arguments")
        return Healthcheck(**base(node), test=("NONE",))
    names = ("interval", "timeout", "start-period", "start-interval", "retries")
    found = flags(node, dict.fromkeys(names, S))
    if kind != "CMD":
        raise NodeError(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    argv = tuple(args) if node.json else (" ".join(args),) if args else ()
    if not argv or argv == ("",):
        raise NodeError("Missing command after HEALTHCHECK CMD")
    return Healthcheck(
        **base(node),
        test=("CMD" if node.json else "CMD-SHELL", *argv),
        interval=_interval(found, "interval"),
        timeout=_interval(found, "timeout"),
        start_period=_interval(found, "start-period"),
        start_interval=_interval(found, "start-interval"),
        retries=_retries(str(found.get("retries", ""))),
    )
