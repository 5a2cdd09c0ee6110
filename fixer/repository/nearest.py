"""Bounding what one question about an image reads: the runs nearest to the Dockerfile.

A monorepo deploys the same image names from many folders (ten teams' ``web``); reading
every run of a name for every Dockerfile that builds it made a run quadratic in the number
of folders (ten copies of the corpus: DF001 1.3 s -> 88 s). Each question now reads at most
``MAX_EXACT`` runs matched by image name and ``MAX_LOOSE`` matched by a likely name, those
sharing the longest folder path with the Dockerfile first.
"""

from __future__ import annotations

from pathlib import Path

from fixer.repository.model import Run

MAX_EXACT = 32
MAX_LOOSE = 8


def nearest(runs: list[Run], dockerfile: Path, limit: int) -> list[Run]:
    """At most ``limit`` of ``runs``, those sharing the longest folder path with
    ``dockerfile`` first (in their order otherwise)."""
    if len(runs) <= limit:
        return runs
    home = dockerfile.parent.parts

    def shared(run: Run) -> int:
        count = 0
        for a, b in zip(home, run.path.parent.parts, strict=False):
            if a != b:
                break
            count += 1
        return -count

    return sorted(runs, key=shared)[:limit]
