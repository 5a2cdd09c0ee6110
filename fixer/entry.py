"""Console entry point: answers ``--version`` before importing anything heavy."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from fixer import __version__

        sys.stdout.write(f"tighten {__version__}\n")
        return
    try:
        from fixer.cli import main as cli_main
    except KeyboardInterrupt:  # Ctrl-C while the modules load: the same exit as later on
        sys.stderr.write("tighten: interrupted\n")
        sys.exit(130)
    cli_main()
