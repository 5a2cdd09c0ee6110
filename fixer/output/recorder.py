"""Text streams that keep a copy of what is written to them, in order (``tighten check``
keeps a run's printed output for the next identical run, ``fixer.cache.save_output``)."""

from __future__ import annotations

from typing import Any, TextIO


class Journal:
    """What was written to stdout (0) and stderr (1), chunk by chunk, in the order written
    (so a replay interleaves them as the run did); ``chunks`` is None past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.chunks: list[tuple[int, str]] | None = []
        self._size = 0
        self._limit = limit

    def add(self, stream: int, text: str) -> None:
        if self.chunks is None or not text:
            return
        self._size += len(text)
        if self._size > self._limit:
            self.chunks = None
        elif self.chunks and self.chunks[-1][0] == stream:
            self.chunks[-1] = (stream, self.chunks[-1][1] + text)  # one chunk per turn
        else:
            self.chunks.append((stream, text))


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
