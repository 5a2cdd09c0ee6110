"""A ``check`` answered from the last identical run, before the rules load.

A ``check`` of a tree that has not changed since the last identical run prints what that
run printed (``fixer.cache.replay_output``). Deciding that takes the run key, one stat walk
and the kept output, and none of the rules' code: the CLI asks here first, when the cache
folder exists, and loads the rules (a third of a cached run's time) and begins the
repository scan only when the answer is no. ``Session`` asks the same questions through the
same functions when it is run without the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from fixer.cache import (
    ManifestWriter,
    cache_folder,
    entries_file,
    manifest_file,
    output_file,
    replay_output,
    run_key,
    tree_stamp,
)
from fixer.interrupt import silence_closed
from fixer.mode import Mode
from fixer.output.renderers import shows_edits
from fixer.output.terminal import isatty
from fixer.roots import Roots
from fixer.ruleset import RuleSet
from fixer.settings import OutputFormat, Settings

#: The path that means standard input.
STDIN = "-"


def caches(mode: Mode, settings: Settings) -> bool:
    """The run keeps and answers from the result cache (``check`` only)."""
    return mode is Mode.CHECK and settings.caching.cache


@dataclass(frozen=True)
class Stamped:
    """A ``check``'s place in the cache: its run key, its folder and its manifest (the
    invocation and the stat walk of the tree, taken before any file is read)."""

    key: str
    folder: Path
    manifest: ManifestWriter


def stamped(
    settings: Settings,
    paths: Sequence[str],
    *,
    fmt: OutputFormat,
    rules: RuleSet | None = None,
    shown_from: str | None = None,
) -> Stamped:
    """Where this ``check``'s results go for the next identical run (``rules`` None: the
    installed ones, not loaded)."""
    root = Roots.of(paths[:1]).folders[0]
    folder = cache_folder(root, settings)
    key = run_key(settings, rules, edits=shows_edits(fmt))
    invocation = json.dumps([list(paths), os.getcwd(), shown_from])
    stamp = tree_stamp(Roots.of(paths).folders, paths, skip=folder.absolute())
    return Stamped(key, folder, ManifestWriter(manifest_file(folder, key), invocation, stamp))


def view(fmt: OutputFormat, quiet: bool, streams: tuple[TextIO, TextIO]) -> str:
    """What else decides the bytes printed: format, quiet, terminals, colour."""
    out, err = streams
    facts = [
        fmt.value,
        quiet,
        isatty(out),
        isatty(err),
        *(os.environ.get(v) for v in ("NO_COLOR", "FORCE_COLOR", "TERM")),
    ]
    return hashlib.blake2b(json.dumps(facts).encode(), digest_size=8).hexdigest()


def replayed_output(
    manifest: ManifestWriter, shown: str, streams: tuple[TextIO, TextIO]
) -> int | None:
    """The exit code of a run answered by printing what the last identical run printed
    the same way (``shown``: its ``view``), stdout and stderr interleaved as they were (one
    stat walk, nothing parsed); None: run it."""
    file = output_file(manifest.file, shown)
    try:
        entries = entries_file(manifest.file)
        return replay_output(file, manifest.invocation, manifest.stamp, streams, entries)
    except BrokenPipeError:
        silence_closed(*streams)
        return 0


def quick(
    settings: Settings, mode: Mode, paths: Sequence[str], *, fmt: OutputFormat, quiet: bool
) -> tuple[int | None, Stamped | None]:
    """(exit code, None) of a ``check`` of ``paths`` answered from the cache; (None, where
    its results go) when it must run; (None, None) when the run keeps no cache (``fix``,
    ``--no-cache``, stdin) or no earlier run left one to answer from (the first run goes
    straight to work)."""
    if not caches(mode, settings) or STDIN in paths:
        return None, None
    try:
        folder = cache_folder(Roots.of(paths[:1]).folders[0], settings)
    except (OSError, ValueError):
        return None, None
    if not os.path.isdir(folder):
        return None, None
    try:
        place = stamped(settings, paths, fmt=fmt)
    except (OSError, ValueError):
        return None, None  # the run says why, as it would have
    import sys

    streams = (sys.stdout, sys.stderr)
    return replayed_output(place.manifest, view(fmt, quiet, streams), streams), place
