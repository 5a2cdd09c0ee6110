"""The journal of what ``check`` printed: order kept, turns joined, bounded, spooled."""

from __future__ import annotations

import io
from pathlib import Path

from fixer.output.recorder import Journal, recording
from fixer.spool import Spool


def _text(journal: Journal) -> bytes:
    out = io.BytesIO()
    journal.copy_to(out)
    return out.getvalue()


def test_turns_of_each_stream_are_joined_in_order() -> None:
    journal, out, err = recording(io.StringIO(), io.StringIO(), 100)
    for text, stream in (("a", out), ("b", out), ("E", err), ("c", out), ("", err)):
        stream.write(text)
    assert journal.turns == [(0, 2), (1, 1), (0, 1)]
    assert _text(journal) == b"abEc"


def test_turns_count_characters_and_the_text_is_utf8() -> None:
    journal = Journal(100)
    journal.add(0, "é→")
    assert journal.turns == [(0, 2)] and _text(journal) == "é→".encode()
    assert journal.size == len("é→".encode())


def test_past_the_limit_nothing_is_kept() -> None:
    journal = Journal(5)
    journal.add(0, "abc")
    journal.add(0, "def")
    assert journal.turns is None
    journal.add(1, "x")
    assert journal.turns is None


def test_text_that_is_not_utf8_is_not_kept() -> None:
    journal = Journal(100)
    journal.add(0, "name-\udcff.yaml")  # a file name that is not UTF-8 (surrogateescape)
    assert journal.turns is None


def test_a_large_output_waits_in_the_cache_folder_not_in_memory(tmp_path: Path) -> None:
    """51 MB in 30,000 writes: past the spool's memory the text moves to an unnamed file
    in the folder the journal was given (created when needed), and comes back whole."""
    made: list[Path] = []

    def prepare(folder: Path) -> None:
        folder.mkdir()
        made.append(folder)

    journal = Journal(1 << 30)
    journal.keep_in(tmp_path / "cache", prepare)
    piece = "x" * 1700
    for _ in range(30_000):
        journal.add(0, piece)
    assert journal.turns == [(0, 1700 * 30_000)]
    assert made == [tmp_path / "cache"]
    assert list((tmp_path / "cache").iterdir()) == []  # the file has no name
    assert _text(journal) == piece.encode() * 30_000
    journal.close()


def test_a_spool_that_cannot_move_to_a_file_fails_and_keeps_nothing(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "missing", memory=10)
    spool.write(b"0123456789")
    assert spool.failed is None
    spool.write(b"more")  # past memory: the folder does not exist
    assert isinstance(spool.failed, FileNotFoundError)
    out = io.BytesIO()
    spool.copy_to(out)
    assert out.getvalue() == b""


def test_a_small_spool_stays_in_memory(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "missing", memory=100)
    spool.write(b"abc")
    spool.write(b"def")
    out = io.BytesIO()
    spool.copy_to(out)
    assert out.getvalue() == b"abcdef" and spool.failed is None and spool.size == 6
