"""A Dockerfile as a list of instructions with exact text spans, grouped into stages.

``lexer.parse`` builds it; offsets are ``str`` indexes into the decoded text.
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

    def in_effect(self, stage: Stage) -> InEffect:
        """The USER and SHELL in effect at the end of ``stage``: what its image runs with."""
        return self._effects[stage.index][1]

    def in_effect_at(self, stage: Stage) -> tuple[InEffect, ...]:
        """The USER and SHELL in effect when each instruction of ``stage.body`` runs."""
        return self._effects[stage.index][0]

    @cached_property
    def _effects(self) -> dict[int, tuple[tuple[InEffect, ...], InEffect]]:
        # Computed once for every stage, in order: a stage built ``FROM`` an earlier one
        # starts with what that stage ended with (the image keeps USER and SHELL).
        out: dict[int, tuple[tuple[InEffect, ...], InEffect]] = {}
        for stage in self.stages:
            chain = parent_stages(self, stage)
            state = out[chain[1].index][1] if len(chain) > 1 else InEffect()
            at = []
            for ins in stage.body:
                at.append(state)
                state = state.after(ins)
            out[stage.index] = (tuple(at), state)
        return out


@dataclass(frozen=True)
class InEffect:
    """The ``USER`` and ``SHELL`` instructions in effect at one point of a build, inherited
    through ``FROM <stage>``; None: the base image's own (usually root, ``/bin/sh -c``)."""

    user: Instruction | None = None
    shell: Instruction | None = None

    def after(self, ins: Instruction) -> InEffect:
        if ins.keyword == "USER":
            return InEffect(ins, self.shell)
        if ins.keyword == "SHELL":
            return InEffect(self.user, ins)
        return self


def parent_stages(doc: Dockerfile, stage: Stage) -> list[Stage]:
    """The stage and the earlier stages it is built FROM, nearest first."""
    by_name = {s.name.lower(): s for s in doc.stages if s.name}
    chain = [stage]
    while chain[-1].image.lower() in by_name:
        parent = by_name[chain[-1].image.lower()]
        if parent.index >= chain[-1].index or parent in chain:
            break
        chain.append(parent)
    return chain


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
