"""Rule documentation, read from each rule's docstring (ruff's and sqlfluff's convention).

The one parser of those docstrings: ``tighten explain``, ``tighten rules``, the SARIF rule
descriptors and the notes of a pull request all read a rule's docs through ``rule_doc``.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from fixer.model import Safety
from fixer.rule import Rule

SECTIONS = ("What it does", "Why is this bad?", "Example", "Fix safety")
_BLOCK = re.compile(r"```(\w+)?\n(.*?)```", re.S)


@dataclass(frozen=True)
class RuleDoc:
    rule: Rule[Any]
    title: str
    sections: dict[str, str]
    text: str = ""  # the whole docstring, dedented

    @property
    def fix_safety(self) -> str:
        """The *Fix safety* section as one paragraph ("" when there is none)."""
        return " ".join(self.sections.get("Fix safety", "").split())

    @property
    def examples(self) -> tuple[str, str] | None:
        """The example's (before, after) code blocks."""
        blocks = [m.group(2) for m in _BLOCK.finditer(self.sections.get("Example", ""))]
        return (blocks[0], blocks[1]) if len(blocks) >= 2 else None


def rule_doc(rule: Rule[Any]) -> RuleDoc:
    text = inspect.cleandoc(type(rule).__doc__ or "")
    title, _, body = text.partition("\n")
    sections: dict[str, str] = {}
    current = ""
    for line in body.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return RuleDoc(rule, title.strip(), {k: v.strip("\n") for k, v in sections.items()}, text)


#: The three fix safety levels, as ``tighten rules`` and ``tighten explain`` state them.
LEVELS = (
    textwrap.fill(
        "Fix safety: safe fixes cannot change behaviour and are always applied. Judged fixes "
        "change behaviour, so each is judged on the evidence (the file, the repository, the "
        "registry's image config, a table of well-known images): proven ones are applied by "
        "`tighten fix`; unproven ones are withheld, stay open findings and say what they need "
        "(`--unsafe-fixes` applies them). `--safe-only` applies safe fixes only.",
        width=90,
    )
    + "\n"
)

#: What a rule's severity means for the exit code, as ``tighten rules`` states it.
SEVERITIES = (
    textwrap.fill(
        "Severity (error, warning, note): the SARIF level of the rule's results and the "
        "`--failure-threshold` it is weighed against; by default every finding fails the "
        "run (exit 1), `--failure-threshold error` fails on error rules only, `--exit-zero` "
        "never fails on findings.",
        width=90,
        break_on_hyphens=False,
    )
    + "\n"
)


def changes_behaviour(rule: Rule[Any]) -> bool:
    return rule.safety is not Safety.SAFE


def _level(rule: Rule[Any]) -> str:
    return "judged" if changes_behaviour(rule) else "safe"


def explain(rule: Rule[Any]) -> str:
    """The whole documentation of one rule, as Markdown."""
    doc = rule_doc(rule)
    head = f"# {rule.id} {rule.name}: {doc.title}\n\n"
    if changes_behaviour(rule):
        safety = (
            "judged (changes behaviour: applied when the evidence proves the workload still "
            "works, else withheld with what it needs; --unsafe-fixes applies it)"
        )
    else:
        safety = "safe (cannot change behaviour: always applied)"
    meta = f"Fixes: {rule.summary}.\nSeverity: {rule.severity.value}.\nFix safety: {safety}.\n"
    if rule.aliases:
        meta += f"Covers peer checks: {', '.join(rule.aliases)}.\n"
    body = "".join(f"\n## {name}\n{text}\n" for name, text in doc.sections.items())
    return head + meta + body


def table(rules: tuple[Rule[Any], ...]) -> str:
    """One line per rule: id, name, severity, its fix safety level, what it fixes; then
    what the severities and the levels mean."""
    rows = [("ID", "NAME", "SEVERITY", "FIX", "WHAT IT FIXES")]
    for rule in rules:
        rows.append((rule.id, rule.name, rule.severity.value, _level(rule), rule.summary))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = "".join(
        "  ".join(f"{cell:<{width}}" for cell, width in zip(r, widths, strict=False))
        + f"  {r[4]}\n"
        for r in rows
    )
    return lines + "\n" + SEVERITIES + "\n" + LEVELS
