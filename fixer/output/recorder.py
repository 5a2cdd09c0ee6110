"""Text streams that keep a copy of what is written to them, in order (``tighten check``
keeps a run's printed output for the next identical run, ``fixer.cache.save_output``)."""

from __future__ import annotations

from typing import Any, TextIO


class Journal:
    """What was written to stdout (0) and stderr (1), in the order written (so a replay
    interleaves them as the run did): one chunk per turn of a stream. ``chunks`` is None
    past ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        # Each turn's pieces are joined once, when asked: adding to the last chunk's string
        # copied everything printed so far on every write (quadratic in the output).
        self._turns: list[tuple[int, list[str]]] = []
        self._size = 0
        self._limit = limit

    def add(self, stream: int, text: str) -> None:
        if not text or self._size > self._limit:
            return
        self._size += len(text)
        if self._size > self._limit:
            self._turns = []
        elif self._turns and self._turns[-1][0] == stream:
            self._turns[-1][1].append(text)
        else:
            self._turns.append((stream, [text]))

    @property
    def chunks(self) -> list[tuple[int, str]] | None:
        if self._size > self._limit:
            return None
        return [(stream, "".join(pieces)) for stream, pieces in self._turns]


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
