"""Removing pairs from an ENV instruction so the rest of it stays valid and untouched.

Works on physical lines, because a Dockerfile's line continuations are part of what the
author wrote: a pair shares its line with others -> the pair and one neighbouring space run
go; a pair alone on a continuation line -> the whole line goes; when the instruction's last
line goes, the continuation escape of the line that is now last goes too, so the next
instruction is not swallowed. An ENV left with no pairs is removed as whole lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fixer.apply import merge_ranges
from fixer.documents.dockerfile import Dockerfile, Instruction, KeyValue
from fixer.model import Edit, Span


@dataclass(frozen=True)
class _Token:
    span: Span
    drop: bool
    first: int  # 1-based lines
    last: int


def remove_pairs(
    doc: Dockerfile, ins: Instruction, pairs: list[KeyValue], drop: set[int]
) -> list[Edit] | None:
    """Edits deleting the pairs whose ``id`` is in ``drop``; None when a dropped value spans
    several lines while other pairs stay (its line structure cannot be kept simply)."""
    if all(id(kv) in drop for kv in pairs) or any(kv.legacy for kv in pairs):
        return [_edit(_line_span(doc, ins.line, ins.end_line))]
    tokens = [_token(doc, ins.keyword_span, False)]
    tokens += [_token(doc, kv.pair, id(kv) in drop) for kv in pairs]
    if any(t.drop and t.first != t.last for t in tokens):
        return None
    spans: list[Span] = []
    gone: list[int] = []
    for line in range(ins.line, ins.end_line + 1):
        on_line = [t for t in tokens if t.first <= line <= t.last]
        if on_line and all(t.drop for t in on_line):
            gone.append(line)
        else:
            spans.extend(_runs(on_line))
    spans.extend(_line_span(doc, first, last) for first, last in _consecutive(gone))
    last_kept = max(t.last for t in tokens if t.last not in gone)
    if ins.end_line in gone:
        spans.append(_escape_span(doc, tokens, last_kept))
    return [_edit(s) for s in merge_ranges(spans)]


def _consecutive(numbers: list[int]) -> Iterable[tuple[int, int]]:
    """Runs of consecutive numbers as (first, last): whole lines are removed run by run so
    that a run reaching the end of a file without a final newline takes the newline before."""
    start = 0
    for i in range(1, len(numbers) + 1):
        if i == len(numbers) or numbers[i] != numbers[i - 1] + 1:
            yield numbers[start], numbers[i - 1]
            start = i


def _token(doc: Dockerfile, span: Span, drop: bool) -> _Token:
    lines = doc.lines
    return _Token(span, drop, lines.line_of(span.start), lines.line_of(max(span.end - 1, 0)))


def _runs(on_line: list[_Token]) -> Iterable[Span]:
    """Spans removing each run of dropped tokens with one neighbouring space run: the
    following one when a kept token follows on the line, else the preceding one."""
    i = 0
    while i < len(on_line):
        if not on_line[i].drop:
            i += 1
            continue
        j = i
        while j + 1 < len(on_line) and on_line[j + 1].drop:
            j += 1
        if j + 1 < len(on_line):
            yield Span(on_line[i].span.start, on_line[j + 1].span.start)
        else:  # i > 0: a line with only dropped tokens was removed whole
            yield Span(on_line[i - 1].span.end, on_line[j].span.end)
        i = j + 1


def _line_span(doc: Dockerfile, first: int, last: int | None = None) -> Span:
    return Span(*doc.lines.deletion(first, last or first))


def _escape_span(doc: Dockerfile, tokens: list[_Token], line: int) -> Span:
    """From the last token on ``line`` to the end of the line: the space and the escape
    character that continued the instruction onto lines that are now gone."""
    end_of_tokens = max(t.span.end for t in tokens if t.last == line)
    return Span(end_of_tokens, doc.lines.line_end(line))


def _edit(span: Span) -> Edit:
    return Edit(span)
