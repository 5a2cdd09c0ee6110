"""A second opinion on instruction boundaries before a Dockerfile is edited.

Our lexer decides where each instruction starts and ends (continuations, comment lines
inside them, heredocs); an edit placed by a wrong boundary would land inside another
instruction. dockerfile-parse reads the same lines independently, so before a pass is
applied both must agree on every instruction the edits touch, as bashlex must agree on the
commands a RUN edit touches (``fixer.documents.shell.bashlex_agrees``).

dockerfile-parse reads heredoc bodies as instructions; our lexer's heredoc bodies are
blanked before it reads the text (same line count), and a heredoc instruction is compared
up to the line that opens its bodies. It skips a line holding a keyword alone (``USER``
with no argument): such an instruction, if touched, counts as a disagreement.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from fixer.documents.dockerfile.model import Dockerfile
from fixer.model import Edit

Boundary = tuple[str, int, int]  # keyword, first and last line (1-based)


@dataclass(frozen=True)
class Disagreement:
    """The first place where the two readings differ: ours and theirs at ``line``
    (None: that parser sees no instruction there)."""

    line: int
    ours: Boundary | None
    theirs: Boundary | None

    def __str__(self) -> str:
        def shown(b: Boundary | None) -> str:
            return "no instruction" if b is None else f"{b[0]} on lines {b[1]}-{b[2]}"

        return (
            f"dockerfile-parse reads line {self.line} differently ({shown(self.theirs)}; "
            f"tighten: {shown(self.ours)})"
        )


def disagreement(doc: Dockerfile, edits: Iterable[Edit]) -> Disagreement | None:
    """Where dockerfile-parse's instruction boundaries differ from ``doc``'s on the lines
    ``edits`` (offsets into ``doc.text``) touch, or None when they agree there."""
    touched = _touched_lines(doc, edits)
    if not touched:
        return None
    ours_all = _our_boundaries(doc)
    theirs_all = _their_boundaries(_blanked(doc))
    ours = {b for b in ours_all if _meets(b, touched)}
    theirs = {b for b in theirs_all if _meets(b, touched)}
    if ours == theirs:
        return None
    # Name the first touched line read differently (an instruction both see the same
    # way may still differ outside the touched lines: then its first line).
    lines = sorted(touched) + sorted(b[1] for b in ours ^ theirs)
    for line in lines:
        mine, other = _covering(ours_all, line), _covering(theirs_all, line)
        if mine != other:
            return Disagreement(line, mine, other)
    return Disagreement(lines[-1], None, None)  # unreachable: the sets differ somewhere


def _covering(boundaries: list[Boundary], line: int) -> Boundary | None:
    return next((b for b in boundaries if b[1] <= line <= b[2]), None)


def _touched_lines(doc: Dockerfile, edits: Iterable[Edit]) -> set[int]:
    """Lines an edit changes; for an insertion at a line start, the line before it too
    (whether that line continues into the insertion point is what may differ)."""
    lines = doc.lines
    touched: set[int] = set()
    for edit in edits:
        start, end = edit.span.start, edit.span.end
        first = lines.line_of(start)
        last = lines.line_of(max(start, end - 1))
        if start == end and start == lines.line_start(first) and first > 1:
            first -= 1
        touched.update(range(first, last + 1))
    return touched


def _our_boundaries(doc: Dockerfile) -> list[Boundary]:
    """Each instruction's keyword and lines; a heredoc instruction ends where its
    arguments end (its bodies are blanked for dockerfile-parse)."""
    out = []
    for instruction in doc.instructions:
        last = instruction.end_line
        if instruction.heredocs:
            last = doc.lines.line_of(instruction.args.end)
        out.append((instruction.keyword, instruction.line, last))
    return out


def _meets(boundary: Boundary, lines: set[int]) -> bool:
    return any(line in lines for line in range(boundary[1], boundary[2] + 1))


def _blanked(doc: Dockerfile) -> str:
    """The text as dockerfile-parse should see it: LF line breaks, heredoc bodies and
    their terminator lines emptied (the line count stays)."""
    rows = doc.text.replace("\r\n", "\n").split("\n")
    for instruction in doc.instructions:
        if instruction.heredocs:
            opener = doc.lines.line_of(instruction.args.end)
            for line in range(opener + 1, instruction.end_line + 1):
                rows[line - 1] = ""
    return "\n".join(rows)


def _their_boundaries(text: str) -> list[Boundary]:
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
    return [
        (item["instruction"], item["startline"] + 1, item["endline"] + 1)
        for item in parser.structure
        if item["instruction"] != "COMMENT"
    ]
