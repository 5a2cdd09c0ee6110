"""The shell script of a ``RUN`` instruction, and edits against it that keep its layout.

A script is either the instruction's arguments (``Instruction.logical``: continuations and
inner comment lines removed, each character mapped back to its file offset) or the body of a
``RUN <<EOF`` here-document. Rules describe changes as *logical* ranges to delete; this module
turns them into file edits line by line: a line left with nothing but indentation and its
continuation goes as a whole, a kept line keeps its indentation, and when the instruction's
last line goes, the line that now ends it loses its continuation backslash.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fixer.documents.dockerfile import Dockerfile, Heredoc, Instruction, Logical
from fixer.documents.shell import Script, Token, parse
from fixer.model import Edit, Span

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "ksh", "zsh", "busybox"})
_HEREDOC_ONLY = re.compile(r"(?:(?:/\S*/)?(\w+)(?:\s+-\w+)*\s+)?<<-?(['\"]?)(\w+)\2\s*$")
_SHEBANG = re.compile(r"#!\s*(\S+)(?:\s+(\S+))?")


class Unsupported(ValueError):
    """A RUN whose script cannot be edited (exec form, a non-shell heredoc): the reason."""


@dataclass(frozen=True)
class RunScript:
    """One shell script of a RUN: ``script`` offsets are indexes into ``logical.text``."""

    instruction: Instruction
    logical: Logical
    script: Script
    heredoc: Heredoc | None = None

    @property
    def text(self) -> str:
        return self.logical.text

    def span(self, token: Token) -> Span:
        return self.logical.span_of(token.start, token.end)


def run_script(doc: Dockerfile, ins: Instruction) -> RunScript:
    """The script a shell-form RUN runs. Raises ``Unsupported`` or ``ShellError``."""
    if ins.is_exec_form:
        raise Unsupported("exec-form RUN (edit it by hand)")
    start = ins.flag_end()
    shell_heredoc = _script_heredoc(doc, ins, start)
    if shell_heredoc is not None:
        body = shell_heredoc.body
        logical = Logical(doc.text[body.start : body.end], tuple(range(body.start, body.end + 1)))
        return RunScript(ins, logical, parse(logical.text, heredocs=False), shell_heredoc)
    return RunScript(ins, ins.logical, parse(ins.logical.text, start))


def exec_words(ins: Instruction) -> list[str] | None:
    """The argv of an exec-form instruction, or None when it is not a JSON string list."""
    try:
        value = json.loads(ins.value[ins.flag_end() :])
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def is_shell_heredoc(ins: Instruction) -> bool:
    """``RUN <<EOF`` or ``RUN bash <<EOF``: the heredoc bodies are the shell script."""
    m = _HEREDOC_ONLY.fullmatch(ins.value[ins.flag_end() :].strip())
    return bool(ins.heredocs) and m is not None and (not m.group(1) or m.group(1) in _SHELLS)


def _script_heredoc(doc: Dockerfile, ins: Instruction, start: int) -> Heredoc | None:
    """The heredoc that *is* the script (``RUN <<EOF``, ``RUN bash <<EOF``), if any."""
    if not ins.heredocs:
        return None
    m = _HEREDOC_ONLY.fullmatch(ins.value[start:].strip())
    if m is None:
        return None  # `cat <<EOF > file` and friends: the body is data
    if len(ins.heredocs) != 1 or (m.group(1) and m.group(1) not in _SHELLS):
        raise Unsupported(f"RUN feeds a heredoc to {m.group(1) or 'several commands'}")
    heredoc = ins.heredocs[0]
    body = doc.text[heredoc.body.start : heredoc.body.end]
    if "\r" in body:  # sh reads a CR as part of the word: such a script is not what it seems
        raise Unsupported("heredoc script with CRLF line endings")
    first_line = body.split("\n", 1)[0]
    shebang = _SHEBANG.match(first_line)
    if shebang:
        program = shebang.group(1).rsplit("/", 1)[-1]
        program = (shebang.group(2) or "") if program == "env" else program
        if program not in _SHELLS:
            raise Unsupported(f"heredoc script runs {program}")
    return heredoc


@dataclass(frozen=True)
class _Line:
    """One physical line of a script: logical ``[start, end)`` without its continuation."""

    number: int
    start: int
    end: int
    continued: bool
    keyword: bool  # the instruction's first line: it also holds `RUN`, never deleted whole


def _lines(doc: Dockerfile, rs: RunScript) -> list[_Line]:
    """The script's physical lines, worked out once per script (a fix asks three times)."""
    known: tuple[_Line, ...] | None = rs.__dict__.get(_LINES)
    if known is None:
        known = tuple(_physical_lines(doc, rs))
        rs.__dict__[_LINES] = known  # a cache on a frozen value, as cached_property does
    return list(known)


_LINES = "_lines"


def _physical_lines(doc: Dockerfile, rs: RunScript) -> list[_Line]:
    offsets, text = rs.logical.offsets, rs.text
    lines = doc.lines
    count = lines.line_count
    out: list[_Line] = []
    i = 0
    n = len(text)
    while i < n:
        number = lines.line_of(offsets[i])
        content_end = lines.line_end(number)
        # File offsets only grow along the text: the characters of this line are a run,
        # up to the first at or past the next line's start; those before the line's
        # content end (a heredoc body holds the newline too) make the line.
        j = bisect_left(offsets, lines.line_start(number + 1), i, n) if number < count else n
        end = bisect_left(offsets, content_end, i, j)
        continued = False
        if rs.heredoc is not None:
            stripped = text[i:end].rstrip(" \t")
            continued = stripped.endswith("\\") and not stripped.endswith("\\\\")
            end = i + len(stripped) - 1 if continued else end
        keyword = rs.heredoc is None and number == rs.instruction.line
        out.append(_Line(number, i, end, continued, keyword))
        i = j
    if rs.heredoc is None:  # every line of an instruction but its last ends in a continuation
        out = [
            _Line(x.number, x.start, x.end, k < len(out) - 1, x.keyword) for k, x in enumerate(out)
        ]
    return out


def word_ranges(
    doc: Dockerfile, rs: RunScript, groups: Iterable[Sequence[Token]]
) -> list[tuple[int, int]]:
    """Logical ranges that delete each group of adjacent words with one space run: the
    whole line when the group is alone on it (``    curl \\``), else the blanks after it
    when more words follow on the line, else the blanks before it (``git curl && x`` ->
    ``git && x``)."""
    lines = _lines(doc, rs)
    out = []
    for group in groups:
        a, b = group[0].start, group[-1].end
        line = next(ln for ln in lines if ln.start <= a < max(ln.end, ln.start + 1))
        before, after = rs.text[line.start : a], rs.text[b : line.end]
        if not before.strip() and not after.strip():
            out.append((line.start, line.end))
        elif after[:1] in (" ", "\t") and after.strip()[:1] not in ("", *"&;|)#"):
            out.append((a, b + len(after) - len(after.lstrip(" \t"))))
        else:
            out.append((a - (len(before) - len(before.rstrip(" \t"))), b))
    return out


def best_range(
    doc: Dockerfile, rs: RunScript, ranges: Sequence[tuple[int, int]]
) -> tuple[int, int]:
    """Of equivalent deletions, the one that leaves fewest lines half-edited: with leading
    ``&&`` style the joiner before goes, with trailing ``&& \\`` style the one after."""
    lines = _lines(doc, rs)

    def partial(r: tuple[int, int]) -> int:
        touched = [ln for ln in lines if r[0] < ln.end and r[1] > ln.start]
        cut = [(max(r[0], ln.start), min(r[1], ln.end)) for ln in touched]
        return sum(
            1
            for ln, piece in zip(touched, cut, strict=True)
            if rs.text[piece[0] : piece[1]].strip(" \t") and not _covers(rs.text, ln, [piece])
        )

    return min(ranges, key=partial)


def deletion_edits(doc: Dockerfile, rs: RunScript, ranges: Iterable[tuple[int, int]]) -> list[Edit]:
    """File edits that delete the logical ``ranges`` of the script, line by line."""
    merged = _merge(sorted(ranges))
    lines = _lines(doc, rs)
    cuts: list[tuple[int, int]] = []
    gone: set[int] = set()
    for k, line in enumerate(lines):
        pieces = [
            (max(a, line.start), min(b, line.end))
            for a, b in merged
            if a < line.end and b > line.start
        ]
        if not pieces:
            continue
        if not line.keyword and _covers(rs.text, line, pieces):
            gone.add(k)
            cuts.append(_whole_line(doc, line.number))
            continue
        for a, b in pieces:
            if a == line.start:  # keep the indentation of a line that stays
                a += len(rs.text[a:b]) - len(rs.text[a:b].lstrip(" \t"))
            if rs.text[a:b].strip(" \t"):  # blanks alone (before a continuation) stay
                cuts.append(_file_range(rs.logical, a, b))
        if line.keyword and _covers(rs.text, line, pieces) and k + 1 < len(lines):
            cuts.append(_join_next(doc, rs, pieces[0][0], lines[k + 1]))
    cuts.extend(_dangling(doc, rs, lines, gone))
    return [Edit.delete(a, b) for a, b in _merge(sorted(cuts))]


def _dangling(
    doc: Dockerfile, rs: RunScript, lines: Sequence[_Line], gone: set[int]
) -> list[tuple[int, int]]:
    """Continuations left pointing at a line that is gone: when a deleted line ended a
    command, the kept line before it must end the command now (`` git \\`` -> `` git``)."""
    out = []
    for k in sorted(gone):
        if lines[k].continued:
            continue
        kept = [p for p in range(k) if p not in gone]
        if kept and lines[kept[-1]].continued:
            out.append(_continuation(doc, rs, lines[kept[-1]]))
    return out


def _covers(text: str, line: _Line, pieces: Sequence[tuple[int, int]]) -> bool:
    """True when every non-blank character of the line lies in a piece (and there is one)."""
    solid = [i for i in range(line.start, line.end) if text[i] not in " \t"]
    return bool(solid) and all(any(a <= i < b for a, b in pieces) for i in solid)


def _file_range(logical: Logical, a: int, b: int) -> tuple[int, int]:
    span = logical.span_of(a, b)
    return span.start, span.end


def _whole_line(doc: Dockerfile, first: int, last: int | None = None) -> tuple[int, int]:
    return doc.lines.deletion(first, first if last is None else last)


def _join_next(doc: Dockerfile, rs: RunScript, first: int, nxt: _Line) -> tuple[int, int]:
    """``RUN X && \\`` + ``    b`` with X gone -> ``RUN b`` (when no comment lines are between)."""
    start = rs.logical.offsets[first]
    solid = next((i for i in range(nxt.start, nxt.end) if rs.text[i] not in " \t"), nxt.start)
    if nxt.number != doc.lines.line_of(start) + 1:
        return start, start
    return start, rs.logical.offsets[solid]


def _continuation(doc: Dockerfile, rs: RunScript, line: _Line) -> tuple[int, int]:
    """From the last non-blank character of ``line`` to its end: `` && \\`` -> ``."""
    k = line.end
    while k > line.start and rs.text[k - 1] in " \t":
        k -= 1
    start = rs.logical.offsets[k - 1] + 1 if k > line.start else rs.logical.offsets[line.start]
    return start, doc.lines.line_end(line.number)


def _merge(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif b > a:
            out.append((a, b))
    return out


def delete_instruction(doc: Dockerfile, ins: Instruction) -> Edit:
    """Delete the instruction's lines (heredoc bodies and inner comment lines included)."""
    return Edit.delete(*_whole_line(doc, ins.line, ins.end_line))


def append_command(doc: Dockerfile, rs: RunScript, command: str) -> Edit | None:
    """Run ``command`` after everything else in the script: `` && command`` on the same
    line, or a new line at the end of a heredoc body. None when the script does not end in
    a complete command (a trailing ``;``, ``&``, a continuation)."""
    tokens = rs.script.tokens
    last = len(tokens) - 1
    while rs.heredoc is not None and last >= 0 and tokens[last].text == "\n":
        last -= 1
    if last < 0 or (tokens[last].kind == "op" and tokens[last].text != ")"):
        return None
    end = rs.logical.offsets[tokens[last].end - 1] + 1
    if rs.heredoc is None:
        return Edit.insert(end, f" && {command}")
    line = doc.lines.line_of(end - 1)
    if line != doc.lines.line_of(rs.heredoc.body.end) or rs.text.rstrip().endswith("\\"):
        return None  # a comment line or continuation after the last command
    text = doc.lines.line_text(line)
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    return Edit.insert(doc.lines.line_end(line), doc.source.newline + indent + command)
