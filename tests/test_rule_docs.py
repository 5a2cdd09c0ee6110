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

DIGEST = "sha256:" + "0123456789abcdef" * 4


def _resolutions(rule: Rule[Any], text: str, settings: Settings) -> dict[str, Resolution]:
    """A registry stand-in for the pinning rules' examples: every image -> DIGEST."""
    from fixer.registry import Reference

    doc = _parse(rule.target, SourceText(text))
    refs = set(rule.references(Context(doc, Path("example"), settings)))
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
    assert rule.summary and rule.name and rule.target in ("dockerfile", "kubernetes")
    assert explain(rule).startswith(f"# {rule.id} {rule.name}: ")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.id)
def test_rule_example_produces_its_after(rule: Rule[Any]) -> None:
    examples = rule_doc(rule).examples
    assert examples is not None, f"{rule.id} example needs a before and an after block"
    before, after = examples
    settings = Settings(select=frozenset({rule.id}))
    result = process_text(
        Path("Dockerfile" if rule.target == "dockerfile" else "example.yaml"),
        rule.target,
        SourceText(before),
        settings,
        fix=True,
        resolutions=_resolutions(rule, before, settings),
        pinning=True,
    )
    assert result.error is None
    assert result.found, f"{rule.id}: the example's before has no finding"
    assert result.text == after
