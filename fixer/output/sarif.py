"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning, reviewdog and IDEs.

Results describe the files as they are on disk after the command: for ``check`` and
``fix --dry-run`` the original text, with each fix attached as a SARIF ``fix`` (replacements
by line/column and character offset) so reviewdog can suggest it; for ``fix`` the remaining
findings against the rewritten text, plus the fixed ones as ``kind: pass``. Columns count
Unicode code points (``columnKind``), like tighten's own. Secret values are masked in every
message and inserted text; no source text (snippet) is ever copied into the log.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fixer import __version__
from fixer.documents.text import LineIndex
from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Edit, Finding, Span
from fixer.output.diff import mask
from fixer.output.text import display_path

__all__ = ["HOME", "log", "result_objects"]

HOME = "https://tighten.dev"  # the project's home page; rule pages live under /rules/
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
#: CVSS-like scores GitHub code scanning turns into critical/high/medium/low.
_SEVERITY = {
    "DF001": 6.0,
    "DF002": 3.0,
    "DF003": 3.5,
    "DF004": 8.5,
    "K8S001": 8.8,
    "K8S002": 5.5,
    "K8S003": 3.0,
    "K8S004": 8.5,
    "K8S005": 8.0,
}


def _level(rule: str) -> str:
    return "error" if _SEVERITY.get(rule, 5.0) >= 7.0 else "warning"


def log(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole SARIF log around ``results`` (from ``result_objects``)."""
    from rules import all_rules

    rules = all_rules()
    index = {rule.id: i for i, rule in enumerate(rules)}
    for item in results:
        if item["ruleId"] in index:
            item["ruleIndex"] = index[item["ruleId"]]
    driver = {
        "name": "tighten",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": HOME,
        "rules": [_descriptor(rule) for rule in rules],
    }
    root = Path(os.getcwd()).as_uri().rstrip("/") + "/"
    run = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {SRCROOT: {"uri": root}},
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _descriptor(rule: Any) -> dict[str, Any]:
    doc = inspect.cleandoc(type(rule).__doc__ or rule.summary)
    first = doc.splitlines()[0].strip() if doc else rule.summary
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": first},
        "fullDescription": {"text": doc, "markdown": doc},
        "help": {"text": doc, "markdown": doc},
        "helpUri": f"{HOME}/rules/{rule.id}",
        "defaultConfiguration": {"level": _level(rule.id)},
        "properties": {
            "tags": ["security", rule.target],
            "precision": "very-high",
            "security-severity": f"{_SEVERITY.get(rule.id, 5.0):.1f}",
            "aliases": list(rule.aliases),
            "fixSafety": rule.safety.value,
        },
    }


def result_objects(
    result: FileResult, mode: Mode, secrets: set[str] | frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """SARIF results for one file (``mode``: ``check``, ``fix`` or ``dry-run``)."""
    if result.source is None:
        return []
    findings = [*result.found, *result.remaining, *result.fixed]
    masks = set(secrets).union(*(f.masks for f in findings))
    location = _artifact(result.path)
    if mode is not Mode.FIX:
        lines = LineIndex(result.source.text)
        return [_result(f, location, lines, masks, suggest=True) for f in result.found]
    final = LineIndex(result.text)
    out = [_result(f, location, final, masks, suggest=True) for f in result.remaining]
    for finding in result.fixed:
        item = _result(finding, location, None, masks, suggest=False)
        item.update(kind="pass", level="none")
        item["properties"]["fixed"] = True
        out.append(item)
    return out


def _artifact(path: Path) -> dict[str, Any]:
    shown = display_path(path)
    if os.path.isabs(shown):
        return {"uri": Path(shown).as_uri()}
    return {"uri": quote(shown, safe="/"), "uriBaseId": SRCROOT}


def _result(
    finding: Finding,
    artifact: dict[str, Any],
    lines: LineIndex | None,
    masks: set[str],
    *,
    suggest: bool,
) -> dict[str, Any]:
    message = finding.message
    if finding.fix is None and finding.reason:
        message += f" (not fixable: {finding.reason})"
    region: dict[str, Any] = {"startLine": finding.line, "startColumn": finding.column}
    if lines is not None and len(finding.span):
        region = _region(lines, finding.span)
    item: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _level(finding.rule),
        "message": {"text": mask(message, masks)},
        "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": region}}],
        "properties": {"fixable": finding.fixable},
    }
    fix = finding.fix
    if fix is not None:
        item["properties"]["fixSafety"] = fix.safety.value
        if fix.side_files:
            item["properties"]["generatedFiles"] = [display_path(s.path) for s in fix.side_files]
        if suggest and lines is not None:
            changes = [_replacement(lines, edit, masks) for edit in fix.edits]
            item["fixes"] = [
                {
                    "description": {"text": mask(fix.title, masks)},
                    "artifactChanges": [{"artifactLocation": artifact, "replacements": changes}],
                }
            ]
    return item


def _region(lines: LineIndex, span: Span) -> dict[str, Any]:
    """Line/column (end exclusive, as SARIF wants) plus the same range as char offsets."""
    return {
        "startLine": lines.line_of(span.start),
        "startColumn": lines.column_of(span.start),
        "endLine": lines.line_of(span.end),
        "endColumn": lines.column_of(span.end),
        "charOffset": span.start,
        "charLength": len(span),
    }


def _replacement(lines: LineIndex, edit: Edit, masks: set[str]) -> dict[str, Any]:
    return {
        "deletedRegion": _region(lines, edit.span),
        "insertedContent": {"text": mask(edit.content, masks)},
    }
