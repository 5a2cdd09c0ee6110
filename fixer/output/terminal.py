"""Terminal niceties: colour when a person is watching, a progress bar on stderr.

Colour follows the usual conventions: on when the stream is a terminal, off when piped,
when ``NO_COLOR`` is set or ``TERM=dumb``; ``FORCE_COLOR`` turns it on anyway.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TextIO

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
    "underline": "4",
}


def wants_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return isatty(stream) and os.environ.get("TERM") != "dumb"


def isatty(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (False for a closed or file-less stream)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class Paint:
    enabled: bool

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"


def color_diff(text: str, paint: Paint) -> str:
    """A unified diff with git's colours: headers bold, hunks cyan, -/+ red/green."""
    if not paint.enabled:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        body, end = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        if body.startswith(("diff --git", "--- ", "+++ ", "new file mode")):
            out.append(paint(body, "bold") + end)
        elif body.startswith("@@"):
            out.append(paint(body, "cyan") + end)
        elif body.startswith("-"):
            out.append(paint(body, "red") + end)
        elif body.startswith("+"):
            out.append(paint(body, "green") + end)
        else:
            out.append(line)
    return "".join(out)


@dataclass
class Progress:
    """``[#####.....] 120/2934 files`` on stderr, redrawn at most ten times a second.

    Shown only for long runs on a terminal; ``clear`` before writing anything else.
    """

    stream: TextIO
    total: int
    label: str
    enabled: bool = True
    done: int = 0
    _drawn: bool = field(default=False, repr=False)
    _last: float = field(default=0.0, repr=False)

    @classmethod
    def maybe(
        cls, stream: TextIO, total: int, label: str, *, quiet: bool, minimum: int = 50
    ) -> Progress:
        return cls(stream, total, label, enabled=not quiet and total >= minimum and isatty(stream))

    def advance(self, step: int = 1) -> None:
        self.done += step
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and self.done < self.total:
            return
        self._last = now
        width = 30
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {self.label}")
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False
