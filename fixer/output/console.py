"""Human-facing text output of a run: findings, diffs, notices, errors, the summary.

When stdout is a terminal, findings are grouped under a header per file, in colour; when it
is piped (CI, grep, editors) every finding is one `path:line: RULE message` line. The diff
is coloured only on a terminal, so `tighten fix --dry-run | git apply` always works.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from fixer.model import Finding
from fixer.output.terminal import Paint, Progress, color_diff, wants_color
from fixer.output.text import error_line, finding_line, notice_line, shown_path, withheld


@dataclass
class Console:
    out: TextIO
    err: TextIO
    quiet: bool = False
    progress: Progress | None = None
    #: Paths are shown relative to this folder (None: the current folder).
    base: str | None = None
    #: ``--unsafe-fixes``: an UNPROVEN fix is applied, not withheld.
    unsafe_fixes: bool = False
    paint_out: Paint = field(init=False)
    paint_err: Paint = field(init=False)

    def __post_init__(self) -> None:
        self.paint_out = Paint(wants_color(self.out))
        self.paint_err = Paint(wants_color(self.err))

    @property
    def grouped(self) -> bool:
        """Group findings per file only for a person at a terminal."""
        return self.paint_out.enabled

    def _clear(self) -> None:
        if self.progress is not None:
            self.progress.clear()

    def stdout(self, text: str) -> None:
        if text:
            self._clear()
            self.out.write(text)

    def stderr(self, text: str) -> None:
        if text:
            self._clear()
            self.err.write(text)

    def notice(self, path: Path, text: str) -> None:
        if not self.quiet:
            self.stderr(self.paint_err(notice_line(path, text, self.base), "dim") + "\n")

    def error(self, path: Path | None, reason: str) -> None:
        line = error_line(path, reason, self.base) if path is not None else f"error: {reason}"
        self.stderr(self.paint_err(line, "red") + "\n")

    def note(self, text: str) -> None:
        """A notice about the run rather than one file (skipped folders)."""
        if not self.quiet:
            self.stderr(self.paint_err(f"notice: {text}", "dim") + "\n")

    def warning(self, text: str) -> None:
        """Something the user probably did not mean (nothing to check)."""
        if not self.quiet:
            self.stderr(self.paint_err(f"warning: {text}", "yellow") + "\n")

    def info(self, text: str) -> None:
        if not self.quiet:
            self.stderr(text + "\n")

    def diff(self, text: str) -> None:
        self.stdout(color_diff(text, self.paint_out))

    def findings(
        self, path: Path, findings: Iterable[Finding], *, to_err: bool = False, status: str = ""
    ) -> None:
        """Findings of one file: `path:line: RULE message` lines, or a group on a terminal."""
        findings = list(findings)
        if not findings:
            return
        write = self.stderr if to_err else self.stdout
        paint = self.paint_err if to_err else self.paint_out
        if not paint.enabled:
            unsafe = self.unsafe_fixes
            # One file's findings share its path (the same object, mostly): shown once.
            own = shown_path(path, self.base)
            shown: dict[Path, str] = {}
            lines = []
            for f in findings:
                where = own if f.path is path else shown.get(f.path)
                if where is None:
                    where = shown[f.path] = shown_path(f.path, self.base)
                lines.append(finding_line(f, status=status, unsafe_fixes=unsafe, shown=where))
            write("\n".join(lines) + "\n")
            return
        rows = [paint(shown_path(path, self.base), "bold", "underline") + "\n"]
        for f in findings:
            where = paint(f"{f.line}:{f.column}".ljust(7), "dim")
            rule = paint(f.rule.ljust(6), "green" if status == "fixed" else "yellow")
            tail = ""
            if status == "fixed" and f.fix is not None:
                tail = " " + paint(f"[fixed: {f.fix.title}]", "green")
            elif status:
                tail = " " + paint(f"[{status}]", "green")
            elif f.fix is None and f.reason:
                tail = " " + paint(f"(not fixable: {f.reason})", "dim")
            elif f.fix is not None and withheld(f, unsafe_fixes=self.unsafe_fixes):
                tail = " " + paint(f"({f.fix.withheld_note})", "yellow")
            elif f.fixable:
                tail = " " + paint("[fixable]", "cyan")
            rows.append(f"  {where} {rule} {f.message}{tail}\n")
        write("".join(rows) + "\n")

    def summary(self, text: str, *, failed: bool) -> None:
        if not self.quiet:
            self.stderr(self.paint_err(text, "red" if failed else "bold") + "\n")
