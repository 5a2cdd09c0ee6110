"""The Dockerfile lexer: text to instructions with exact spans.

It follows BuildKit's rules: parser directives (``# escape=``), comment and blank lines,
line continuations with the escape character (comment lines inside a continuation are
dropped), and heredocs (``RUN <<EOF`` ... ``EOF``) whose bodies are not instructions.
dockerfile-parse gives line ranges but no columns and reads heredoc bodies as
instructions, so the spans come from here; before an edit, ``crosscheck`` asks it whether it
reads the touched instructions' line ranges the same way (if not, the file stays as it is).
"""

from __future__ import annotations

import re
from itertools import accumulate
from operator import add
from typing import TypeVar

from fixer.documents.dockerfile.model import Dockerfile, Heredoc, Instruction, Logical, Offsets
from fixer.documents.text import SourceText
from fixer.model import Span

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_KEYWORD = re.compile(r"[ \t]*([A-Za-z][A-Za-z0-9_-]*|[^\s]+)")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})


def parse(source: SourceText) -> Dockerfile:
    """Lex ``source`` into instructions. Never raises on odd input: unknown text becomes an
    instruction with whatever keyword it starts with, as BuildKit would report it."""
    lexer = _Lexer(source.text)
    lexer.run()
    return Dockerfile(source, lexer.instructions, lexer.comments, lexer.escape)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines, self.contents = _split_lines(text)
        #: Each line stripped: blank and comment lines are told apart by it, once per line.
        self.stripped = list(map(str.strip, self.contents))
        self.instructions: list[Instruction] = []
        self.comments: dict[int, str] = {}
        self.escape = "\\"

    def run(self) -> None:
        i = self._directives()
        stripped_lines = self.stripped
        while i < len(self.lines):
            stripped = stripped_lines[i]
            if not stripped:
                i += 1
            elif stripped.startswith("#"):
                self.comments[i + 1] = stripped[1:].strip()
                i += 1
            else:
                i = self._instruction(i)

    def _directives(self) -> int:
        i = 0
        while i < len(self.lines):
            start, end = self.lines[i]
            m = _DIRECTIVE.match(self.text[start:end])
            if not m:
                return i
            if m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
                self.escape = m.group(2)
            self.comments[i + 1] = self.text[start:end].strip()[1:].strip()
            i += 1
        return i

    def _instruction(self, first: int) -> int:
        start, _ = self.lines[first]
        m = _KEYWORD.match(self.text, start)
        assert m is not None  # a non-blank, non-comment line starts with a word or symbol
        keyword = m.group(1).upper() if m.group(1) else ""
        kw_span = Span(m.start(1), m.end(1))
        args_start = m.end(1)
        while args_start < len(self.text) and self.text[args_start] in " \t":
            args_start += 1
        parts: list[str] = []  # the pieces of the logical text, one per line
        starts: list[int] = []  # where each piece starts in the logical text ...
        files: list[int] = []  # ... and in the file
        length = 0
        i = first
        pos = args_start
        lines, contents, stripped = self.lines, self.contents, self.stripped
        count = len(lines)
        while True:
            line_start, line_end = lines[i]
            if pos < line_start:
                pos = line_start
            kept = contents[i].rstrip(" \t")
            continued = kept.endswith(self.escape)  # the escape char ends a continued line
            stop = line_start + len(kept) - 1 if continued else line_end
            if stop > pos:
                parts.append(self.text[pos:stop])
                starts.append(length)
                files.append(pos)
                length += stop - pos
            i += 1
            if not continued:
                break
            # Skip comment and blank lines inside a continuation, as BuildKit does.
            while i < count and (not stripped[i] or stripped[i].startswith("#")):
                i += 1
            if i >= count:
                break
            pos = lines[i][0]
        last = i - 1
        args_end = self.lines[last][1]
        value = "".join(parts)
        if keyword in _HEREDOC_KEYWORDS and "<<" in value:
            heredocs, i = self._heredocs(value, i)
        else:
            heredocs = ()
        if not parts:  # no arguments: index 0 is where they would start
            starts, files = [0], [args_start]
        # (otherwise index ``length`` maps to just past the last character)
        offsets = _frozen(
            Offsets, starts=tuple(starts), files=tuple(files), length=length + 1, _table=None
        )
        end = self.lines[i - 1][1]
        self.instructions.append(
            _frozen(
                Instruction,
                keyword=keyword,
                span=Span(kw_span.start, end),
                keyword_span=kw_span,
                args=Span(args_start, max(args_start, args_end)),
                line=first + 1,
                end_line=i,
                logical=_frozen(Logical, text=value, offsets=offsets),
                heredocs=heredocs,
            )
        )
        return i

    def _heredocs(self, value: str, i: int) -> tuple[tuple[Heredoc, ...], int]:
        found = []
        for m in _HEREDOC.finditer(value):
            strip_tabs, quote, name = m.group(1) == "-", m.group(2), m.group(3)
            body_first = i
            while i < len(self.lines):
                line = self.contents[i]
                if (line.lstrip("\t") if strip_tabs else line) == name:
                    break
                i += 1
            if body_first >= len(self.lines):  # the opener ends the file: an empty body
                body_start = body_end = len(self.text)
            else:
                body_start = self.lines[body_first][0]
                body_end = self.lines[i - 1][1] if i > body_first else body_start
            body = Span(body_start, max(body_start, body_end))
            found.append(Heredoc(name, body, strip_tabs, bool(quote), i < len(self.lines)))
            i = min(i + 1, len(self.lines))
        return tuple(found), i


_T = TypeVar("_T")


def _frozen(cls: type[_T], **fields: object) -> _T:
    """``cls(**fields)`` for a frozen dataclass without its ``__init__`` (an
    ``object.__setattr__`` per field): three per instruction, of every Dockerfile, lexed
    again after each edit. Every field must be given; the object is the same."""
    made: _T = object.__new__(cls)
    made.__dict__.update(fields)
    return made


def _split_lines(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """(start, end) of each line's content, without its CR/LF, and that content."""
    pieces = text.split("\n")
    ends_in_newline = pieces[-1] == ""
    if ends_in_newline:
        pieces.pop()  # the text ends with a newline (or is empty): no line after it
    if "\r" in text:
        return _split_crlf(pieces, ends_in_newline)
    # No CR: each line is its piece, and starts just past the newline of the one before
    # (sums in C: this runs once per line of every Dockerfile, again after each edit).
    lengths = list(map(len, pieces))
    starts = [0, *accumulate(map((1).__add__, lengths))]
    starts.pop()
    return list(zip(starts, map(add, starts, lengths), strict=True)), pieces


def _split_crlf(
    pieces: list[str], ends_in_newline: bool
) -> tuple[list[tuple[int, int]], list[str]]:
    spans = []
    contents = []
    pos = 0
    last = len(pieces) - 1
    for k, piece in enumerate(pieces):
        end = pos + len(piece)
        # A CR before the LF is no content; a CR at the very end (no LF after it) is.
        if piece.endswith("\r") and (k < last or ends_in_newline):
            contents.append(piece[:-1])
            spans.append((pos, end - 1))
        else:
            contents.append(piece)
            spans.append((pos, end))
        pos = end + 1
    return spans, contents
