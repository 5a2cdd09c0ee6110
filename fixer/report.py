"""Counters over a run, the summary line, and the exit code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Finding, Safety
from fixer.output.text import withheld
from fixer.rule import Severity
from fixer.settings import FailureThreshold, Output

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

#: Severities from the least to the most severe; a threshold fails its level and above.
_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}
_THRESHOLD = {
    FailureThreshold.NOTE: 0,
    FailureThreshold.WARNING: 1,
    FailureThreshold.ERROR: 2,
    FailureThreshold.NONE: 3,
}


def _warning(rule: str) -> Severity:
    return Severity.WARNING


def fails(severity: Severity, threshold: FailureThreshold) -> bool:
    """A finding of this severity fails the run under ``threshold``."""
    return _RANK[severity] >= _THRESHOLD[threshold]


@dataclass
class Report:
    """Everything the summary and the exit code need; results are not kept (streaming)."""

    mode: Mode
    files: int = 0
    changed: int = 0
    errors: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    fixed: Counter[str] = field(default_factory=Counter)
    unfixable: Counter[str] = field(default_factory=Counter)
    #: Open findings whose fix is withheld for lack of evidence (still open: exit 1).
    withheld: Counter[str] = field(default_factory=Counter)
    remaining: int = 0
    run_errors: list[str] = field(default_factory=list)
    unsafe_fixes: bool = False
    #: ``--exit-zero`` and ``--failure-threshold``.
    output: Output = field(default_factory=Output)
    #: A rule id's severity (the rule set's; a rule outside it is a warning).
    severity: Callable[[str], Severity] = _warning
    #: Findings at or above the threshold that keep the run from passing (exit 1).
    failing: int = 0
    #: Whether a rule's findings fail the run, asked once per rule (not per finding).
    _fails_by_rule: dict[str, bool] = field(default_factory=dict, repr=False)

    def add(self, result: FileResult) -> None:
        if result.error:
            self.errors += 1
        if result.skipped:
            self.skipped[result.skipped] += 1
            return
        if result.source is None:
            return
        self.files += 1
        self.changed += result.changed
        # Plain loops: the parent counts every finding of the run while the workers use
        # the cores (five ``Counter.update`` generators per file cost three times as much).
        found, fixed = self.found, self.fixed
        for f in result.found:
            found[f.rule] += 1
        for f in result.fixed:
            fixed[f.rule] += 1
        shown = result.remaining if self.mode is not Mode.CHECK else result.found
        unfixable, held = self.unfixable, self.withheld
        unsafe = self.unsafe_fixes
        for f in shown:
            fix = f.fix
            if fix is None:
                if not f.pending:
                    unfixable[f.rule] += 1
            elif fix.safety is Safety.UNPROVEN and not unsafe:  # ``withheld``
                held[f.rule] += 1
        self.remaining += len(shown) if self.mode is not Mode.DRY_RUN else 0
        self.failing += self._failing(result, shown)

    def _failing(self, result: FileResult, shown: list[Finding]) -> int:
        """What fails the run in this file: ``check`` its findings; ``fix`` those left
        open; ``--dry-run`` those it would fix (a diff) and those it cannot."""
        if self.mode is Mode.CHECK:
            counted: Iterable[Finding] = result.found
        elif self.mode is Mode.FIX:
            counted = result.remaining
        else:
            unsafe = self.unsafe_fixes
            still_open = [f for f in shown if not f.fixable or withheld(f, unsafe_fixes=unsafe)]
            counted = [*(result.fixed if result.changed else ()), *still_open]
        known = self._fails_by_rule
        total = 0
        for f in counted:
            failing = known.get(f.rule)
            if failing is None:
                failing = known[f.rule] = fails(
                    self.severity(f.rule), self.output.failure_threshold
                )
            total += failing
        return total

    def fails(self, finding: Finding) -> bool:
        """This finding fails the run (for ``--format github``: an ``::error``)."""
        if self.output.exit_zero:
            return False
        return fails(self.severity(finding.rule), self.output.failure_threshold)

    def error(self, message: str) -> None:
        """An error outside any one file (a registry outage, a lockfile that cannot be written)."""
        self.run_errors.append(message)

    @property
    def exit_code(self) -> int:
        if self.errors or self.run_errors:
            return EXIT_ERROR  # --exit-zero never hides an error (ruff's convention)
        if self.output.exit_zero or not self.failing:
            return EXIT_CLEAN
        return EXIT_FINDINGS

    def summary(self) -> str:
        parts = [f"{_n(self.files, 'file')} scanned"]
        total = sum(self.found.values())
        if total:
            by_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(self.found.items()))
            parts.append(f"{_n(total, 'finding')} ({by_rule})")
        else:
            parts.append("no findings")
        if self.mode.fixing:
            verb = "fixed" if self.mode is Mode.FIX else "fixable"
            parts.append(f"{sum(self.fixed.values())} {verb} in {_n(self.changed, 'file')}")
        unfixable = sum(self.unfixable.values())
        if unfixable:
            parts.append(f"{unfixable} not fixable")
        held = sum(self.withheld.values())
        if held:
            parts.append(f"{held} withheld (each says what it needs; --unsafe-fixes applies)")
        if self.errors or self.run_errors:
            n = self.errors + len(self.run_errors)
            parts.append(_n(n, "error"))
        if self.skipped:
            parts.append(f"{sum(self.skipped.values())} skipped")
        return "; ".join(parts)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"
