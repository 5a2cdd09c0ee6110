"""One invocation of ``check`` or ``fix``: discover, process, print, write, count.

stdout carries only the product (findings, JSON, or the diff, so it can be piped to
``git apply``); errors, notices and the summary go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from fixer.discover import discover
from fixer.engine import FileResult
from fixer.output import diff as diffs
from fixer.output.json import result_objects
from fixer.output.text import display_path, error_line, finding_line, notice_line
from fixer.report import Report
from fixer.rule import Resolution
from fixer.runner import SideFiles, run
from fixer.settings import Settings
from fixer.write import WriteError, write_atomic


@dataclass
class Session:
    settings: Settings
    mode: str  # "check" | "fix" | "dry-run"
    fmt: str = "text"
    quiet: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    resolutions: dict[str, Resolution] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.report = Report(self.mode)
        self.side_files = SideFiles()
        self.json_items: list[dict[str, Any]] = []
        self.secrets: set[str] = set()

    def execute(self, paths: Sequence[str]) -> int:
        fixing = self.mode != "check"
        targets = list(discover(paths, self.settings.exclude))
        for result in run(targets, self.settings, fix=fixing, resolutions=self.resolutions):
            self._handle(result)
        self._finish_side_files()
        if self.fmt == "json":
            json.dump(self.json_items, self.out, indent=2)
            self.out.write("\n")
        for message in self.report.run_errors:
            self.err.write(f"error: {message}\n")
        if not self.quiet:
            self.err.write(self.report.summary() + "\n")
        return self.report.exit_code

    def _handle(self, result: FileResult) -> None:
        if self.mode == "fix" and result.changed:
            self._write(result)
        self.report.add(result)
        if result.notice and not self.quiet:
            self.err.write(notice_line(result.path, result.notice) + "\n")
        if result.error:
            self.err.write(error_line(result.path, result.error) + "\n")
        for finding in [*result.found, *result.remaining]:
            self.secrets.update(finding.masks)
        if self.fmt == "json":
            self.json_items.extend(result_objects(result, self.mode))
            return
        if self.mode == "dry-run" and result.changed and result.source is not None:
            self.side_files.add(result)
            text = diffs.unified_diff(_diff_path(result.path), result.source.text, result.text)
            self.out.write(diffs.mask(text, self.secrets))
        self._print_findings(result)

    def _print_findings(self, result: FileResult) -> None:
        if self.mode == "check":
            for f in result.found:
                self.out.write(finding_line(f) + "\n")
            return
        stream = self.err if self.mode == "dry-run" else self.out
        if not self.quiet and self.mode == "fix":
            for f in result.fixed:
                self.err.write(finding_line(f, status="fixed") + "\n")
        for f in result.remaining:
            stream.write(finding_line(f) + "\n")

    def _write(self, result: FileResult) -> None:
        assert result.source is not None
        try:
            write_atomic(
                result.path, result.source.encode(result.text), expected=result.source.encode()
            )
        except WriteError as exc:
            # Nothing was written: report the file as it still is.
            result.error = str(exc)
            result.text, result.remaining = result.source.text, result.found
            result.fixed, result.applied = [], []
            return
        self.side_files.add(result)

    def _finish_side_files(self) -> None:
        """Write (or show, masked) the generated files every applied fix asked for."""
        for path in self.side_files.pending:
            existing = _read(path)
            if self.mode == "dry-run":
                shown = self.side_files.render(path, existing, masked=True)
                masked_old = None if existing is None else diffs.mask(existing, self.secrets)
                if self.fmt == "text":
                    self.out.write(diffs.unified_diff(_diff_path(path), masked_old, shown))
                continue
            new = self.side_files.render(path, existing, masked=False)
            if new == existing:
                continue
            try:
                write_atomic(
                    path,
                    new.encode("utf-8"),
                    expected=None if existing is None else existing.encode("utf-8"),
                )
            except WriteError as exc:
                self.report.error(f"{display_path(path)}: {exc}")
                continue
            if not self.quiet:
                self.err.write(f"wrote {display_path(path)}\n")


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        return None


def _diff_path(path: Path) -> str:
    """The path as ``git apply`` expects it from the current folder."""
    text = display_path(path)
    if os.path.isabs(text):
        return text.lstrip("/")
    return os.path.normpath(text).replace(os.sep, "/")
