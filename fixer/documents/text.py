"""Bytes at the edge: decoding, BOM, newline style, and offset <-> line arithmetic.

Everything after decoding works on one ``str`` whose offsets the parsers report. The BOM is
stripped on the way in and put back on the way out; CRLF stays in the text so that every
untouched byte survives a round trip. A file whose lines end in CR alone (classic Mac) is
read with LF in their place and written back with CR: one character for one, so offsets
hold, and every line break a fix inserts comes out as CR too.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

BOM = "\ufeff"


class DecodeError(ValueError):
    """The bytes are not a text file tighten can edit safely."""


@dataclass(frozen=True)
class SourceText:
    """A decoded file: ``text`` without BOM, plus what is needed to encode it back."""

    text: str
    bom: bool = False
    #: The file breaks lines with CR alone; ``text`` holds LF in their place.
    cr: bool = False

    @classmethod
    def decode(cls, data: bytes) -> SourceText:
        if b"\x00" in data:  # anywhere: a NUL past the first block is still a binary
            raise DecodeError("binary file (contains NUL bytes)")
        bom = data.startswith(b"\xef\xbb\xbf")
        if bom:
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"not UTF-8 (invalid byte at offset {exc.start})") from None
        if "\r" in text and "\n" not in text:
            # Parsers and line arithmetic split on LF; libyaml alone would see CR lines.
            return cls(text.replace("\r", "\n"), bom, cr=True)
        return cls(text, bom)

    def encode(self, text: str | None = None) -> bytes:
        return ((BOM if self.bom else "") + self.raw(text)).encode("utf-8")

    def raw(self, text: str | None = None) -> str:
        """``text`` (default: this file's) with the file's own line breaks, as written."""
        body = self.text if text is None else text
        return body.replace("\n", "\r") if self.cr else body

    @property
    def newline(self) -> str:
        return newline_of(self.text)


def newline_of(text: str) -> str:
    """The file's line ending: CRLF when most line breaks are CRLF, else LF."""
    crlf = text.count("\r\n")
    lf = text.count("\n")
    return "\r\n" if crlf and crlf * 2 >= lf else "\n"


@dataclass
class LineIndex:
    """Maps offsets to 1-based lines and back, for one text."""

    text: str
    _starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._starts = starts

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_of(self, offset: int) -> int:
        """1-based line number holding ``offset``."""
        return bisect.bisect_right(self._starts, offset)

    def column_of(self, offset: int) -> int:
        """1-based column of ``offset`` within its line."""
        return offset - self._starts[self.line_of(offset) - 1] + 1

    def line_start(self, line: int) -> int:
        """Offset where 1-based ``line`` begins."""
        return self._starts[line - 1]

    def line_end(self, line: int, *, with_newline: bool = False) -> int:
        """Offset just past the content of 1-based ``line`` (before its CR/LF by default)."""
        if line < len(self._starts):
            end = self._starts[line]
            if with_newline:
                return end
            end -= 1
            if end > 0 and self.text[end - 1] == "\r":
                end -= 1
            return end
        return len(self.text)

    def line_text(self, line: int) -> str:
        return self.text[self.line_start(line) : self.line_end(line)]

    def deletion(self, first: int, last: int) -> tuple[int, int]:
        """The range that removes lines ``first..last`` whole, with their line break.

        At the end of a file without a final newline the break *before* them goes instead
        (with blank lines just above, which would otherwise leave one behind), so the file
        still ends the way it did.
        """
        start, end = self.line_start(first), self.line_end(last, with_newline=True)
        if end == len(self.text) and not self.text.endswith("\n") and first > 1:
            line = first - 1
            while line > 1 and not self.line_text(line).strip():
                line -= 1
            start = self.line_end(line)
        return start, end


def indentation(line: str) -> str:
    """The leading spaces/tabs of a line."""
    return line[: len(line) - len(line.lstrip(" \t"))]
