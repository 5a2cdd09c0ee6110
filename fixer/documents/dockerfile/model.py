"""A Dockerfile as a list of instructions with exact text spans.

The lexer follows BuildKit's rules: parser directives (``# escape=``), comment and blank
lines, line continuations with the escape character (comment lines inside a continuation
are dropped), and heredocs (``RUN <<EOF`` ... ``EOF``) whose bodies are not instructions.
dockerfile-parse gives line ranges but no columns and reads heredoc bodies as
instructions, so the spans come from here; tests cross-check the line ranges against it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import overload

from fixer.documents.text import LineIndex, SourceText
from fixer.model import Span

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_KEYWORD = re.compile(r"[ \t]*([A-Za-z][A-Za-z0-9_-]*|[^\s]+)")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_QUOTED = re.compile(r"[\\'\"$`]")  # what ``_dequote`` acts on


@dataclass(frozen=True)
class Heredoc:
    """A ``<<NAME`` body: ``body`` spans the lines between the opener and the terminator."""

    name: str
    body: Span
    strip_tabs: bool
    quoted: bool
    terminated: bool = True  # False when the file ends before the terminator line


@dataclass(frozen=True)
class Offsets(Sequence[int]):
    """File offsets of the characters of a text made of pieces of the file (the lines of
    an instruction): piece ``k`` starts at index ``starts[k]`` of the text and offset
    ``files[k]`` of the file; the last piece runs on to index ``length - 1``.

    The table of every offset is built on first use: most instructions never need it,
    and building it costs an int object per character, each time a Dockerfile is lexed.
    """

    starts: tuple[int, ...]
    files: tuple[int, ...]
    length: int
    _table: tuple[int, ...] | None = field(default=None, compare=False, repr=False)

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...

    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        table = self._table  # read per character by some callers: no property on the way
        return (table if table is not None else self._build())[index]

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[int]:
        return iter(self._table if self._table is not None else self._build())

    def _build(self) -> tuple[int, ...]:
        ends = (*self.starts[1:], self.length)
        runs = (range(f, f + e - s) for s, e, f in zip(self.starts, ends, self.files, strict=True))
        table = tuple(itertools.chain.from_iterable(runs))
        object.__setattr__(self, "_table", table)
        return table


@dataclass(frozen=True)
class Logical:
    """An instruction's arguments with continuations and inner comments removed.

    ``offsets[i]`` is the file offset of ``text[i]``; ``offsets[len(text)]`` is the offset
    just past the last argument character, so spans map back with ``span_of``.
    """

    text: str
    offsets: Sequence[int]

    def span_of(self, start: int, end: int) -> Span:
        """The file span covering logical ``[start, end)``."""
        if start == end:
            return Span.at(self.offsets[start])
        return Span(self.offsets[start], self.offsets[end - 1] + 1)


@dataclass(frozen=True)
class Instruction:
    """One instruction. ``span`` covers keyword to the end of its last line (no newline),
    heredoc bodies included; ``args`` covers the arguments before any heredoc body."""

    keyword: str
    span: Span
    keyword_span: Span
    args: Span
    line: int
    end_line: int
    logical: Logical
    heredocs: tuple[Heredoc, ...] = ()

    @property
    def value(self) -> str:
        return self.logical.text

    @cached_property
    def flags(self) -> dict[str, str]:
        """Leading ``--name=value`` flags (``RUN --mount=...``, ``FROM --platform=...``)."""
        out: dict[str, str] = {}
        for word in self.value.split():
            if not word.startswith("--"):
                break
            name, _, val = word[2:].partition("=")
            out[name] = val
        return out

    def flag_end(self) -> int:
        """Logical index where the arguments after the leading flags start."""
        text = self.value
        i = 0
        while True:
            while i < len(text) and text[i] in " \t":
                i += 1
            if not text.startswith("--", i):
                return i
            while i < len(text) and text[i] not in " \t":
                i += 1

    @property
    def is_exec_form(self) -> bool:
        return self.value[self.flag_end() :].lstrip().startswith("[")


@dataclass(frozen=True)
class Stage:
    """A build stage: its ``FROM`` and the instructions up to the next ``FROM``."""

    index: int
    from_: Instruction
    instructions: tuple[Instruction, ...]
    image: str
    name: str | None
    platform: str | None
    image_span: Span

    @property
    def body(self) -> tuple[Instruction, ...]:
        return self.instructions[1:]


@dataclass
class Dockerfile:
    """A parsed Dockerfile over ``source.text``."""

    source: SourceText
    instructions: list[Instruction]
    comments: dict[int, str]  # 1-based line -> comment text after '#'
    escape: str = "\\"
    lines: LineIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lines = LineIndex(self.source.text)

    @property
    def text(self) -> str:
        return self.source.text

    @cached_property
    def stages(self) -> list[Stage]:
        return list(_stages(self))

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage_names(self) -> set[str]:
        return {s.name.lower() for s in self.stages if s.name}

    def comments_above(self, line: int) -> list[str]:
        """The comment lines directly above 1-based ``line`` (nearest first)."""
        out = []
        line -= 1
        while line in self.comments:
            out.append(self.comments[line])
            line -= 1
        return out

    def line_span(self, first: int, last: int) -> Span:
        """Whole lines ``first..last`` including the final newline (for removal)."""
        return Span(self.lines.line_start(first), self.lines.line_end(last, with_newline=True))


def parse(source: SourceText) -> Dockerfile:
    """Lex ``source`` into instructions. Never raises on odd input: unknown text becomes an
    instruction with whatever keyword it starts with, as BuildKit would report it."""
    lexer = _Lexer(source.text)
    lexer.run()
    return Dockerfile(source, lexer.instructions, lexer.comments, lexer.escape)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _split_lines(text)
        self.instructions: list[Instruction] = []
        self.comments: dict[int, str] = {}
        self.escape = "\\"

    def run(self) -> None:
        i = self._directives()
        while i < len(self.lines):
            start, end = self.lines[i]
            content = self.text[start:end]
            stripped = content.strip()
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

    def _continues(self, start: int, end: int) -> int | None:
        """Offset of the escape char if the line ends in a continuation, else None."""
        j = end
        while j > start and self.text[j - 1] in " \t":
            j -= 1
        if j > start and self.text[j - 1] == self.escape:
            return j - 1
        return None

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
        while True:
            line_start, line_end = self.lines[i]
            pos = max(pos, line_start)
            esc = self._continues(line_start, line_end)
            stop = esc if esc is not None else line_end
            if stop > pos:
                parts.append(self.text[pos:stop])
                starts.append(length)
                files.append(pos)
                length += stop - pos
            i += 1
            if esc is None:
                break
            # Skip comment and blank lines inside a continuation, as BuildKit does.
            while i < len(self.lines) and _is_skippable(self.text, *self.lines[i]):
                i += 1
            if i >= len(self.lines):
                break
            pos = self.lines[i][0]
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
        offsets = Offsets(tuple(starts), tuple(files), length + 1)
        end = self.lines[i - 1][1]
        self.instructions.append(
            Instruction(
                keyword=keyword,
                span=Span(kw_span.start, end),
                keyword_span=kw_span,
                args=Span(args_start, max(args_start, args_end)),
                line=first + 1,
                end_line=i,
                logical=Logical(value, offsets),
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
                s, e = self.lines[i]
                line = self.text[s:e]
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


def _is_skippable(text: str, start: int, end: int) -> bool:
    stripped = text[start:end].strip()
    return not stripped or stripped.startswith("#")


def _split_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, without its CR/LF."""
    out = []
    pos = 0
    n = len(text)
    while pos < n:
        nl = text.find("\n", pos)
        if nl == -1:
            out.append((pos, n))
            break
        end = nl - 1 if nl > pos and text[nl - 1] == "\r" else nl
        out.append((pos, end))
        pos = nl + 1
    return out


_FROM_WORD = re.compile(r"\S+")


def _stages(doc: Dockerfile) -> Iterator[Stage]:
    groups: list[list[Instruction]] = []
    for ins in doc.instructions:
        if ins.keyword == "FROM":
            groups.append([ins])
        elif groups:
            groups[-1].append(ins)
    for index, group in enumerate(groups):
        yield _stage(index, group)


def _stage(index: int, instructions: list[Instruction]) -> Stage:
    from_ = instructions[0]
    value = from_.value
    words = [(m.start(), m.end()) for m in _FROM_WORD.finditer(value, from_.flag_end())]
    image, image_span, name = "", Span.at(from_.args.start), None
    if words:
        s, e = words[0]
        image, image_span = value[s:e], from_.logical.span_of(s, e)
    if len(words) >= 3 and value[words[1][0] : words[1][1]].lower() == "as":
        name = value[words[2][0] : words[2][1]]
    return Stage(
        index=index,
        from_=from_,
        instructions=tuple(instructions),
        image=image,
        name=name,
        platform=from_.flags.get("platform"),
        image_span=image_span,
    )


@dataclass(frozen=True)
class KeyValue:
    """One ``key=value`` (or legacy ``key value``) of an ENV, ARG or LABEL instruction.

    Spans are file spans: ``pair`` covers the whole word(s), ``value`` the raw value text
    (quotes included); ``value`` is the unquoted value, None for ``ARG name`` without default.
    """

    key: str
    value: str | None
    pair: Span
    key_span: Span
    value_span: Span | None
    legacy: bool = False


def words(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Shell-like word boundaries in ``text`` (quotes and backslash escapes respected)."""
    out: list[tuple[int, int]] = []
    i, n = start, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        begin, quote = i, ""
        while i < n and (quote or text[i] not in " \t"):
            ch = text[i]
            if ch == "\\" and quote != "'" and i + 1 < n:
                i += 2
                continue
            if quote and ch == quote:
                quote = ""
            elif not quote and ch in "\"'":
                quote = ch
            i += 1
        out.append((begin, i))
    return out


def unquote(word: str) -> str:
    """The word's value after quote removal and backslash escapes, as BuildKit reads it."""
    value = _dequote(word, expansions=True)
    assert value is not None
    return value


def literal(word: str) -> str | None:
    """``word`` after quote removal; None when it holds an expansion (``$x``, backticks)
    outside single quotes: its value is only known when the shell runs."""
    return _dequote(word, expansions=False)


def _dequote(word: str, *, expansions: bool) -> str | None:
    if not _QUOTED.search(word):
        return word  # nothing to remove or expand: most words of a script
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(word):
        ch = word[i]
        if ch == "\\" and quote != "'" and i + 1 < len(word):
            out.append(word[i + 1])
            i += 2
            continue
        if not expansions and ch in "$`" and quote != "'":
            return None
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "\"'":
            quote = ch
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def key_values(ins: Instruction) -> list[KeyValue]:
    """The pairs of an ENV/ARG/LABEL instruction, in both ``k=v`` and legacy ``k v`` forms."""
    text, logical = ins.value, ins.logical
    spans = words(text, ins.flag_end() if ins.keyword != "ENV" else 0)
    if not spans:
        return []
    first = text[spans[0][0] : spans[0][1]]
    if ins.keyword == "ENV" and "=" not in first:
        # Legacy `ENV key value...`: the value is the rest of the arguments.
        key_end = spans[0][1]
        if len(spans) == 1:
            return []
        v_start, v_end = spans[1][0], spans[-1][1]
        raw = text[v_start:v_end]
        return [
            KeyValue(
                first,
                unquote(raw),
                logical.span_of(spans[0][0], v_end),
                logical.span_of(spans[0][0], key_end),
                logical.span_of(v_start, v_end),
                legacy=True,
            )
        ]
    out = []
    for s, e in spans:
        word = text[s:e]
        key, eq, _ = word.partition("=")
        value_span = logical.span_of(s + len(key) + 1, e) if eq else None
        out.append(
            KeyValue(
                key,
                unquote(word[len(key) + 1 :]) if eq else None,
                logical.span_of(s, e),
                logical.span_of(s, s + len(key)),
                value_span,
            )
        )
    return out
