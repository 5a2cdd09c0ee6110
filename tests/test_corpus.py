"""Regression over ../shared/corpus: no crash, zero collateral change, idempotent fixes.

Run alone with ``pytest -m corpus``. The corpus is read-only: files are fixed in memory.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fixer.discover import discover
from fixer.runner import process_target
from fixer.settings import Settings
from tests.helpers import collateral, fix_bytes

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def targets() -> list:
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS} (CI clones next to ../shared)")
    return list(discover([str(CORPUS)]))


def test_corpus_fixes_are_surgical_and_idempotent(targets: list) -> None:
    settings = Settings()
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    for target in targets:
        result = process_target(target, settings, fix=True, resolutions={})
        if result.error:
            outcomes[f"error: {result.error.split(':')[0]}"] += 1
            problems.append(f"{target.path}: {result.error}")
            continue
        if result.skipped:
            outcomes[f"skipped: {result.skipped}"] += 1
            continue
        outcomes["fixed" if result.changed else "unchanged"] += 1
        for line, text in collateral(result):
            problems.append(f"{target.path}:{line}: collateral change of {text!r}")
        if result.changed:
            assert result.source is not None
            again = fix_bytes(result.source.encode(result.text), target.kind, settings, target.path)
            if again.changed or again.error:
                problems.append(f"{target.path}: second run changed it again ({again.error})")
    print(dict(outcomes))
    assert sum(outcomes.values()) > 2500
    assert problems == []
