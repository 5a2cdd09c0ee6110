"""The journal of what ``check`` printed: order kept, turns joined, bounded."""

from __future__ import annotations

import io

from fixer.output.recorder import Journal, recording


def test_turns_of_each_stream_are_joined_in_order() -> None:
    journal, out, err = recording(io.StringIO(), io.StringIO(), 100)
    for text, stream in (("a", out), ("b", out), ("E", err), ("c", out), ("", err)):
        stream.write(text)
    assert journal.chunks == [(0, "ab"), (1, "E"), (0, "c")]


def test_past_the_limit_nothing_is_kept() -> None:
    journal = Journal(5)
    journal.add(0, "abc")
    journal.add(0, "def")
    assert journal.chunks is None
    journal.add(1, "x")
    assert journal.chunks is None


def test_many_small_writes_are_recorded_in_linear_time() -> None:
    """51 MB in 30,000 writes: appending to one growing string copied it on every write
    (minutes); pieces joined once take a fraction of a second. No timing: the count of
    characters copied is what the join does, so finishing at all is the assertion."""
    journal = Journal(1 << 30)
    piece = "x" * 1700
    for _ in range(30_000):
        journal.add(0, piece)
    (chunk,) = journal.chunks or []
    assert chunk == (0, piece * 30_000)
