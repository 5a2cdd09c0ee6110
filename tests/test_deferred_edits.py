"""Deferred fixes: a ``check`` that prints no edit (text, JSON) never computes them; fix,
``--dry-run`` and SARIF's suggested fixes do, and a cache filled by one kind of run never
answers the other with fixes missing their edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixer.documents.text import SourceText
from fixer.engine import process_text
from fixer.model import Edit, Fix, Safety, Span
from fixer.settings import Settings
from tests.helpers import RULES
from tests.realparts import tighten

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
        - name: side
          image: busybox:1.36
          command: ["sleep", "3600"]
"""


def _check(edits: bool) -> list:  # type: ignore[type-arg]
    result = process_text(
        Path("deploy.yaml"),
        "kubernetes",
        SourceText(DEPLOYMENT),
        Settings.of(offline=True, select=["K8S002"]),
        rules=RULES,
        fix=False,
        resolutions={},
        edits=edits,
    )
    return result.found


def test_a_check_without_edits_reports_the_same_fixes_with_none_computed() -> None:
    built, unbuilt = _check(True), _check(False)
    assert [(f.line, f.message, f.fix.title, f.fix.safety) for f in built] == [
        (f.line, f.message, f.fix.title, f.fix.safety) for f in unbuilt
    ]
    assert all(f.fix.edits and not f.fix.omitted for f in built)
    assert all(f.fix.omitted and not f.fix.edits and f.fix.build is None for f in unbuilt)
    # Findings that shared a fix (one per container, one fix per pod) still share it.
    assert len({id(f.fix) for f in built if f.fix.safety is Safety.SAFE}) == 1


def test_a_deferred_fix_builds_once_and_checks_its_edits() -> None:
    calls: list[int] = []

    def build() -> list[Edit]:
        calls.append(1)
        return [Edit(Span(4, 5), "b"), Edit(Span(0, 1), "a")]

    fix = Fix.deferred("t", build, Safety.SAFE, needs="n")
    assert fix.edits == () and not calls
    done = fix.built()
    assert [e.span.start for e in done.edits] == [0, 4] and calls == [1]
    assert done.built() is done and done.needs == "n"
    assert fix.unbuilt().omitted and fix.unbuilt().build is None
    overlapping = Fix.deferred("t", lambda: [Edit(Span(0, 2), "x"), Edit(Span(1, 3), "y")])
    with pytest.raises(ValueError, match="overlapping"):
        overlapping.built()


def _replacements(sarif: str) -> list[object]:
    results = json.loads(sarif)["runs"][0]["results"]
    return [r["fixes"] for r in results if r["ruleId"] == "K8S002" and "fixes" in r]


@pytest.mark.slow
def test_sarif_after_a_cached_text_check_still_suggests_the_edits(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(DEPLOYMENT)
    fresh = tighten("check", "--no-cache", "--format", "sarif", ".", cwd=tmp_path).stdout
    assert _replacements(fresh)  # SARIF carries the replacements of the safe fix
    text = tighten("check", ".", cwd=tmp_path)  # fills a cache without edits
    assert "K8S002" in text.stdout
    assert tighten("check", ".", cwd=tmp_path).stdout == text.stdout  # answered from it
    cached = tighten("check", "--format", "sarif", ".", cwd=tmp_path).stdout
    assert _replacements(cached) == _replacements(fresh)
    again = tighten("check", "--format", "sarif", ".", cwd=tmp_path).stdout
    assert _replacements(again) == _replacements(fresh)
    # JSON shows no edit either: the same findings as the text run, and fix still fixes.
    found = json.loads(tighten("check", "--format", "json", ".", cwd=tmp_path).stdout)
    assert any(item.get("rule") == "K8S002" for item in found.get("findings", found))
    tighten("fix", "--offline", ".", cwd=tmp_path)
    assert "allowPrivilegeEscalation: false" in (tmp_path / "deploy.yaml").read_text()
