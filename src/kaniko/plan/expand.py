"""Variable expansion of one instruction, only where Docker expands.

The list is BuildKit's: the ``Expand`` methods of frontend/dockerfile/instructions/
commands.go and what frontend/dockerfile/dockerfile2llb/convert.go expands itself.

Expanded: ENV and LABEL keys and values, ADD/COPY sources, destination, ``--chown``,
``--chmod`` and ADD's ``--checksum``; WORKDIR, USER, STOPSIGNAL, VOLUME; EXPOSE (with
word splitting); the ``key=value`` values of ``RUN --mount`` (``from`` may not use a
variable). The bodies of COPY/ADD here-documents with an unquoted delimiter are expanded
with quotes kept as content, as BuildKit does; the result is final (chomped,
``expand=False``).
Never expanded: ``--exclude`` patterns and ``--from`` (an error if it names a variable),
RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD text. RUN
here-documents stay as written: the shell expands them when it runs them.
ARG names and defaults are expanded by the planner when declared
(``_Planner._arg_name`` in :mod:`kaniko.plan.builder`, and
:class:`~kaniko.plan.scope.StageScope`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from kaniko.dockerfile.ast import Heredoc
from kaniko.dockerfile.commands import (
    Add,
    Command,
    Copy,
    Env,
    Expose,
    KeyValue,
    Label,
    Run,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from kaniko.dockerfile.heredoc import heredoc_body
from kaniko.dockerfile.mounts import MountError, parse_mount
from kaniko.dockerfile.shell import ShellLex
from kaniko.errors import DockerfileError, ExpansionError

_PORT = re.compile(r"^(?:\d+(?:-\d+)?)(?:/(?:tcp|udp|sctp))?$", re.IGNORECASE)
_SIGNALS = frozenset(
    (
        *("ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO"),
        *("IOT", "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP"),
        *("SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "UNUSED", "URG", "USR1", "USR2"),
        *("VTALRM", "WINCH", "XCPU", "XFSZ"),
    )
)
_RT_SIGNAL = re.compile(r"^RTM(?:IN(?:\+\d+)?|AX(?:-\d+)?)$")
# What expansion may add to a whole Dockerfile, over the words as written (one word is
# bounded by the lexer): 10 000 lines each copying a 1 MiB variable would otherwise put
# 10 GB into the image config.
MAX_GROWTH = 64 << 20


class Expander:
    """Expands words for one Dockerfile (its escape character and path)."""

    def __init__(self, escape: str, path: str) -> None:
        self.lex = ShellLex(escape)
        self.raw = ShellLex("\\", skip_process_quotes=True)
        self.path = path
        self.growth = 0  # bytes expansion added to this Dockerfile's words so far

    def _fail(self, message: str, line: int) -> DockerfileError:
        return DockerfileError(message, path=self.path, line=line)

    def _grown(self, text: str, result: str, line: int) -> None:
        self.growth += max(0, len(result) - len(text))
        if self.growth > MAX_GROWTH:
            raise self._fail(
                f"variable expansion too large: more than {MAX_GROWTH >> 20} MiB added to "
                "the Dockerfile's words",
                line,
            )

    def word(self, text: str, env: Mapping[str, str], line: int) -> str:
        try:
            result = self.lex.process_word(text, env)
        except ExpansionError as exc:
            raise self._fail(str(exc), line) from None
        self._grown(text, result, line)
        return result

    def words(self, text: str, env: Mapping[str, str], line: int) -> list[str]:
        try:
            result = self.lex.process_words(text, env)
        except ExpansionError as exc:
            raise self._fail(str(exc), line) from None
        self._grown(text, "".join(result), line)
        return result

    def content(self, doc: Heredoc, env: Mapping[str, str], line: int) -> Heredoc:
        body = heredoc_body(doc)
        if doc.expand:
            try:
                expanded = self.raw.process_word(body, env)
            except ExpansionError as exc:
                raise self._fail(str(exc), line) from None
            self._grown(body, expanded, line)
            body = expanded
        return replace(doc, content=body, expand=False, chomp=False)

    def instruction(self, inst: Command, env: Mapping[str, str]) -> Command:
        """``inst`` with its expandable words expanded in ``env``."""
        line = inst.line

        def w(text: str) -> str:
            return self.word(text, env, line)

        if isinstance(inst, Env | Label):
            pairs = tuple(KeyValue(w(kv.key), w(kv.value)) for kv in inst.pairs)
            return replace(inst, pairs=pairs)
        if isinstance(inst, Copy | Add):
            changes: dict[str, object] = {
                "sources": tuple(w(s) for s in inst.sources),
                "dest": w(inst.dest),
                "chown": w(inst.chown),
                "chmod": w(inst.chmod),
                "contents": tuple(self.content(d, env, line) for d in inst.contents),
            }
            if isinstance(inst, Add):
                changes["checksum"] = w(inst.checksum)
            return replace(inst, **changes)  # type: ignore[arg-type]  # fields COPY, ADD share
        if isinstance(inst, Workdir):
            return replace(inst, path=w(inst.path))
        if isinstance(inst, User):
            return replace(inst, user=w(inst.user))
        if isinstance(inst, StopSignal):
            return replace(inst, signal=self._signal(w(inst.signal), line))
        if isinstance(inst, Volume):
            return replace(inst, volumes=self._volumes(tuple(w(v) for v in inst.volumes), line))
        if isinstance(inst, Expose):
            ports = tuple(p for port in inst.ports for p in self.words(port, env, line))
            return replace(inst, ports=self._ports(ports, line))
        if isinstance(inst, Run) and inst.mount_specs:
            try:
                mounts = tuple(parse_mount(spec, w) for spec in inst.mount_specs)
            except MountError as exc:
                raise self._fail(str(exc), line) from None
            return replace(inst, mounts=mounts)
        return inst

    def _signal(self, signal: str, line: int) -> str:
        name = signal.upper().removeprefix("SIG")
        if signal.isdigit() and 0 < int(signal) <= 64:
            return signal
        if name in _SIGNALS or _RT_SIGNAL.match(name):
            return signal
        raise self._fail(f"Invalid signal: {signal}", line)

    def _volumes(self, volumes: tuple[str, ...], line: int) -> tuple[str, ...]:
        if any(not v.strip() for v in volumes):
            raise self._fail("VOLUME specified can not be an empty string", line)
        return volumes

    def _ports(self, ports: tuple[str, ...], line: int) -> tuple[str, ...]:
        for port in ports:
            spec = port.rsplit(":", 1)[-1]  # an ip:[hostPort:] prefix is allowed and ignored
            if not _PORT.match(spec):
                raise self._fail(f"invalid port in EXPOSE: {port}", line)
        return ports
