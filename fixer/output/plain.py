"""The renderer of ``--format text``: findings as lines (``fixer.output.console``) and,
with ``--dry-run``, one unified diff of every change, the generated side files included.

Diffs quote file text: they are held and masked with every secret value of the run once it
is over (``fixer.output.held``); findings never quote values and go out as they come.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fixer import sidefiles
from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.output import diff as diffs
from fixer.output import held
from fixer.output.renderer import End, Run
from fixer.output.text import shown_path


@dataclass
class TextRenderer:
    run: Run
    #: The diff of each changed file (``--dry-run``), unmasked until the run is over.
    diffs: list[str] = field(default_factory=list)
    #: Each changed file (by absolute path): the index of its diff and its result. A side
    #: file of another file's fix that edits it (DF004's env entry) makes one diff of both.
    changed: dict[str, tuple[int, FileResult]] = field(default_factory=dict)

    @property
    def wants_diffs(self) -> bool:
        return self.run.mode is Mode.DRY_RUN

    wants_edits = False

    @property
    def prints_fixed_text(self) -> bool:
        return self.run.mode is Mode.FIX

    def add(self, result: FileResult, view: FileResult, *, stdin: bool) -> None:
        """``view`` is ``result`` with on-disk lines."""
        run, mode = self.run, self.run.mode
        if mode is Mode.DRY_RUN and result.changed and result.source is not None:
            run.side_files.add(result)
            self.changed[os.path.abspath(result.path)] = (len(self.diffs), result)
            self.diffs.append(self._diff(result, result.source.text))
        console = run.console
        if mode is Mode.CHECK:
            console.findings(result.path, view.found)
            return
        if mode is Mode.FIX and not console.quiet:
            console.findings(result.path, view.fixed, to_err=True, status="fixed")
        # With --dry-run or stdin, stdout holds the diff or the text: findings go to stderr.
        console.findings(result.path, view.remaining, to_err=stdin or mode is Mode.DRY_RUN)

    def _diff(self, result: FileResult, old: str) -> str:
        """The file's diff, computed where the file was processed (on any core) when it
        could be; an internal error is reported and nothing of it printed."""
        if result.diff is not None:
            return result.diff
        try:
            return diffs.checked_diff(diffs.diff_path(result.path), old, result.text)
        except diffs.PatchError as exc:
            shown = shown_path(result.path, self.run.shown_from)
            self.run.report.error(
                f"{shown}: internal error: {exc}; not printed (please report this)"
            )
            return ""

    def release(self, end: End) -> None:
        run = self.run
        if run.mode is Mode.DRY_RUN:
            for path in run.side_files.pending:  # shown with the side files, as one diff
                found = self.changed.get(os.path.abspath(path))
                if found is not None:
                    self.diffs[found[0]] = ""
        diffs = [text for text in self.diffs if text]
        for text in held.masked_diffs(diffs, run.secrets, unmasked=run.unmasked_diff):
            if isinstance(text, str):
                run.console.diff(text)
            else:
                run.report.error(str(text))
        self.diffs.clear()
        if run.mode is Mode.DRY_RUN:
            self._side_file_diffs()

    def _side_file_diffs(self) -> None:
        """``--dry-run``: show, masked, the generated files every fix would write, after the
        ``.gitignore`` lines that keep them out of git."""
        run = self.run
        pending = run.side_files.pending
        ignored = [path for path, sides in pending.items() if any(s.gitignore for s in sides)]
        try:
            updates = sidefiles.gitignore_updates(ignored)
        except (OSError, ValueError) as exc:
            run.report.error(f"cannot update .gitignore: {exc}")
            updates = {}
        for gitignore, (old, new) in updates.items():
            self._put(gitignore, old, new)
        for path in pending:
            try:
                old, new, masked = self._side_file_texts(path)
            except (OSError, ValueError) as exc:  # SecretManifestError: never holds values
                run.report.error(f"{shown_path(path, run.shown_from)}: {exc}")
                continue
            fixed = self.changed.get(os.path.abspath(path))
            self._put(fixed[1].path if fixed else path, old, new, masked=masked)

    def _side_file_texts(self, path: Path) -> tuple[str | None, str, bool]:
        """(current, new, masked): both texts with every secret value masked (the run's
        values, and whatever the file already stores in Secrets) unless ``--unmasked-diff``;
        ``masked`` when that changed them, so the diff gets the header saying so."""
        run = self.run
        fixed = self.changed.get(os.path.abspath(path))
        if fixed is not None and fixed[1].source is not None:  # the file's own fixes first
            existing: str | None = fixed[1].source.text
            base: str | None = fixed[1].text
        else:
            existing = base = sidefiles.read_text(path)
        new = run.side_files.render(path, base, masked=False)
        if run.unmasked_diff:  # the real files, for ``git apply``
            return existing, new, False
        shown = shown_base = existing
        if existing is not None:
            shown = sidefiles.mask_stored_values(diffs.mask(existing, run.secrets))
        if base is not None:
            shown_base = sidefiles.mask_stored_values(diffs.mask(base, run.secrets))
        shown_new = run.side_files.render(path, shown_base, masked=True)
        return shown, shown_new, (shown, shown_new) != (existing, new)

    def _put(self, path: Path, old: str | None, new: str, *, masked: bool = False) -> None:
        if new == old:
            return
        try:
            text = diffs.checked_diff(diffs.diff_path(path), old, new)
        except diffs.PatchError as exc:
            shown = shown_path(path, self.run.shown_from)
            self.run.report.error(
                f"{shown}: internal error: {exc}; not printed (please report this)"
            )
            return
        self.run.console.diff(diffs.MASKED_HEADER + text if masked else text)
