"""What git ignores, asked of git itself (``.gitignore`` files, ``.git/info/exclude`` and
``core.excludesFile``, with every rule of their syntax) in one process per question, never
one per file.

Walking a folder asks once for everything ignored below it (``git ls-files --others
--ignored --exclude-standard --directory``: a folder whose whole content is ignored comes
back as one ``dir/`` entry, so ``node_modules/`` costs one line, not a walk). Files named on
the command line are asked about together (``git check-ignore --stdin``). Tracked files are
never ignored, as in git. When git is missing, the folder is not in a work tree, or git
fails, nothing is ignored and nothing is said: the run behaves as before. git runs through
``fixer.gitcmd`` (a clean environment: a hook's ``GIT_DIR``/``GIT_INDEX_FILE`` do not leak).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fixer.gitcmd import Git, GitError


@dataclass(frozen=True)
class Ignored:
    """Paths below one walked folder that git ignores, relative to it and ``/``-separated;
    ``folders`` are whole folders (nothing below them needs asking)."""

    files: frozenset[str] = frozenset()
    folders: frozenset[str] = frozenset()

    @classmethod
    def from_ls_files(cls, output: bytes) -> Ignored:
        """Parse ``git ls-files -z --directory`` output. ``./`` (the walked folder itself is
        ignored as a whole) is dropped: the user named that folder, so it is walked, as a
        named file is checked."""
        files, folders = set(), set()
        for raw in output.split(b"\0"):
            entry = raw.decode("utf-8", "surrogateescape")
            if entry.endswith("/"):
                if entry != "./":
                    folders.add(entry.rstrip("/"))
            elif entry:
                files.add(entry)
        return cls(frozenset(files), frozenset(folders))

    def folder(self, rel: str) -> bool:
        return rel in self.folders

    def file(self, rel: str) -> bool:
        return rel in self.files


NOTHING = Ignored()


def ignored_under(root: Path) -> Ignored:
    """Everything git ignores below the folder ``root`` (one git process)."""
    runner = _git(root)
    if runner is None:
        return NOTHING
    args = ("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
    try:
        return Ignored.from_ls_files(runner.bytes(*args))
    except GitError:  # not a work tree (or no git that works): nothing is ignored
        return NOTHING


def ignored_named(paths: Sequence[str]) -> frozenset[str]:
    """Those of ``paths`` (as given, relative to the current folder) that git ignores, in
    one git process. Any failure (a path outside the work tree makes git refuse the whole
    batch) means none: a file the user named is checked unless git says otherwise."""
    runner = _git(Path.cwd()) if paths else None
    if runner is None:
        return frozenset()
    try:
        data = "\0".join(paths) + "\0"
        out = runner.bytes("check-ignore", "--stdin", "-z", input=data)
    except (GitError, UnicodeEncodeError):  # exit 1 (none ignored) lands here too
        return frozenset()
    return frozenset(p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p)


def _git(cwd: Path) -> Git | None:
    if shutil.which("git") is None:
        return None
    return Git(cwd)
