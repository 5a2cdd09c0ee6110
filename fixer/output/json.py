"""``--format json``: one versioned object (stable keys, no secret values)::

    {"version": 2,                          # this shape; bumped when a key changes meaning
     "tool": {"name": "tighten", "version": "0.1.0"},
     "command": "check" | "fix" | "dry-run",
     "findings": [finding, ...],            # as version 1's top-level list, on-disk lines
     "errors": [{"path": str | null, "message": str}, ...],   # null: not one file's
     "notices": [{"path": str | null, "message": str, "level": "warning" | "note"}, ...],
     "summary": {"files": n, "findings": n, "fixed": n, "errors": n, "exit_code": n}}

Version 1 was the bare list of findings: a file tighten could not read vanished from it,
so a broken manifest looked clean. Errors now travel in the same document as findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixer import __version__
from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Finding, Safety
from fixer.output.text import display_path

VERSION = 2


@dataclass(frozen=True)
class Problem:
    """An error or notice for the machine formats; ``path`` None: about the run."""

    message: str
    path: Path | None = None
    level: str = "error"  # error, warning or note

    def json(self) -> dict[str, Any]:
        shown = None if self.path is None else display_path(self.path)
        obj: dict[str, Any] = {"path": shown, "message": self.message}
        if self.level != "error":
            obj["level"] = self.level
        return obj


def document(
    findings: list[dict[str, Any]],
    problems: list[Problem],
    mode: Mode,
    summary: dict[str, int],
) -> dict[str, Any]:
    """The whole ``--format json`` output."""
    return {
        "version": VERSION,
        "tool": {"name": "tighten", "version": __version__},
        "command": mode.value,
        "findings": findings,
        "errors": [p.json() for p in problems if p.level == "error"],
        "notices": [p.json() for p in problems if p.level != "error"],
        "summary": summary,
    }


def finding_object(finding: Finding, *, fixed: bool | None = None) -> dict[str, Any]:
    """One finding; its ``fix`` says whether it was ``applied`` and, for a fix withheld
    for lack of evidence (safety ``unproven``), what it ``needs``; a ``proven`` fix lists
    the ``evidence`` that proved it."""
    obj: dict[str, Any] = {
        "rule": finding.rule,
        "path": display_path(finding.path),
        "line": finding.line,
        "column": finding.column,
        "message": finding.message,
        "fixable": finding.fixable,
    }
    fix = finding.fix
    if fix is not None:
        obj["fix"] = {"title": fix.title, "safety": fix.safety.value, "applied": bool(fixed)}
        if fix.safety is Safety.UNPROVEN:
            obj["fix"]["needs"] = fix.needs
        if fix.evidence:
            obj["fix"]["evidence"] = list(fix.evidence)
    if finding.reason:
        obj["reason"] = finding.reason
    if fixed is not None:
        obj["fixed"] = fixed
    return obj


def result_objects(result: FileResult, mode: Mode) -> list[dict[str, Any]]:
    """Objects for one file: what was found, and in fix modes whether it was fixed."""
    if mode is Mode.CHECK:
        return [finding_object(f) for f in result.found]
    fixed = result.fixed
    out = [finding_object(f, fixed=True) for f in fixed]
    out += [finding_object(f, fixed=False) for f in result.remaining]
    out.sort(key=lambda o: (o["path"], o["line"], o["column"], o["rule"]))
    return out
