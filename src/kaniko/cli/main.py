"""Command-line entry point (placeholder until the CLI module lands)."""

from __future__ import annotations

import sys

from kaniko import __version__


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "version":
        print(f"kaniko version {__version__}")
        return 0
    print("usage: kaniko [flags]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
