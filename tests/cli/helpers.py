"""Helpers of the CLI tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kaniko.cli.config import build_options
from kaniko.cli.parser import parse_argv
from kaniko.options import BuildOptions


def options(argv: Sequence[str], env: Mapping[str, str] | None = None) -> BuildOptions:
    """Options for ``argv``, adding ``--no-push`` unless argv pushes or says it."""
    words = list(argv)
    pushes = ("-d", "--destination", "--no-push=")
    if not any(w.startswith(pushes) or w == "--no-push" for w in words):
        words.append("--no-push")
    return build_options(parse_argv(words), env or {})
