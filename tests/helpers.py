"""Shared test helpers: run the engine on a text, and prove zero collateral change."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from fixer.documents.text import LineIndex, SourceText
from fixer.engine import FileResult, process_text
from fixer.model import Edit
from fixer.output.diff import split_lines
from fixer.settings import Settings


def kind_for(path: Path) -> str:
    return "kubernetes" if path.suffix in (".yaml", ".yml") else "dockerfile"


def fix_bytes(
    data: bytes, kind: str, settings: Settings | None = None, path: Path | None = None
) -> FileResult:
    source = SourceText.decode(data)
    return process_text(
        path or Path("input"), kind, source, settings or Settings(), fix=True, resolutions={}
    )


def covered_lines(text: str, edits: tuple[Edit, ...]) -> set[int]:
    """Old lines an edit may change: the lines a replacement spans, and the line an insertion
    lands in when it does not start a line."""
    lines = LineIndex(text)
    covered: set[int] = set()
    for edit in edits:
        start, end = edit.span.start, edit.span.end
        if start == end:
            if start == len(text) or lines.column_of(start) != 1:
                covered.add(lines.line_of(start))
            continue
        covered.update(range(lines.line_of(start), lines.line_of(end - 1) + 1))
        if lines.column_of(end) == 1 and end < len(text):
            covered.add(lines.line_of(end))  # deleting up to a line start joins lines
    return covered


def changed_old_lines(old: str, new: str) -> set[int]:
    """1-based lines of ``old`` that a line diff marks as removed or replaced."""
    changed: set[int] = set()
    matcher = difflib.SequenceMatcher(None, split_lines(old), split_lines(new), autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            changed.update(range(i1 + 1, i2 + 1))
    return changed


def collateral(result: FileResult) -> list[tuple[int, Any]]:
    """Lines a pass changed that none of its edits covered (must be empty)."""
    problems: list[tuple[int, Any]] = []
    texts = [t for t, _ in result.passes] + [result.text]
    for index, (before, edits) in enumerate(result.passes):
        after = texts[index + 1]
        for line in sorted(changed_old_lines(before, after) - covered_lines(before, edits)):
            problems.append((line, split_lines(before)[line - 1]))
    return problems
