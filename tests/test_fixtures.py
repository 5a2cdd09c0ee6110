"""Every golden pair under fixtures/: fix(before) == after, fix(after) == after, and no
line outside an edit's reach changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixer.model import Fix, Safety
from fixer.rule import Resolution
from fixer.settings import Settings
from tests.helpers import collateral, fix_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _cases() -> list[tuple[str, Path]]:
    cases = []
    for before in sorted(FIXTURES.glob("*/*.before.*")):
        cases.append((before.parent.name, before))
    return cases


def _settings(rule: str, before: Path) -> Settings:
    options = before.with_name(before.name.split(".before.")[0] + ".settings.json")
    extra = json.loads(options.read_text()) if options.exists() else {}
    select = frozenset(extra.pop("select", [rule]))
    return Settings.of(select=select, **extra)


def _resolutions(before: Path) -> dict[str, Resolution] | None:
    """Registry answers for pinning rules: ``<case>.resolutions.json`` maps a reference to
    ``{"digest", "tag", "pinned"}`` or ``{"error"}``; None when the case has none."""
    answers = before.with_name(before.name.split(".before.")[0] + ".resolutions.json")
    if not answers.exists():
        return None
    return {ref: Resolution(**value) for ref, value in json.loads(answers.read_text()).items()}


def _after(before: Path) -> Path:
    return before.with_name(before.name.replace(".before.", ".after."))


@pytest.mark.parametrize(
    ("rule", "before"), _cases(), ids=lambda v: v if isinstance(v, str) else v.name
)
def test_fixture(rule: str, before: Path) -> None:
    kind = "kubernetes" if before.suffix in (".yaml", ".yml") else "dockerfile"
    settings = _settings(rule, before)
    data = before.read_bytes()
    after = _after(before)
    expected = after.read_bytes() if after.exists() else data
    resolutions = _resolutions(before)
    pins = resolutions is not None
    result = fix_bytes(data, kind, settings, before, resolutions=resolutions, pinning=pins)
    assert result.error is None, result.error
    assert result.source is not None
    assert result.source.encode(result.text) == expected
    assert collateral(result) == []
    if after.exists():
        assert any(f.rule.startswith(rule) for f in result.found), "before has no finding"
    again = fix_bytes(expected, kind, settings, before, resolutions=resolutions, pinning=pins)
    assert again.error is None, again.error
    assert not again.changed, "fix is not idempotent"
    applicable = [f for f in again.remaining if f.fix is not None and _applies(f.fix, settings)]
    assert not applicable, "fixable findings remain"


def _applies(fix: Fix, settings: Settings) -> bool:
    """A fix ``fix`` applies: withheld (UNPROVEN) ones stay open without --unsafe-fixes."""
    return fix.safety is not Safety.UNPROVEN or settings.fixes.unsafe_fixes


def test_fixtures_exist_for_every_rule() -> None:
    from rules import all_rules

    rules_with_fixtures = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert {r.id for r in all_rules()} <= rules_with_fixtures
