"""Where a run may write: the roots being fixed, worked out once from the paths named.

A repository can hold symlinks that lead anywhere. tighten writes only below a root: for
each path named on the command line, its git work tree when it is inside one, else the named
folder (or a named file's folder); ``--secrets-dir`` is the user's explicit choice and is a
root of its own when it lies outside all of those. Under ``tighten pr`` the paths are inside
the temporary worktree, so the worktree is the root. Everything here is lexical (no link is
followed): ``fixer.write`` checks where each path really leads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fixer.write import WriteError

__all__ = ["Roots", "work_tree_root"]


def work_tree_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (a directory, or a file in
    linked worktrees and submodules), else None."""
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return None


@dataclass(frozen=True)
class Roots:
    """Absolute, lexically normalised folders below which the run may write."""

    folders: tuple[Path, ...]

    @classmethod
    def of(cls, paths: Sequence[str], secrets_dir: Path | None = None) -> Roots:
        folders: list[Path] = []
        for raw in paths:
            anchor = Path(os.path.abspath(raw))
            if not anchor.is_dir():
                anchor = anchor.parent
            folders.append(work_tree_root(anchor) or anchor)
        if secrets_dir is not None:
            chosen = Path(os.path.abspath(secrets_dir))
            if not any(_inside(chosen, folder) for folder in folders):
                folders.append(chosen)
        return cls(tuple(dict.fromkeys(folders)))

    def root_of(self, path: Path) -> Path:
        """The shallowest root that holds ``path`` (lexically); WriteError when none does."""
        full = Path(os.path.abspath(path))
        for folder in sorted(self.folders, key=lambda f: len(f.parts)):
            if _inside(full, folder):
                return folder
        raise WriteError("outside the folders being fixed; not modified")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
