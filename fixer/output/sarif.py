"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning, reviewdog and IDEs.

Results describe the files as they are on disk after the command: for ``check`` and
``fix --dry-run`` the original text, with each fix attached as a SARIF ``fix`` (replacements
by line/column and character offset) so reviewdog can suggest it; a fix withheld for lack of
evidence (UNPROVEN) is never attached (a suggestion is one click from applied): the result's
property bag says ``withheld`` and what it ``needs`` instead; for ``fix`` the remaining
findings against the rewritten text, plus the fixed ones as ``kind: pass``. Columns count
Unicode code points (``columnKind``), like tighten's own. Secret values are masked in every
message and inserted text; no source text (snippet) is ever copied into the log.

Files tighten could not process make ``invocations[0].executionSuccessful`` false, each as a
``toolExecutionNotifications`` entry (level error, with its file), so code scanning does not
show a broken manifest as clean. Every result has ``partialFingerprints``
(``tighten/v1``): a hash of the rule, the path, the offending line's text (masked, whitespace
collapsed) and its occurrence among equal lines, so a result keeps its identity when lines
above it move; ``automationDetails.id`` (``tighten/<command>/``) keeps check and fix runs
apart in code scanning.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Collection, Sequence
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
from fixer.output.json import Problem
from fixer.output.text import display_path
from fixer.rule import Rule, Severity
from fixer.ruleset import RuleSet

__all__ = ["HOME", "log", "result_objects"]

HOME = "https://tighten.dev"  # the project's home page; rule pages live under /rules/
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "tighten/v1"
#: Where ``result_objects`` leaves each result's line text (masked with the values known
#: then) for ``log`` to hash once every secret value of the run is known; never printed.
_LINE = "_line"


def _level(rule: Rule[Any] | None) -> str:
    """A rule's SARIF level; a finding of a rule outside the set is a warning."""
    return (rule.severity if rule is not None else Severity.WARNING).value


def log(
    results: list[dict[str, Any]],
    rules: Sequence[Rule[Any]],
    *,
    problems: Sequence[Problem] = (),
    command: str = "check",
    secrets: Collection[str] = frozenset(),
) -> dict[str, Any]:
    """The whole SARIF log around ``results`` (from ``result_objects``), describing
    ``rules``; ``problems`` (errors, notices) become the invocation's notifications."""
    index = {rule.id: i for i, rule in enumerate(rules)}
    for item in results:
        if item["ruleId"] in index:
            item["ruleIndex"] = index[item["ruleId"]]
    _fingerprint(results, frozenset(secrets))
    driver = {
        "name": "tighten",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": HOME,
        "rules": [_descriptor(rule) for rule in rules],
    }
    root = Path(os.getcwd()).as_uri().rstrip("/") + "/"
    invocation = {
        "executionSuccessful": not any(p.level == "error" for p in problems),
        "toolExecutionNotifications": [_notification(p) for p in problems],
    }
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "automationDetails": {"id": f"tighten/{command}/"},
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {SRCROOT: {"uri": root}},
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _notification(problem: Problem) -> dict[str, Any]:
    item: dict[str, Any] = {"level": problem.level, "message": {"text": problem.message}}
    if problem.path is not None:
        where = {"physicalLocation": {"artifactLocation": _artifact(problem.path)}}
        item["locations"] = [where]
    return item


def _fingerprint(results: list[dict[str, Any]], secrets: frozenset[str]) -> None:
    """``partialFingerprints`` of every result: stable across runs and line shifts.
    The line is hashed masked: a hash of a short secret could be reversed by guessing."""
    seen: Counter[tuple[str, str, str]] = Counter()
    for item in results:
        line = " ".join(mask(item.pop(_LINE, ""), secrets).split())
        uri = item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        key = (item["ruleId"], uri, line)
        occurrence = seen[key]
        seen[key] += 1
        text = "\0".join([*key, str(occurrence)])
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        item["partialFingerprints"] = {FINGERPRINT: digest}


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
    original = LineIndex(result.source.text)
    if mode is not Mode.FIX:
        return [_result(f, at, original, suggest=True) for f in result.found]
    final = LineIndex(result.text)
    out = [_result(f, at, final, suggest=True) for f in result.remaining]
    for finding in result.fixed:  # where they were: on-disk lines before the fix
        item = _result(finding, at, None, suggest=False, text=original)
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
    finding: Finding,
    at: _Where,
    lines: LineIndex | None,
    *,
    suggest: bool,
    text: LineIndex | None = None,
) -> dict[str, Any]:
    """One result; ``lines`` index the text its span points into (None: use its line),
    ``text`` the text its line is in (for the fingerprint; default ``lines``)."""
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
        _LINE: _line_text(text or lines, finding.line, at.masks),
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


def _line_text(lines: LineIndex | None, line: int, masks: set[str]) -> str:
    if lines is None or not 1 <= line <= lines.line_count:
        return ""
    return mask(lines.line_text(line), masks)


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
