"""One invocation of ``check`` or ``fix``: discover, process, print, write, count.

stdout carries only the product (findings, JSON, or the diff, so it can be piped to
``git apply``); errors, notices and the summary go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from fixer import sidefiles
from fixer.discover import discover
from fixer.engine import FileResult
from fixer.output import diff as diffs
from fixer.output import github, sarif
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
    #: Called with every file result after it was handled (``tighten pr`` builds its body).
    observe: Callable[[FileResult], None] | None = None

    def __post_init__(self) -> None:
        self.report = Report(self.mode)
        self.side_files = SideFiles()
        self.json_items: list[dict[str, Any]] = []
        self.secrets: set[str] = set()

    def execute(self, paths: Sequence[str]) -> int:
        fixing = self.mode != "check"
        targets = list(discover(paths, self.settings.exclude))
        if fixing:
            self._ask_registries(targets)
        for result in run(
            targets, self.settings, fix=fixing, resolutions=self.resolutions, pinning=fixing
        ):
            self._handle(result)
        self._finish_side_files()
        if self.fmt in ("json", "sarif"):
            items = sarif.log(self.json_items) if self.fmt == "sarif" else self.json_items
            json.dump(items, self.out, indent=2)
            self.out.write("\n")
        for message in self.report.run_errors:
            self.err.write(f"error: {message}\n")
        if not self.quiet:
            self.err.write(self.report.summary() + "\n")
        return self.report.exit_code

    def _ask_registries(self, targets: list[Any]) -> None:
        """Resolve every image reference of the run at once, before any fix is built."""
        from fixer.pinning import resolve
        from fixer.runner import queries

        wanted = queries(targets, self.settings)
        if not wanted:
            return
        if not self.quiet:
            n = len(wanted.digests | wanted.users)
            where = "the lockfile" if self.settings.offline else "registries"
            self.err.write(f"looking up {n} image{'s' * (n != 1)} in {where}...\n")
        answers = resolve(
            wanted, self.settings, write_lock=self.settings.lock and self.mode == "fix"
        )
        self.resolutions.update(answers.resolutions)
        for message in answers.errors:
            self.report.error(message)
        if answers.lock_written is not None and not self.quiet:
            self.err.write(f"wrote {display_path(answers.lock_written)}\n")

    def _handle(self, result: FileResult) -> None:
        if self.mode == "fix" and result.changed:
            self._write(result)
        self.report.add(result)
        if result.notice and not self.quiet:
            self.err.write(notice_line(result.path, result.notice) + "\n")
        for notice in result.notices if not self.quiet else ():
            self.err.write(notice_line(result.path, notice) + "\n")
        if result.error:
            self.err.write(error_line(result.path, result.error) + "\n")
        for finding in [*result.found, *result.remaining, *result.fixed]:
            self.secrets.update(finding.masks)
        if self.observe is not None:
            self.observe(result)
        if self.fmt == "json":
            self.json_items.extend(result_objects(result, self.mode))
            return
        if self.fmt == "sarif":
            self.json_items.extend(sarif.result_objects(result, self.mode, self.secrets))
            return
        if self.fmt == "github":
            self.out.write(github.workflow_commands(result, self.mode, self.secrets))
            return
        if self.mode == "dry-run" and result.changed and result.source is not None:
            self.side_files.add(result)
            text = diffs.unified_diff(_diff_path(result.path), result.source.text, result.text)
            self.out.write(diffs.mask_diff(text, self.secrets))
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
            sidefiles.preflight(result)  # the values leave the file only if they have a home
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
        """Write (or show, masked) the generated files every applied fix asked for, after
        the ``.gitignore`` lines that keep them out of git."""
        pending = self.side_files.pending
        ignored = [path for path, sides in pending.items() if any(s.gitignore for s in sides)]
        try:
            updates = sidefiles.gitignore_updates(ignored)
        except (OSError, ValueError) as exc:
            self.report.error(f"cannot update .gitignore: {exc}")
            updates = {}
        for gitignore, (old, new) in updates.items():
            self._put(gitignore, old, new)
        for path in pending:
            try:
                old, new = self._side_file_texts(path)
            except (OSError, ValueError) as exc:  # SecretManifestError: never holds values
                self.report.error(f"{display_path(path)}: {exc}")
                continue
            self._put(path, old, new, private=True)

    def _side_file_texts(self, path: Path) -> tuple[str | None, str]:
        """(current, new) text; in ``--dry-run`` both with every secret value masked."""
        existing = sidefiles.read_text(path)
        if self.mode != "dry-run":
            return existing, self.side_files.render(path, existing, masked=False)
        if existing is not None:
            existing = sidefiles.mask_stored_values(diffs.mask(existing, self.secrets))
        return existing, self.side_files.render(path, existing, masked=True)

    def _put(self, path: Path, old: str | None, new: str, *, private: bool = False) -> None:
        """Show the change as a diff (``--dry-run``) or write it; a new private file is
        readable by its owner only."""
        if new == old:
            return
        if self.mode == "dry-run":
            if self.fmt == "text":
                self.out.write(diffs.unified_diff(_diff_path(path), old, new))
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            expected = None if old is None else old.encode("utf-8")
            write_atomic(path, new.encode("utf-8"), expected=expected)
            if private and old is None:
                path.chmod(0o600)
        except (WriteError, OSError) as exc:
            self.report.error(f"{display_path(path)}: {exc}")
            return
        if not self.quiet:
            self.err.write(f"wrote {display_path(path)}\n")


def _diff_path(path: Path) -> str:
    """The path as ``git apply`` expects it from the current folder."""
    text = display_path(path)
    if os.path.isabs(text):
        return text.lstrip("/")
    return os.path.normpath(text).replace(os.sep, "/")
