"""Regression over tests/data/corpus: no crash, every outcome has a reason, fixes are
idempotent, keep the data and the instructions the rules did not mean to change, and
change no line outside a finding's reach.

Run alone with ``pytest -m corpus -s`` to see the outcome table. The corpus is read-only:
files are fixed in memory. Registry-dependent rules run without network (no resolutions),
so pinning finds nothing to pin here.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixer.discover import Target, discover
from fixer.engine import FileResult
from fixer.runner import process_target
from fixer.settings import Settings
from tests.helpers import RULES, collateral, dockerfile_problems, fix_bytes, yaml_problems

#: A copy kept in the repository (see tests/data/README.md): a clone tests alone.
CORPUS = Path(__file__).resolve().parent / "data" / "corpus"

#: Reasons a corpus file may be refused with (anything else is a bug, e.g. "internal error").
CLEAR_ERRORS = (
    "invalid YAML",
    "empty file",
    "binary file",
    "not UTF-8",
    "refused",
    "duplicate key",
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


@pytest.fixture(scope="module")
def targets() -> list[Target]:
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS}")
    return list(discover([str(CORPUS)]))


def _outcome(result: FileResult) -> str:
    if result.error:
        return f"error: {result.error.split(':')[0]}"
    if result.skipped:
        return f"skipped: {result.skipped}"
    return "fixed" if result.changed else "left alone"


def _problems(target: Target, result: FileResult, settings: Settings) -> Iterator[str]:
    where = target.path.relative_to(CORPUS)
    if result.error and not result.error.startswith(CLEAR_ERRORS):
        yield f"{where}: {result.error}"
    if result.error or result.skipped:
        if result.changed or result.passes:
            yield f"{where}: {result.error or result.skipped} yet the text changed"
        return
    if result.skipped is None and result.source is None:
        yield f"{where}: no outcome"
        return
    for line, text in collateral(result):
        yield f"{where}:{line}: collateral change of {text!r}"
    if not result.changed:
        return
    assert result.source is not None
    again = fix_bytes(result.source.encode(result.text), target.kind, settings, target.path)
    if again.changed or again.error:
        yield f"{where}: a second fix changed it again ({again.error or 'text differs'})"
    old, new = result.source.text, result.text
    if target.kind == "kubernetes":
        found = yaml_problems(old, new, profile=settings.kubernetes.profile)
    else:
        found = dockerfile_problems(old, new)
    yield from (f"{where}: {p}" for p in found)


def _run(targets: list[Target], settings: Settings, kinds: tuple[str, ...]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    for target in targets:
        if target.kind not in kinds:
            continue
        try:
            result = process_target(target, settings, rules=RULES, fix=True, resolutions={})
            outcomes[f"{target.kind}: {_outcome(result)}"] += 1
            problems.extend(_problems(target, result, settings))
        except Exception:
            outcomes[f"{target.kind}: crash"] += 1
            problems.append(f"{target.path}: crashed\n{traceback.format_exc()}")
    width = max(map(len, outcomes), default=0)
    print(f"\ncorpus outcomes (profile {settings.kubernetes.profile}):")
    for reason, count in sorted(outcomes.items()):
        print(f"  {reason:<{width}}  {count:>5}")
    assert problems == [], "\n".join(problems[:50])
    return outcomes


def test_corpus_fixes_are_surgical_and_idempotent(targets: list[Target]) -> None:
    outcomes = _run(targets, Settings(), ("dockerfile", "kubernetes"))
    assert sum(outcomes.values()) > 2500
    assert outcomes["dockerfile: fixed"] > 0 and outcomes["kubernetes: fixed"] > 0


def test_corpus_strict_profile_keeps_data(targets: list[Target]) -> None:
    """The strict profile also edits volumes and volumeMounts (the /tmp emptyDir)."""
    outcomes = _run(targets, Settings.of(profile="strict"), ("kubernetes",))
    assert outcomes["kubernetes: fixed"] > 0
