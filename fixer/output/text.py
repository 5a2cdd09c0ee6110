"""Plain text lines for findings, errors and notices."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from fixer.model import Finding, Safety


def display_path(path: Path, base: str | None = None) -> str:
    """The path as the user should read it: relative to ``base`` (by default the current
    folder) when inside it."""
    text = os.fspath(path)
    if os.path.isabs(text):
        return _relative(text, base or os.getcwd())
    return text.replace(os.sep, "/")


@lru_cache(maxsize=1024)
def _relative(text: str, cwd: str) -> str:
    """Cached: a file's every finding, notice and diff header shows its path, and
    ``relpath`` is slow enough to matter over thousands of findings."""
    prefix = cwd.rstrip(os.sep) + os.sep
    if _plain(text) and _plain(cwd):
        if text.startswith(prefix):
            return text[len(prefix) :].replace(os.sep, "/")  # below the folder: no relpath
        if text != cwd.rstrip(os.sep):
            return text.replace(os.sep, "/")  # outside it: relpath would begin with ".."
    rel = os.path.relpath(text, cwd)
    if not rel.startswith(".."):
        text = rel
    return text.replace(os.sep, "/")


def _plain(path: str) -> bool:
    """No ``.``/``..`` part and no doubled separator: the text is its own normal form."""
    sep = os.sep
    parts = path.split(sep)
    return "" not in parts[1:] and "." not in parts and ".." not in parts


#: C0 controls, DEL and C1 controls: in a file name they could move the cursor, recolour
#: the terminal or start a fake line (``evil\nDockerfile:1: all clear``).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown_path(path: Path, base: str | None = None) -> str:
    """``display_path`` for text meant for people: control characters escaped (``\\x1b``,
    ``\\n``), and backslashes too when there are any, so the escapes cannot be faked.
    Machine formats (JSON, SARIF) carry the real name."""
    text = display_path(path, base)
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text.replace("\\", "\\\\"))


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def withheld(finding: Finding, *, unsafe_fixes: bool = False) -> bool:
    """An open finding whose fix exists but is not applied: it changes behaviour and the
    evidence that the workload still works is missing (``--unsafe-fixes`` applies it)."""
    fix = finding.fix
    return fix is not None and fix.safety is Safety.UNPROVEN and not unsafe_fixes


def finding_line(
    finding: Finding,
    *,
    status: str = "",
    base: str | None = None,
    unsafe_fixes: bool = False,
    shown: str | None = None,
) -> str:
    """``path:line: RULE message`` with the reason when it cannot be fixed, or what its
    fix needs when the fix is withheld. ``shown``: ``shown_path`` of the finding's path,
    when the caller has it already (a file's findings share it)."""
    where = shown if shown is not None else shown_path(finding.path, base)
    line = f"{where}:{finding.line}: {finding.rule} {finding.message}"
    if status == "fixed" and finding.fix is not None:
        line += f" [fixed: {finding.fix.title}]"  # what was done, in the rule's words
    elif status:
        line += f" [{status}]"
    elif finding.fix is not None and withheld(finding, unsafe_fixes=unsafe_fixes):
        line += f" ({finding.fix.withheld_note})"
    if finding.fix is None and finding.reason:
        line += f" (not fixable: {finding.reason})"
    return line


def error_line(path: Path, reason: str, base: str | None = None) -> str:
    return f"error: {shown_path(path, base)}: {reason}"


def notice_line(path: Path, text: str, base: str | None = None) -> str:
    return f"notice: {shown_path(path, base)}: {text}"
