"""What a run does with the files: the one closed set every layer of a run agrees on."""

from __future__ import annotations

from enum import Enum

__all__ = ["Mode"]


class Mode(Enum):
    CHECK = "check"  # report findings; nothing is written
    FIX = "fix"  # apply fixes and write the files
    DRY_RUN = "dry-run"  # apply fixes in memory and show the diff

    @property
    def fixing(self) -> bool:
        """Fixes are built (registry look-ups, the fix loop): ``fix`` and ``--dry-run``."""
        return self is not Mode.CHECK
