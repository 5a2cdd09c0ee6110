"""Counters over a run, the summary line, and the exit code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.output.text import withheld

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


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
        self.found.update(f.rule for f in result.found)
        self.fixed.update(f.rule for f in result.fixed)
        shown = result.remaining if self.mode is not Mode.CHECK else result.found
        self.unfixable.update(f.rule for f in shown if not f.fixable)
        unsafe = self.unsafe_fixes
        self.withheld.update(f.rule for f in shown if withheld(f, unsafe_fixes=unsafe))
        self.remaining += len(shown) if self.mode is not Mode.DRY_RUN else 0

    def error(self, message: str) -> None:
        """An error outside any one file (a registry outage, a lockfile that cannot be written)."""
        self.run_errors.append(message)

    @property
    def exit_code(self) -> int:
        if self.errors or self.run_errors:
            return EXIT_ERROR
        if self.mode is Mode.CHECK:
            return EXIT_FINDINGS if sum(self.found.values()) else EXIT_CLEAN
        if self.mode is Mode.DRY_RUN:
            still_open = sum(self.unfixable.values()) + sum(self.withheld.values())
            return EXIT_FINDINGS if self.changed or still_open else EXIT_CLEAN
        return EXIT_FINDINGS if self.remaining else EXIT_CLEAN

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
