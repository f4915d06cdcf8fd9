"""The ``kaniko`` / ``executor`` command: argv → options → run → exit status.

Exit status: 0 on success; 1 when the build or push fails (a RUN that failed passes its
own exit code on); 2 for a usage error (bad flags, bad flag combinations). Errors are
one ``error: …`` line on stderr, with registered secrets masked; an unexpected
exception also shows its traceback at ``--verbosity=debug`` or ``trace``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from kaniko import __version__
from kaniko.cli.config import build_options, log_options
from kaniko.cli.logging_setup import TRACE, configure_logging, reset_logging
from kaniko.cli.notyet import check_supported
from kaniko.cli.parser import format_help, parse_argv
from kaniko.errors import KanikoError, UsageError
from kaniko.redact import redact
from kaniko.registry.network import cancel_all

log = logging.getLogger("kaniko.cli")

_PROGS = ("kaniko", "executor", "warmer")


def _prog() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name in _PROGS else "kaniko"


def _print_error(text: str) -> None:
    line = " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
    sys.stderr.write(f"error: {redact(line)}\n")
    sys.stderr.flush()


def version_text() -> str:
    """What ``kaniko version`` prints."""
    return f"Kaniko version : {__version__}"


def run(argv: Sequence[str], prog: str = "kaniko") -> int:
    """Parse ``argv``, set up logging, validate and execute; raises on failure."""
    if list(argv[:1]) == ["warmer"]:
        from kaniko.cli.warmer import run as warm

        return warm(argv[1:], prog if prog == "warmer" else f"{prog} warmer")
    parsed = parse_argv(argv, prog)
    if parsed.help or parsed.positionals == ("help",):
        sys.stdout.write(format_help(prog))
        return 0
    if parsed.positionals == ("version",):
        sys.stdout.write(version_text() + "\n")
        return 0
    if parsed.positionals:
        word = parsed.positionals[0]
        hint = ""
        if word.lower() in ("true", "false", "t", "f", "1", "0"):
            hint = " (a bool flag takes its value as --flag=false)"
        raise UsageError(f'unknown command "{word}" for "{prog}"{hint}')
    logs = log_options(parsed)
    handler = configure_logging(logs)
    opts = build_options(parsed, os.environ)
    check_supported(opts)
    from kaniko.cli.progress import terminal_progress
    from kaniko.cli.run import execute

    with terminal_progress(handler, enabled=logs.format != "json") as progress:
        return execute(opts, progress)


class Terminated(BaseException):
    """SIGTERM arrived: unwind (running RUN steps are killed, temp dirs removed)."""


def _on_sigterm(signum: int, frame: object) -> None:
    cancel_all()  # wake upload/download threads blocked on a socket: they end at once
    raise Terminated


def _on_sigint(signum: int, frame: object) -> None:
    cancel_all()
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kaniko`` and ``executor`` scripts; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    previous = previous_int = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        previous_int = signal.signal(signal.SIGINT, _on_sigint)
    try:
        return run(args, _prog())
    except KanikoError as exc:
        log.log(TRACE, "%s failed", type(exc).__name__, exc_info=True)
        _print_error(str(exc) or type(exc).__name__)
        return exc.exit_code
    except KeyboardInterrupt:
        _print_error("interrupted")
        return 130
    except Terminated:
        _print_error("terminated")
        return 143
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        _print_error(f"internal error: {type(exc).__name__}: {exc}")
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
        reset_logging()


if __name__ == "__main__":
    sys.exit(main())
