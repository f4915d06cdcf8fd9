"""From syntax nodes to typed instructions, and a Dockerfile into its stages.

Like BuildKit's ``instructions.Parse``: each node becomes one frozen dataclass of
:mod:`kaniko.dockerfile.commands` (words as written, no variables expanded), its flags are
checked against the flags that instruction accepts (:mod:`kaniko.dockerfile.flags`), and
argument counts are checked. :func:`split_stages` then groups them: the ARGs before the
first FROM are the meta ARGs, every FROM opens a stage. Every error is a
:class:`~kaniko.errors.DockerfileError` naming ``FILE:LINE`` with BuildKit's wording.

One deliberate difference: the instruction an ``ONBUILD`` registers is checked here (as
it will be when a child image runs it), so a broken trigger fails where it is written.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from kaniko.dockerfile.ast import Dockerfile, Node
from kaniko.dockerfile.commands import (
    Arg,
    ArgDef,
    Cmd,
    Command,
    Entrypoint,
    Env,
    Expose,
    From,
    Label,
    Maintainer,
    Onbuild,
    Shell,
    StageDef,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from kaniko.dockerfile.flags import FlagError
from kaniko.dockerfile.instruction_flags import (
    NodeError,
    base,
    command_line,
    exactly_one,
    flags,
    pairs,
    parse_add,
    parse_copy,
    parse_from,
    parse_healthcheck,
    parse_run,
)
from kaniko.dockerfile.mounts import MountError
from kaniko.errors import DockerfileError

__all__ = ["INSTRUCTIONS", "parse_instruction", "split_stages"]

INSTRUCTIONS = (
    *("add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck"),
    *("label", "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume"),
    "workdir",
)


def parse_instruction(node: Node, *, path: str = "Dockerfile") -> From | Command:
    """Turn one syntax node into its typed instruction."""
    try:
        return _parse(node)
    except (NodeError, FlagError, MountError) as exc:
        raise DockerfileError(str(exc), path=path, line=node.start_line) from None


def split_stages(dockerfile: Dockerfile) -> tuple[tuple[Arg, ...], tuple[StageDef, ...]]:
    """Split a parsed Dockerfile into its meta ARGs and its stages."""
    path = dockerfile.path
    if not dockerfile.nodes:
        raise DockerfileError("file with no instructions", path=path)
    meta: list[Arg] = []
    stages: list[tuple[From, list[Command]]] = []
    for node in dockerfile.nodes:
        inst = parse_instruction(node, path=path)
        if isinstance(inst, From):
            stages.append((inst, []))
        elif stages:
            stages[-1][1].append(inst)
        elif isinstance(inst, Arg):
            meta.append(inst)
        else:
            raise DockerfileError(
                f"no build stage in current context: {inst.keyword} comes before the first "
                "FROM (only ARG may)",
                path=path,
                line=node.start_line,
            )
    if not stages:
        raise DockerfileError("dockerfile contains no stages to build", path=path)
    return tuple(meta), tuple(StageDef(f, tuple(cmds)) for f, cmds in stages)


# What an error may repeat as an unknown instruction's name: a word shaped like a keyword
# (the longest real one, HEALTHCHECK, has 11 letters).
_KEYWORD_LIKE = re.compile(r"[A-Za-z]{1,12}")


def _parse(node: Node) -> From | Command:
    parser = _PARSERS.get(node.cmd.lower())
    if parser is None:
        if not _KEYWORD_LIKE.fullmatch(node.cmd):
            # Not shown: a file that is not a Dockerfile (a credentials file, a key) must
            # not have its first line printed in a log.
            raise NodeError("unknown instruction: the line does not start with an instruction")
        message = f"unknown instruction: {node.cmd.upper()}"
        close = difflib.get_close_matches(node.cmd.lower(), INSTRUCTIONS, n=1, cutoff=0.75)
        raise NodeError(f"{message} (did you mean {close[0].upper()}?)" if close else message)
    return parser(node)


def _parse_arg(node: Node) -> Arg:
    if not node.value:
        raise NodeError("ARG requires at least one argument")
    flags(node)
    found = []
    for word in node.value:
        key, eq, value = word.partition("=")
        if not key:
            raise NodeError("ARG names can not be blank")
        found.append(ArgDef(key, value if eq else None))
    return Arg(**base(node), pairs=tuple(found))


def _parse_env(node: Node) -> Env:
    flags(node)
    return Env(**base(node), pairs=pairs(node, "ENV"))


def _parse_label(node: Node) -> Label:
    flags(node)
    return Label(**base(node), pairs=pairs(node, "LABEL"))


def _parse_cmd(node: Node) -> Cmd:
    flags(node)
    return Cmd(**base(node), cmd=command_line(node), json=node.json)


def _parse_entrypoint(node: Node) -> Entrypoint:
    flags(node)
    return Entrypoint(**base(node), cmd=command_line(node), json=node.json)


def _parse_shell(node: Node) -> Shell:
    flags(node)
    if not node.value:
        raise NodeError("SHELL requires at least one argument")
    if not node.json:
        raise NodeError("SHELL requires the arguments to be in JSON form")
    return Shell(**base(node), shell=tuple(node.value))


def _parse_workdir(node: Node) -> Workdir:
    path = exactly_one(node, "WORKDIR")
    flags(node)
    return Workdir(**base(node), path=path)


def _parse_user(node: Node) -> User:
    user = exactly_one(node, "USER")
    flags(node)
    return User(**base(node), user=user)


def _parse_maintainer(node: Node) -> Maintainer:
    name = exactly_one(node, "MAINTAINER")
    flags(node)
    return Maintainer(**base(node), maintainer=name)


def _parse_stopsignal(node: Node) -> StopSignal:
    signal = exactly_one(node, "STOPSIGNAL")
    flags(node)
    return StopSignal(**base(node), signal=signal)


def _parse_expose(node: Node) -> Expose:
    if not node.value:
        raise NodeError("EXPOSE requires at least one argument")
    flags(node)
    return Expose(**base(node), ports=tuple(sorted(node.value)))


def _parse_volume(node: Node) -> Volume:
    if not node.value:
        raise NodeError("VOLUME requires at least one argument")
    flags(node)
    volumes = tuple(v.strip() for v in node.value)
    if any(not v for v in volumes):
        raise NodeError("VOLUME specified can not be an empty string")
    return Volume(**base(node), volumes=volumes)


def _parse_onbuild(node: Node) -> Onbuild:
    if node.sub is None:
        raise NodeError("ONBUILD requires at least one argument")
    flags(node)
    trigger = node.sub.cmd.upper()
    if trigger == "ONBUILD":
        raise NodeError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("MAINTAINER", "FROM"):
        raise NodeError(f"{trigger} isn't allowed as an ONBUILD trigger")
    _parse(node.sub)
    expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", node.original)
    expression += "".join(f"\n{doc.content}{doc.name}" for doc in node.heredocs)
    return Onbuild(**base(node), expression=expression)


_PARSERS: dict[str, Callable[[Node], From | Command]] = {
    "from": parse_from,
    "arg": _parse_arg,
    "env": _parse_env,
    "label": _parse_label,
    "run": parse_run,
    "copy": parse_copy,
    "add": parse_add,
    "cmd": _parse_cmd,
    "entrypoint": _parse_entrypoint,
    "shell": _parse_shell,
    "workdir": _parse_workdir,
    "user": _parse_user,
    "maintainer": _parse_maintainer,
    "stopsignal": _parse_stopsignal,
    "expose": _parse_expose,
    "volume": _parse_volume,
    "healthcheck": parse_healthcheck,
    "onbuild": _parse_onbuild,
}
