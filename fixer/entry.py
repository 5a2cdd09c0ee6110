"""Console entry point: answers ``--version`` before importing anything heavy."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from fixer import __version__

        sys.stdout.write(f"tighten {__version__}\n")
        return
    import gc

    # Importing makes objects that live all run and almost no garbage: the collector
    # walked the growing heap 60 times for 30-40 ms before the first file was read.
    gc.disable()
    try:
        from fixer.cli import main as cli_main
        from fixer.parallel import collect_rarely
    except KeyboardInterrupt:  # Ctrl-C while the modules load: the same exit as later on
        sys.stderr.write("tighten: interrupted\n")
        sys.exit(130)
    collect_rarely(freeze=True)
    cli_main()
