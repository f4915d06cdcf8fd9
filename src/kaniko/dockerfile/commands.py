"""Typed Dockerfile instructions: one frozen dataclass per instruction.

They are built from syntax nodes by :mod:`kaniko.dockerfile.instructions` with words as
written (no variables expanded); the planner (:mod:`kaniko.plan`) returns copies with
variables expanded where Docker expands them. Every instruction keeps its source text and
line range. Durations of ``HEALTHCHECK`` are integer nanoseconds, as in an image config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kaniko.dockerfile.ast import Heredoc
from kaniko.dockerfile.mounts import Mount


@dataclass(frozen=True, slots=True, kw_only=True)
class Instruction:
    """What every instruction carries: its text and where it is."""

    keyword: ClassVar[str] = ""
    original: str
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One ``key=value`` of ENV or LABEL."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ArgDef:
    """One name of an ARG, with its default (``None`` when it has none)."""

    key: str
    value: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class From(Instruction):
    """``FROM [--platform=P] base [AS name]``; ``name`` is lower-cased, ``""`` if none."""

    keyword: ClassVar[str] = "FROM"
    base: str
    name: str = ""
    platform: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Arg(Instruction):
    keyword: ClassVar[str] = "ARG"
    pairs: tuple[ArgDef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Env(Instruction):
    keyword: ClassVar[str] = "ENV"
    pairs: tuple[KeyValue, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Label(Instruction):
    keyword: ClassVar[str] = "LABEL"
    pairs: tuple[KeyValue, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Run(Instruction):
    """``RUN``: ``cmd`` is one shell string (``json=False``) or the exec-form argv.

    ``heredocs`` are the here-documents as written (the shell expands unquoted ones when
    it runs them); ``mount_specs`` are the raw ``--mount`` values, ``mounts`` their parsed
    form; ``devices`` the ``--device`` values as written (the executor refuses them).
    """

    keyword: ClassVar[str] = "RUN"
    cmd: tuple[str, ...]
    json: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    mount_specs: tuple[str, ...] = ()
    mounts: tuple[Mount, ...] = ()
    network: str = ""
    security: str = ""
    devices: tuple[str, ...] = ()

    @property
    def prepend_shell(self) -> bool:
        return not self.json


@dataclass(frozen=True, slots=True, kw_only=True)
class _FileCopy(Instruction):
    """Fields shared by COPY and ADD.

    ``sources`` are the path (or URL) sources, ``contents`` the here-document sources
    (``Heredoc.name`` is the file name written under ``dest``); ``chmod`` may be octal or,
    as BuildKit allows, symbolic.
    """

    sources: tuple[str, ...]
    dest: str
    contents: tuple[Heredoc, ...] = ()
    chown: str = ""
    chmod: str = ""
    link: bool = False
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Copy(_FileCopy):
    keyword: ClassVar[str] = "COPY"
    from_: str = ""
    parents: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Add(_FileCopy):
    """``ADD``; ``unpack`` is ``None`` unless ``--unpack`` was given."""

    keyword: ClassVar[str] = "ADD"
    checksum: str = ""
    keep_git_dir: bool = False
    unpack: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Workdir(Instruction):
    keyword: ClassVar[str] = "WORKDIR"
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class User(Instruction):
    keyword: ClassVar[str] = "USER"
    user: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cmd(Instruction):
    """``CMD``: one shell string (``json=False``) or the exec-form argv (may be empty)."""

    keyword: ClassVar[str] = "CMD"
    cmd: tuple[str, ...]
    json: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Entrypoint(Instruction):
    keyword: ClassVar[str] = "ENTRYPOINT"
    cmd: tuple[str, ...]
    json: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Shell(Instruction):
    keyword: ClassVar[str] = "SHELL"
    shell: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Expose(Instruction):
    """``EXPOSE``; ports sorted as BuildKit sorts them (as text)."""

    keyword: ClassVar[str] = "EXPOSE"
    ports: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Volume(Instruction):
    keyword: ClassVar[str] = "VOLUME"
    volumes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StopSignal(Instruction):
    keyword: ClassVar[str] = "STOPSIGNAL"
    signal: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Healthcheck(Instruction):
    """``HEALTHCHECK``: ``test`` is ``("NONE",)``, ``("CMD", argv…)`` or ``("CMD-SHELL", s)``.

    Durations are nanoseconds, ``0`` meaning "inherit"; ``retries`` ``0`` likewise.
    """

    keyword: ClassVar[str] = "HEALTHCHECK"
    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0

    @property
    def disabled(self) -> bool:
        return self.test == ("NONE",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Maintainer(Instruction):
    keyword: ClassVar[str] = "MAINTAINER"
    maintainer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Onbuild(Instruction):
    """``ONBUILD``: ``expression`` is the trigger's text as stored in an image config."""

    keyword: ClassVar[str] = "ONBUILD"
    expression: str


Command = (
    Arg
    | Env
    | Label
    | Run
    | Copy
    | Add
    | Workdir
    | User
    | Cmd
    | Entrypoint
    | Shell
    | Expose
    | Volume
    | StopSignal
    | Healthcheck
    | Maintainer
    | Onbuild
)
"""Every instruction that may appear inside a stage (all but FROM)."""


@dataclass(frozen=True, slots=True)
class StageDef:
    """A stage as written: its FROM and the instructions up to the next FROM."""

    from_: From
    commands: tuple[Command, ...]
