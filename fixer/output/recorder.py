"""Text streams that keep a copy of what is written to them, in order (``tighten check``
keeps a run's printed output for the next identical run, ``fixer.cache.save_output``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TextIO

from fixer.spool import Spool


class Journal:
    """What was written to stdout (0) and stderr (1), in the order written (so a replay
    interleaves them as the run did): one turn per change of stream, as (stream, number
    of characters), the text itself spooled as UTF-8 (``fixer.spool``: in memory while
    small, then in the cache folder once ``keep_in`` names it). ``turns`` is None past
    ``limit`` characters, for text that is not UTF-8, or when the spool failed."""

    def __init__(self, limit: int) -> None:
        self._turns: list[list[int]] = []
        self._size = 0
        self._limit = limit
        self._spool = Spool(None)

    def keep_in(self, folder: Path, prepare: Callable[[Path], None]) -> None:
        """Where the spool may move when it grows (the cache folder, created by ``prepare``)."""
        self._spool.folder = folder
        self._spool.prepare = prepare

    def add(self, stream: int, text: str) -> None:
        if not text or self._size > self._limit:
            return
        self._size += len(text)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a file name that is not UTF-8: nothing is kept
            self._size = self._limit + 1
        if self._size > self._limit:
            self._turns = []
            self._spool.close()
            return
        self._spool.write(data)
        if self._turns and self._turns[-1][0] == stream:
            self._turns[-1][1] += len(text)
        else:
            self._turns.append([stream, len(text)])

    @property
    def turns(self) -> list[tuple[int, int]] | None:
        if self._size > self._limit or self._spool.failed is not None:
            return None
        return [(stream, length) for stream, length in self._turns]

    @property
    def size(self) -> int:
        """The bytes of the text, encoded."""
        return self._spool.size

    def copy_to(self, out: IO[bytes]) -> None:
        """The text of every turn, in order, encoded."""
        self._spool.copy_to(out)

    def close(self) -> None:
        self._spool.close()


class Recorder:
    """Writes go to ``stream`` and into the journal; everything else is the stream's own."""

    def __init__(self, stream: TextIO, journal: Journal, number: int) -> None:
        self.stream = stream
        self._journal = journal
        self._number = number

    def write(self, text: str) -> int:
        written = self.stream.write(text)
        self._journal.add(self._number, text)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def recording(out: TextIO, err: TextIO, limit: int) -> tuple[Journal, TextIO, TextIO]:
    """The journal and the two recording streams (typed as the streams they stand for)."""
    journal = Journal(limit)
    return journal, Recorder(out, journal, 0), Recorder(err, journal, 1)  # type: ignore[return-value]
