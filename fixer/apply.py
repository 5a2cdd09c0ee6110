"""Apply fixes to a text: all-or-nothing per fix, overlapping fixes wait for the next pass."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fixer.model import Edit, Fix, Span


@dataclass(frozen=True)
class Applied:
    text: str
    applied: tuple[Fix, ...]
    deferred: tuple[Fix, ...]
    edits: tuple[Edit, ...]


def apply_fixes(text: str, fixes: Sequence[Fix]) -> Applied:
    """Apply ``fixes`` in order of their first edit.

    A fix whose edits overlap an edit already accepted in this pass is deferred (the engine
    re-detects on the new text and tries again), unless every overlapping edit is identical
    to an accepted one: two findings on one aliased node propose the same edit. Deferred
    fixes are built here (``Fix.built``); one whose edits were left out cannot be applied.
    """
    if any(f.omitted for f in fixes):
        raise ValueError("a fix whose edits were left out cannot be applied")
    fixes = [f.built() for f in fixes]
    accepted: list[Edit] = []  # sorted, so that each check looks at neighbours only
    seen: set[Edit] = set()
    applied: list[Fix] = []
    deferred: list[Fix] = []
    for fix in sorted(fixes, key=_order):
        fresh = [e for e in fix.edits if e not in seen]
        if any(_overlaps_accepted(e, accepted) for e in fresh):
            deferred.append(fix)
            continue
        if any(e.span.end > len(text) for e in fresh):
            raise ValueError(f"fix {fix.title!r} edits past the end of the text")
        for edit in fresh:
            bisect.insort(accepted, edit)
        seen.update(fresh)
        applied.append(fix)
    return Applied(splice(text, accepted), tuple(applied), tuple(deferred), tuple(accepted))


def _overlaps_accepted(edit: Edit, accepted: list[Edit]) -> bool:
    """Whether ``edit`` overlaps one of the sorted, mutually non-overlapping ``accepted``.

    Only neighbours can: the few that start just before it (one may reach over its start)
    and those starting inside it; a scan of them all made a pass quadratic in the fixes.
    """
    span = edit.span
    index = bisect.bisect_left(accepted, edit)
    for other in accepted[max(index - 3, 0) : index]:
        if span.overlaps(other.span):
            return True
    for other in accepted[index:]:
        if other.span.start > span.end:
            break
        if span.overlaps(other.span):
            return True
    return False


def splice(text: str, edits: Sequence[Edit]) -> str:
    """The text with non-overlapping ``edits`` applied."""
    out: list[str] = []
    pos = 0
    for edit in sorted(edits):
        out.append(text[pos : edit.span.start])
        out.append(edit.content)
        pos = edit.span.end
    out.append(text[pos:])
    return "".join(out)


def _order(fix: Fix) -> tuple[int, int, str]:
    first = fix.edits[0].span if fix.edits else None
    return (first.start, first.end, fix.title) if first else (-1, -1, fix.title)


def merge_ranges(ranges: Iterable[Span]) -> list[Span]:
    """Touching or overlapping spans merged, sorted: deletions built piece by piece become
    edits that do not overlap."""
    out: list[Span] = []
    for span in sorted(ranges):
        if out and span.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(span)
    return out
