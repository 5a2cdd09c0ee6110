"""One renderer per output format (``--format``), picked once by the session.

Every format sees the same things: each file's result as it comes (``add``, with ``view``,
the result with the lines of the file on disk, ``fixer.output.ondisk``), then the end of
the run (``release``), when every secret value of the run is known and whatever stdout
shows can be masked with all of them (``fixer.output.held``). What goes to stderr (notices,
errors, the summary) is the session's, the same for every format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TextIO

from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.output.console import Console
from fixer.report import Report
from fixer.ruleset import RuleSet
from fixer.settings import Settings
from fixer.sidefiles import SideFiles


@dataclass(frozen=True)
class Run:
    """What a renderer reads of the run it prints. ``secrets`` is the session's own set,
    filled as files come: a renderer masks with it only when the run is over."""

    mode: Mode
    settings: Settings
    rules: RuleSet
    report: Report
    console: Console
    out: TextIO
    secrets: set[str]
    side_files: SideFiles
    #: The folder paths are shown relative to (None: the current folder).
    shown_from: str | None = None
    #: ``--unmasked-diff``: the dry-run diff with real values, for ``git apply``.
    unmasked_diff: bool = False


@dataclass(frozen=True)
class End:
    """What the run says about itself, outside any one file, as the output is released."""

    #: Errors of the run as a whole (a registry that failed).
    run_errors: list[str]
    #: The warning of a run that found nothing to check (at most one).
    empty: list[str]
    #: The notices grouping skipped files (test data, vendored, generated).
    notes: list[str]
    exit_code: int


class Renderer(Protocol):
    @property
    def wants_diffs(self) -> bool:
        """Each changed file's diff is wanted with its result (computed by the workers)."""
        ...

    @property
    def wants_edits(self) -> bool:
        """A ``check`` shows the edits of the fixes it offers (SARIF's suggested fixes):
        without it, fixes whose edits are costly to compute leave them out."""
        ...

    @property
    def prints_fixed_text(self) -> bool:
        """``fix -``: the fixed text from stdin goes to stdout."""
        ...

    def add(self, result: FileResult, view: FileResult, *, stdin: bool) -> None:
        """Take one file's result; ``view`` has the lines of the file on disk."""
        ...

    def release(self, end: End) -> None:
        """Write what stdout shows of the run, masked with every secret value it found."""
        ...
