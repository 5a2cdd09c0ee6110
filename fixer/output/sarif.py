"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning, reviewdog and IDEs.

Results describe the files as they are on disk after the command: for ``check`` and
``fix --dry-run`` the original text, with each fix attached as a SARIF ``fix`` (replacements
by line/column and character offset) so reviewdog can suggest it; a fix withheld for lack of
evidence (UNPROVEN) is never attached (a suggestion is one click from applied): the result's
property bag says ``withheld`` and what it ``needs`` instead; for ``fix`` the remaining
findings against the rewritten text, plus the fixed ones as ``kind: pass``. Columns count
Unicode code points (``columnKind``), like tighten's own. Secret values are masked in every
message and inserted text; no source text (snippet) is ever copied into the log.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fixer import __version__
from fixer.documents.text import LineIndex
from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Edit, Finding, Safety, Span
from fixer.output.diff import mask
from fixer.output.docs import rule_doc
from fixer.output.text import display_path
from fixer.rule import Rule, Severity
from fixer.ruleset import RuleSet

__all__ = ["HOME", "log", "result_objects"]

HOME = "https://tighten.dev"  # the project's home page; rule pages live under /rules/
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def _level(rule: Rule[Any] | None) -> str:
    """A rule's SARIF level; a finding of a rule outside the set is a warning."""
    return (rule.severity if rule is not None else Severity.WARNING).value


def log(results: list[dict[str, Any]], rules: Sequence[Rule[Any]]) -> dict[str, Any]:
    """The whole SARIF log around ``results`` (from ``result_objects``), describing
    ``rules``."""
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


def _descriptor(rule: Rule[Any]) -> dict[str, Any]:
    parsed = rule_doc(rule)
    doc = parsed.text or rule.summary
    first = parsed.title if parsed.text else rule.summary
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": first},
        "fullDescription": {"text": doc, "markdown": doc},
        "help": {"text": doc, "markdown": doc},
        "helpUri": f"{HOME}/rules/{rule.id}",
        "defaultConfiguration": {"level": _level(rule)},
        "properties": {
            "tags": ["security", rule.target],
            "precision": "very-high",
            "security-severity": f"{rule.security_severity:.1f}",
            "aliases": list(rule.aliases),
            "fixSafety": rule.safety.value,
        },
    }


def result_objects(
    result: FileResult,
    mode: Mode,
    secrets: set[str] | frozenset[str] = frozenset(),
    *,
    rules: RuleSet,
) -> list[dict[str, Any]]:
    """SARIF results for one file (``mode``: ``check``, ``fix`` or ``dry-run``)."""
    if result.source is None:
        return []
    findings = [*result.found, *result.remaining, *result.fixed]
    masks = set(secrets).union(*(f.masks for f in findings))
    at = _Where(_artifact(result.path), masks, rules)
    if mode is not Mode.FIX:
        lines = LineIndex(result.source.text)
        return [_result(f, at, lines, suggest=True) for f in result.found]
    final = LineIndex(result.text)
    out = [_result(f, at, final, suggest=True) for f in result.remaining]
    for finding in result.fixed:
        item = _result(finding, at, None, suggest=False)
        item.update(kind="pass", level="none")
        item["properties"]["fixed"] = True
        out.append(item)
    return out


def _artifact(path: Path) -> dict[str, Any]:
    shown = display_path(path)
    if os.path.isabs(shown):
        return {"uri": Path(shown).as_uri()}
    return {"uri": quote(shown, safe="/"), "uriBaseId": SRCROOT}


@dataclass(frozen=True)
class _Where:
    """What every result of one file shares: its location, the values to mask, the rules."""

    artifact: dict[str, Any]
    masks: set[str]
    rules: RuleSet


def _result(
    finding: Finding, at: _Where, lines: LineIndex | None, *, suggest: bool
) -> dict[str, Any]:
    artifact, masks = at.artifact, at.masks
    message = finding.message
    fix = finding.fix
    withheld = suggest and fix is not None and fix.safety is Safety.UNPROVEN
    if fix is None and finding.reason:
        message += f" (not fixable: {finding.reason})"
    elif fix is not None and withheld:
        message += f" ({fix.withheld_note})"
    region: dict[str, Any] = {"startLine": finding.line, "startColumn": finding.column}
    if lines is not None and len(finding.span):
        region = _region(lines, finding.span)
    item: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _level(at.rules.find(finding.rule)),
        "message": {"text": mask(message, masks)},
        "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": region}}],
        "properties": {"fixable": finding.fixable},
    }
    if fix is not None:
        properties = item["properties"]
        properties["fixSafety"] = fix.safety.value
        if withheld:
            properties.update(withheld=True, needs=fix.needs)
        if fix.evidence:
            properties["evidence"] = [mask(e, masks) for e in fix.evidence]
        if fix.side_files:
            properties["generatedFiles"] = [display_path(s.path) for s in fix.side_files]
        if suggest and lines is not None and not withheld:
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
