"""argv → parsed flag values, with cobra/pflag spellings.

pflag reads argv differently from argparse: a bare bool flag never takes the next word
(``--cache false`` is ``--cache`` plus a stray ``false``), a value flag always takes the
next word even when it starts with ``-``, short flags accept ``-fX``, ``-f=X`` and
``-f X``, and abbreviations are not allowed. :func:`normalize` first rewrites argv into
unambiguous ``--name=value`` words by those rules; argparse then converts and collects
the values (repeatable flags append) and renders the help from the flag table.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from kaniko.cli.flags import BY_LONG, BY_SHORT, FLAGS, GROUPS, Flag, converter, metavar
from kaniko.cli.values import format_duration
from kaniko.errors import UsageError

HELP_FLAGS = frozenset({"-h", "--help"})


@dataclass(frozen=True, slots=True)
class ParsedArgs:
    """The result of parsing: flag values by attribute, positional words, flags used."""

    values: dict[str, Any]
    positionals: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()  # long names of the flags given, in order
    help: bool = False


@dataclass
class _Normalized:
    words: list[str] = field(default_factory=list)
    positionals: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    help: bool = False


def normalize(argv: Sequence[str], flags: Sequence[Flag] = FLAGS) -> _Normalized:
    """Rewrite ``argv`` into ``--name=value`` words by pflag's rules (``flags``: the
    table of the command, the executor's by default)."""
    by_long, by_short = _tables(flags)
    out = _Normalized()
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == "--":
            out.positionals.extend(argv[i:])
            break
        if word in HELP_FLAGS:
            out.help = True
            continue
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            flag = by_long.get(name)
            if flag is None or not name:
                raise UsageError(f"unknown flag: --{name}")
            shown = f"--{name}"
            explicit = bool(eq)
        elif word.startswith("-") and len(word) > 1:
            letter, rest = word[1], word[2:]
            flag = by_short.get(letter)
            if flag is None:
                raise UsageError(f"unknown shorthand flag: {letter!r} in {word}")
            shown = f"-{letter}"
            explicit = bool(rest)
            value = rest[1:] if rest.startswith("=") else rest
        else:
            out.positionals.append(word)
            continue
        if not explicit:
            if flag.kind == "bool":
                value = "true"
            elif flag.kind == "optional":
                value = flag.bare
            elif i < len(argv):
                value = argv[i]
                i += 1
            else:
                raise UsageError(f"flag needs an argument: {shown}")
        out.words.append(f"--{flag.name}={value}")
        out.seen.append(flag.name)
    return out


class _Parser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Cobra-like rows: ``-f, --dockerfile string   help (default "Dockerfile")``."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=44, width=100)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        longs = [s for s in action.option_strings if s.startswith("--")]
        shorts = [s for s in action.option_strings if not s.startswith("--")]
        text = (f"{shorts[0]}, " if shorts else "    ") + ", ".join(longs)
        return f"{text} {action.metavar}" if action.metavar else text


def _typed(flag: Flag) -> Any:
    convert = converter(flag)

    def parse(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(
                f'invalid argument "{text}" for "--{flag.name}" flag: {exc}'
            ) from None

    parse.__name__ = flag.kind
    return parse


def _help_text(flag: Flag) -> str:
    if flag.hidden:
        return argparse.SUPPRESS
    text = flag.help
    default = flag.default
    if flag.kind == "duration":
        text += f" (default {format_duration(default)})"
    elif flag.kind == "bool" and default:
        text += " (default true)"
    elif flag.kind == "size":
        text += f' (default "{default}")'
    elif flag.kind in {"str", "int"} and default not in ("", None):
        text += f' (default "{default}")' if flag.kind == "str" else f" (default {default})"
    return text


@dataclass(frozen=True)
class Command:
    """A command's flag table and the texts of its help."""

    flags: Sequence[Flag]
    groups: Sequence[str]
    usage: str
    description: str
    epilog: str = ""


EXECUTOR = Command(
    FLAGS,
    GROUPS,
    "{prog} [flags]\n       {prog} version\n       {prog} warmer [flags]",
    "Build a container image from a Dockerfile, without a Docker daemon.",
    "Commands:\n  version    print the version and exit\n"
    "  warmer     save base images into the base-image cache (see: warmer --help)",
)


def _tables(flags: Sequence[Flag]) -> tuple[dict[str, Flag], dict[str, Flag]]:
    if flags is FLAGS:
        return BY_LONG, BY_SHORT
    return {f.name: f for f in flags}, {f.short: f for f in flags if f.short}


def build_parser(prog: str = "kaniko", command: Command = EXECUTOR) -> argparse.ArgumentParser:
    """The argparse parser for ``command`` (the executor), its flags grouped as in the help."""
    parser = _Parser(
        prog=prog,
        usage=command.usage.format(prog=prog),
        description=command.description,
        epilog=command.epilog,
        add_help=False,
        allow_abbrev=False,
        formatter_class=_Formatter,
        exit_on_error=False,
    )
    groups = {name: parser.add_argument_group(name) for name in command.groups}
    for flag in command.flags:
        names = [f"-{flag.short}"] if flag.short else []
        names.append(f"--{flag.name}")
        groups[flag.group].add_argument(
            *names,
            dest=flag.attr,
            type=_typed(flag),
            action="append" if flag.repeatable else "store",
            default=[] if flag.repeatable else flag.default,
            metavar=metavar(flag) or None,
            help=_help_text(flag),
        )
    other = parser.add_argument_group("Other flags")
    other.add_argument("-h", "--help", action="store_true", help="Show this help and exit")
    return parser


def parse_argv(
    argv: Sequence[str], prog: str = "kaniko", command: Command = EXECUTOR
) -> ParsedArgs:
    """Parse ``argv`` (without the program name); raises :class:`UsageError`."""
    normalized = normalize(argv, command.flags)
    if normalized.help:
        return ParsedArgs(values={}, help=True)
    parser = build_parser(prog, command)
    try:
        namespace = parser.parse_args(normalized.words)
    except argparse.ArgumentError as exc:
        raise UsageError(exc.message) from None
    values = vars(namespace)
    values.pop("help", None)
    for flag in command.flags:
        if flag.repeatable:
            values[flag.attr] = list(values[flag.attr])
    return ParsedArgs(values, tuple(normalized.positionals), tuple(normalized.seen))


def format_help(prog: str = "kaniko", command: Command = EXECUTOR) -> str:
    """The text of ``--help``."""
    return build_parser(prog, command).format_help()
