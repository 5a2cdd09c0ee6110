"""Plain text lines for findings, errors and notices."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from fixer.model import Finding


def display_path(path: Path) -> str:
    """The path as the user should read it: relative to the current folder when inside it."""
    text = os.fspath(path)
    if os.path.isabs(text):
        return _relative(text, os.getcwd())
    return text.replace(os.sep, "/")


@lru_cache(maxsize=1024)
def _relative(text: str, cwd: str) -> str:
    """Cached: a file's every finding, notice and diff header shows its path, and
    ``relpath`` is slow enough to matter over thousands of findings."""
    rel = os.path.relpath(text, cwd)
    if not rel.startswith(".."):
        text = rel
    return text.replace(os.sep, "/")


def finding_line(finding: Finding, *, status: str = "") -> str:
    """``path:line: RULE message`` with the reason when it cannot be fixed."""
    line = f"{display_path(finding.path)}:{finding.line}: {finding.rule} {finding.message}"
    if status == "fixed" and finding.fix is not None:
        line += f" [fixed: {finding.fix.title}]"  # what was done, in the rule's words
    elif status:
        line += f" [{status}]"
    if finding.fix is None and finding.reason:
        line += f" (not fixable: {finding.reason})"
    return line


def error_line(path: Path, reason: str) -> str:
    return f"error: {display_path(path)}: {reason}"


def notice_line(path: Path, text: str) -> str:
    return f"notice: {display_path(path)}: {text}"
