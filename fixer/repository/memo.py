"""Bounded memos for the model's per-path answers.

A worker asks about the files of its chunk, and then about their neighbours: an answer is
worth keeping while the walk is near it. Over the corpus no memo holds more than 1,300
answers per worker; over a 30,000-file tree the same memos held ten times that (12,000
normalised paths, 3,500 builds, 2,200 copy analyses per worker: about 9 MB that only
grew). A memo that reaches ``MAX_KEPT`` is emptied and fills again from the files asked
about now, so a worker's memory stops growing with the tree while its hits stay.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: Answers kept per memo (above every memo's size over the corpus: its hits are unchanged).
MAX_KEPT = 2048


def remember(memo: dict[K, V], key: K, value: V) -> V:
    """``value``, kept in ``memo`` under ``key``; a full memo is emptied first."""
    if len(memo) >= MAX_KEPT:
        memo.clear()
    memo[key] = value
    return value
