"""``--format json``: a list of finding objects (stable keys, no secret values)."""

from __future__ import annotations

from typing import Any

from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Finding, Safety
from fixer.output.text import display_path


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
