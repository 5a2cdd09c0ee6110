"""Keep a generated Secret manifest (real values in plain text) out of git.

``gitignore_entry`` is the one look-up on disk (it finds the work tree by walking up to a
``.git`` directory or file, so no ``git`` process is needed, and reads one ``.gitignore``);
``add_gitignore_line`` is a pure text edit. The engine performs the write.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["add_gitignore_line", "gitignore_entry", "work_tree_root"]

_SPECIAL = re.compile(r"([\\*?\[])")  # glob characters a literal file name must escape


def work_tree_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (a directory, or a file in
    linked worktrees and submodules), else None."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _pattern(relative: str) -> str:
    """An anchored gitignore pattern that matches exactly this one path."""
    escaped = _SPECIAL.sub(r"\\\1", relative)
    stripped = escaped.rstrip(" ")  # trailing spaces are ignored by git unless escaped
    return "/" + stripped + "\\ " * (len(escaped) - len(stripped))


def _listed(text: str, pattern: str) -> bool:
    """True when a line already ignores the file: the same pattern, anchored or not."""
    wanted = {pattern, pattern[1:]}
    return any(line.rstrip("\r") in wanted for line in text.split("\n"))


def gitignore_entry(secret_file: Path) -> tuple[Path, str] | None:
    """Where to ignore ``secret_file`` and the line to add, or None.

    The ``.gitignore`` is the one in the closest folder (from the file's own folder up to
    the work-tree root) that has one, else the root's (to be created). The line is the path
    relative to that folder with a leading ``/``. None when the file is outside any git work
    tree or when that ``.gitignore`` already has the line.
    """
    path = Path(os.path.abspath(secret_file))  # normalise ``..`` without following links
    root = work_tree_root(path.parent)
    if root is None:
        return None
    folders = [path.parent, *path.parent.parents]
    folders = folders[: folders.index(root) + 1]
    folder = next((f for f in folders if (f / ".gitignore").is_file()), root)
    gitignore = folder / ".gitignore"
    pattern = _pattern(path.relative_to(folder).as_posix())
    try:
        text = gitignore.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = ""
    return None if _listed(text, pattern) else (gitignore, pattern)


def add_gitignore_line(existing: str | None, line: str) -> str:
    """``existing`` with ``line`` appended (unchanged if already there).

    Keeps the file's newline style (CRLF stays CRLF) and makes sure the previous last line
    ends with a newline, so the new pattern is never glued onto it.
    """
    if not existing:
        return line + "\n"
    if line in existing.replace("\r", "").split("\n"):
        return existing
    newline = "\r\n" if "\r\n" in existing else "\n"
    text = existing if existing.endswith(("\n", "\r")) else existing + newline
    return text + line + newline
