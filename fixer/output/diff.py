"""Git-style unified diffs that ``git apply`` accepts (CRLF, missing final newline, new files)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

from fixer.output.text import display_path

NO_NEWLINE = "\\ No newline at end of file\n"


def diff_path(path: Path) -> str:
    """The path as ``git apply`` expects it from the current folder."""
    text = display_path(path)
    if os.path.isabs(text):
        return text.lstrip("/")
    return os.path.normpath(text).replace(os.sep, "/")


def split_lines(text: str) -> list[str]:
    """Lines split on LF only (as git does), each keeping its line ending."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_diff(path: str, old: str | None, new: str, *, context: int = 3) -> str:
    """A diff from ``old`` (None: the file is new) to ``new`` for ``path`` (posix, relative)."""
    if old == new:
        return ""
    header = [f"diff --git a/{path} b/{path}\n"]
    if old is None:
        header.append("new file mode 100644\n")
    body = list(_hunks(split_lines(old or ""), split_lines(new), context))
    if not body:
        return ""
    before = "/dev/null" if old is None else f"a/{path}"
    header += [f"--- {before}\n", f"+++ b/{path}\n"]
    return "".join(header + body)


def _hunks(a: list[str], b: list[str], context: int) -> Iterator[str]:
    diff = difflib.unified_diff(a, b, lineterm="\n", n=context)
    for i, line in enumerate(diff):
        if i < 2:  # difflib's own ---/+++ lines
            continue
        if line.startswith("@@") or line.endswith("\n"):
            yield line
        else:
            yield line + "\n" + NO_NEWLINE


def mask(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``text`` with every secret value replaced by ``***`` (longest first)."""
    for value in sorted(secrets, key=len, reverse=True):
        if value:
            text = text.replace(value, "***")
    return text


def mask_diff(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``mask`` for unified diffs: hunk lines only, so that a short secret that also occurs
    in a path or a line number (``12``, ``mysql``) leaves file headers and ``@@`` intact."""
    ordered = [v for v in sorted(secrets, key=len, reverse=True) if v]
    if not any(v in text for v in ordered):
        return text  # nothing to hide (the usual case: the set grows over a whole run)
    out: list[str] = []
    in_hunk = False
    for line in text.splitlines(keepends=True):
        if line.startswith("diff --git "):  # hunk lines start with " ", "+", "-" or "\\"
            in_hunk = False
        elif line.startswith("@@ "):
            in_hunk = True
            out.append(line)
            continue
        if in_hunk:
            for value in ordered:  # as ``mask`` does, sorted once per diff, not per line
                line = line.replace(value, "***")
        out.append(line)
    return "".join(out)
