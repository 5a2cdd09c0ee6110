"""Every rule documents itself, and each documented example really produces its "after"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fixer.documents.text import SourceText
from fixer.engine import _parse, process_text
from fixer.output.docs import SECTIONS, explain, rule_doc
from fixer.rule import Context, Resolution, Rule
from fixer.settings import Settings
from rules import all_rules
from tests.helpers import RULES

DIGEST = "sha256:" + "0123456789abcdef" * 4
#: Rules that report and never fix: their example's "after" is what the user writes instead.
REPORT_ONLY = {"TGT001"}


def _kind(rule: Rule[Any]) -> str:
    """The file kind of a rule's example (rules for every kind document a Dockerfile)."""
    return "kubernetes" if rule.target == "kubernetes" else "dockerfile"


def _resolutions(rule: Rule[Any], text: str, settings: Settings) -> dict[str, Resolution]:
    """A registry stand-in for the pinning rules' examples: every image -> DIGEST."""
    from fixer.registry import Reference

    doc = _parse(_kind(rule), SourceText(text))
    refs = {r.reference for r in rule.references(Context(doc, Path("example"), settings))}
    return {
        r: Resolution(digest=DIGEST, pinned=Reference.parse(r).pinned(DIGEST, tag=None))
        for r in refs
    }


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.id)
def test_rule_has_documentation(rule: Rule[Any]) -> None:
    doc = rule_doc(rule)
    assert doc.title, f"{rule.id} has no one-line title"
    assert list(doc.sections) == list(SECTIONS)
    assert all(doc.sections[s].strip() for s in SECTIONS)
    assert rule.summary and rule.name and rule.target in ("dockerfile", "kubernetes", "any")
    assert explain(rule).startswith(f"# {rule.id} {rule.name}: ")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.id)
def test_rule_example_produces_its_after(rule: Rule[Any]) -> None:
    examples = rule_doc(rule).examples
    assert examples is not None, f"{rule.id} example needs a before and an after block"
    before, after = examples
    settings = Settings.of(select=frozenset({rule.id}))
    result = _run(rule, before, settings)
    assert result.error is None
    assert result.found, f"{rule.id}: the example's before has no finding"
    if rule.id in REPORT_ONLY:
        assert result.text == before
        assert not _run(rule, after, settings).found, f"{rule.id}: the example's after is not clean"
        return
    assert result.text == after


def _run(rule: Rule[Any], text: str, settings: Settings) -> Any:
    return process_text(
        Path("Dockerfile" if _kind(rule) == "dockerfile" else "example.yaml"),
        _kind(rule),
        SourceText(text),
        settings,
        rules=RULES,
        fix=True,
        resolutions=_resolutions(rule, text, settings),
        pinning=True,
    )
