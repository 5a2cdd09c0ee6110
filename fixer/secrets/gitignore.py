"""Keep a generated Secret manifest (real values in plain text) out of git.

``gitignore_entry`` is the look-up on disk (it finds the work tree by walking up to a
``.git`` directory or file, so no ``git`` process is needed, and reads one ``.gitignore``);
``add_gitignore_line`` is a pure text edit. ``ensure_ignored`` is what a writer calls before
a Secret gets real values: it adds the line (locked, merged, atomic) and, when ``git`` is on
PATH, asks git whether the file is really ignored; if not, the Secret must not be written.

A name holding a newline or another control character is refused rather than matched with
``?``: a ``?`` would also ignore other files of the user, and nothing forces such a name on
a Secret (its name comes from a folder or file name; ``--secrets-dir`` picks another place).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from fixer.roots import work_tree_root
from fixer.write import WriteError, write_atomic

if TYPE_CHECKING:
    from fixer.gitcmd import Git

__all__ = ["add_gitignore_line", "ensure_ignored", "gitignore_entry", "work_tree_root"]

_SPECIAL = re.compile(r"([\\*?\[])")  # glob characters a literal file name must escape
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _pattern(relative: str) -> str:
    """An anchored gitignore pattern that matches exactly this one path (the leading ``/``
    also means a name starting with ``!`` or ``#`` needs no escape)."""
    if _CONTROL.search(relative):
        raise WriteError(
            f"{relative!r}: a control character in the name cannot be git-ignored safely; "
            "not written"
        )
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        raise WriteError(f"{relative!r}: the name is not UTF-8; not written") from None
    escaped = _SPECIAL.sub(r"\\\1", relative)
    stripped = escaped.rstrip(" ")  # trailing spaces are ignored by git unless escaped
    return "/" + stripped + "\\ " * (len(escaped) - len(stripped))


def _listed(text: str, pattern: str) -> bool:
    """True when a line already ignores the file: the same pattern, anchored or not."""
    wanted = {pattern, pattern[1:]}
    return any(line.rstrip("\r") in wanted for line in text.split("\n"))


def _real(path: Path) -> Path:
    """``path`` with its folder resolved: git sees a file where it really is (a file behind
    a link out of the repository needs no ignore line; git would not track it)."""
    return Path(os.path.realpath(path.parent)) / path.name


def _locate(secret_file: Path) -> tuple[Path, Path, str] | None:
    """(work-tree root, the ``.gitignore`` to use, the line), or None outside a work tree.

    The ``.gitignore`` is the one in the closest folder (from the file's own folder up to
    the root) that has one git reads (a regular file: git ignores a symlinked one), else
    the root's. A symlink (or anything but a file) there is refused: never written through.
    """
    path = _real(secret_file)
    root = work_tree_root(path.parent)
    if root is None:
        return None
    folders = [path.parent, *path.parent.parents]
    folders = folders[: folders.index(root) + 1]
    folder = next((f for f in folders if _regular(f / ".gitignore")), root)
    gitignore = folder / ".gitignore"
    if os.path.lexists(gitignore) and not _regular(gitignore):
        raise WriteError(f"{gitignore} is not a regular file (git does not read a symlink)")
    return root, gitignore, _pattern(path.relative_to(folder).as_posix())


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def gitignore_entry(secret_file: Path) -> tuple[Path, str] | None:
    """Where to ignore ``secret_file`` and the line to add, or None.

    The line is the path relative to the ``.gitignore``'s folder with a leading ``/``. None
    when the file is outside any git work tree or when that ``.gitignore`` already has the
    line. ``WriteError`` when the file cannot be ignored (see ``_locate`` and ``_pattern``).
    """
    found = _locate(secret_file)
    if found is None:
        return None
    _, gitignore, pattern = found
    try:
        text = gitignore.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = ""
    return None if _listed(text, pattern) else (gitignore, pattern)


def ensure_ignored(secret_file: Path) -> Path | None:
    """Make git ignore ``secret_file`` before real values go in; the ``.gitignore`` written
    (None: nothing to change, or outside a work tree). ``WriteError`` names the file when
    it would not be ignored: the caller must then write neither it nor the source.

    Concurrent runs cannot lose each other's lines: the ``.gitignore`` is re-read, merged
    and replaced atomically under an exclusive ``flock`` on its folder (a folder lock
    leaves no lock file behind in the work tree).
    """
    try:
        found = _locate(secret_file)
    except WriteError as exc:
        raise WriteError(f"{secret_file}: not written: {exc}") from None
    if found is None:
        return None
    root, gitignore, pattern = found
    git = _git(root)
    real = _real(secret_file).relative_to(root).as_posix()
    if git is not None and _tracked(git, real):
        raise WriteError(f"{secret_file} is tracked by git, so .gitignore cannot keep it out")
    written = None
    with _locked(gitignore.parent):
        current = _read(gitignore)
        text = (current or b"").decode("utf-8", "surrogateescape")
        if not _listed(text, pattern):
            new = add_gitignore_line(text or None, pattern).encode("utf-8", "surrogateescape")
            try:
                write_atomic(gitignore, new, root=root, expected=current)
            except WriteError as exc:
                raise WriteError(f"{gitignore}: {exc}; {secret_file} not written") from None
            written = gitignore
    if git is not None and not _ignored(git, real):
        raise WriteError(
            f"{secret_file} would not be git-ignored (a later rule un-ignores it?); not written"
        )
    return written


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _git(root: Path) -> Git | None:
    """A git runner in ``root`` when ``git`` is on PATH (else our own logic is trusted)."""
    if shutil.which("git") is None:
        return None
    from fixer.gitcmd import Git

    return Git(root)


def _tracked(runner: Git, relative: str) -> bool:
    from fixer.gitcmd import GitError

    try:
        runner.run(
            "ls-files", "--error-unmatch", "--", relative, env={"GIT_LITERAL_PATHSPECS": "1"}
        )
    except GitError:
        return False
    return True


def _ignored(runner: Git, relative: str) -> bool:
    return runner.attempt("check-ignore", "-q", "--no-index", "--", relative) is not None


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
