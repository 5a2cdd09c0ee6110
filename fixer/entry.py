"""Console entry point: answers ``--version`` before importing anything heavy."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from fixer import __version__

        sys.stdout.write(f"tighten {__version__}\n")
        return
    from fixer.cli import main as cli_main

    cli_main()
