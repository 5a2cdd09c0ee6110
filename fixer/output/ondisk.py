"""Findings located in the file as it is on disk, for every output format.

The fix loop re-detects on the text each pass produced, so a finding that stays open after
``fix --dry-run`` (or one fixed in a later pass) carries a line of a text that was never
written: an inserted ``securityContext`` above it moves it down. Outputs must point where a
person (or code scanning) will look: the file on disk when the command ends. That is the
original text, except for the open findings of a ``fix`` that rewrote the file: they are
where the rewritten file has them. Spans are mapped back through each pass's edits, so no
re-detection and no guessing by message is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from fixer.documents.text import LineIndex
from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Edit, Finding, Span

__all__ = ["on_disk", "origin_offset"]


def origin_offset(offset: int, edits: Sequence[Edit]) -> int:
    """The offset in the text before ``edits`` (sorted, non-overlapping) of ``offset`` in
    the text after them. A point inside inserted text maps to where the edit starts."""
    delta = 0  # how far the new text has moved past the old one so far
    for edit in edits:
        start = edit.span.start + delta
        if offset < start:
            break
        end = start + len(edit.content)
        if offset < end:
            return edit.span.start
        delta += len(edit.content) - len(edit.span)
    return offset - delta


def on_disk(result: FileResult, mode: Mode, *, written: bool | None = None) -> FileResult:
    """A copy of ``result`` whose findings give lines of the file as it is on disk after
    the command. ``written``: the fixed text replaced the file (default: ``mode`` is FIX)."""
    if result.source is None or not result.passes:
        return result  # nothing was applied: every finding is already in the original
    if written is None:
        written = mode is Mode.FIX
    mapper = _Mapper(result)
    fixed = [mapper.to_origin(f, mapper.pass_of(f)) for f in result.fixed]
    remaining = result.remaining
    if not written:
        remaining = [mapper.to_origin(f, len(result.passes)) for f in remaining]
    return replace(result, fixed=fixed, remaining=remaining)


class _Mapper:
    """Maps findings of any pass's text back to the original text of one result."""

    def __init__(self, result: FileResult) -> None:
        assert result.source is not None
        self.passes = result.passes
        self.lines = LineIndex(result.source.text)
        self.first = {id(f) for f in result.found}

    def pass_of(self, finding: Finding) -> int:
        """The pass whose input text the finding was detected in: the first pass that
        applied its fix's edits (pass 0 for findings of the original text)."""
        if id(finding) in self.first or finding.fix is None:
            return 0
        wanted = set(finding.fix.edits)
        for index, (_, edits) in enumerate(self.passes):
            if wanted <= set(edits):
                return index
        return 0

    def to_origin(self, finding: Finding, after: int) -> Finding:
        """``finding``, detected in the text ``after`` passes, moved to the original."""
        if after == 0:
            return finding
        start, end = finding.span.start, finding.span.end
        for _, edits in reversed(self.passes[:after]):
            start, end = origin_offset(start, edits), origin_offset(end, edits)
        span = Span(start, max(start, end))
        return replace(
            finding,
            span=span,
            line=self.lines.line_of(start),
            column=self.lines.column_of(start),
        )
