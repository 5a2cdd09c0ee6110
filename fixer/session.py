"""One invocation of ``check`` or ``fix``: discover, process, print, write, count.

stdout carries only the product (findings, JSON, or the diff, so it can be piped to
``git apply``); errors, notices, progress and the summary go to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from fixer import sidefiles
from fixer.discover import discover, kind_of
from fixer.documents.text import DecodeError, SourceText
from fixer.engine import FileResult, Queries, process_text, text_queries
from fixer.output import diff as diffs
from fixer.output import github, sarif
from fixer.output.console import Console
from fixer.output.json import result_objects
from fixer.output.terminal import Progress
from fixer.output.text import display_path
from fixer.report import Report
from fixer.roots import Roots
from fixer.rule import Resolution
from fixer.runner import SideFiles, queries, run
from fixer.settings import Settings
from fixer.sniff import kind_of_text
from fixer.write import LinkedPath, WriteError, check_target, write_atomic

STDIN = "-"


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
    #: The name stdin stands for (``--stdin-filename``): its kind and where paths point.
    stdin_filename: str | None = None

    def __post_init__(self) -> None:
        self.report = Report(self.mode)
        self.side_files = SideFiles()
        self.json_items: list[dict[str, Any]] = []
        self.secrets: set[str] = set()
        self.console = Console(self.out, self.err, self.quiet)
        self.roots = Roots(())

    def execute(self, paths: Sequence[str]) -> int:
        self.roots = Roots.of(paths, self.settings.secrets_dir)  # where writes may go
        if list(paths) == [STDIN]:
            self._stdin()
        else:
            self._files(paths)
        if self.fmt in ("json", "sarif"):
            items = sarif.log(self.json_items) if self.fmt == "sarif" else self.json_items
            json.dump(items, self.out, indent=2)
            self.out.write("\n")
        for message in self.report.run_errors:
            self.console.error(None, message)
        self.console.summary(self.report.summary(), failed=self.report.exit_code == 2)
        return self.report.exit_code

    def _files(self, paths: Sequence[str]) -> None:
        fixing = self.mode != "check"
        targets = list(discover(paths, self.settings.exclude))
        if fixing:
            self._ask_registries(queries(targets, self.settings))
        progress = Progress.maybe(self.err, len(targets), "files", quiet=self.quiet)
        self.console.progress = progress
        diff = self.mode == "dry-run" and self.fmt == "text"
        for result in run(
            targets,
            self.settings,
            fix=fixing,
            resolutions=self.resolutions,
            pinning=fixing,
            diff=diff,
        ):
            self._handle(result)
            progress.advance()
        progress.clear()
        self._finish_side_files()

    def _stdin(self) -> None:
        """``tighten fix -``: the text comes on stdin; the fixed text (or the diff, or the
        findings) goes to stdout. Generated side files are never written from stdin, so
        fixes that would move a secret out are reported, not applied."""
        name = self.stdin_filename or "stdin"
        path = Path(name)
        settings = self.settings.without_side_files()
        try:
            source = SourceText.decode(sys.stdin.buffer.read())
        except DecodeError as exc:
            self._handle(FileResult(path, error=str(exc)), stdin=True)
            return
        fixing = self.mode != "check"
        kind = kind_of(path.name) or kind_of_text(source.text)  # no name: the content says
        if fixing:
            self._ask_registries(text_queries(path, kind, source, settings))
        result = process_text(
            path,
            kind,
            source,
            settings,
            fix=fixing,
            resolutions=self.resolutions,
            pinning=fixing,
        )
        if any(f.fix is not None and f.fix.side_files for f in result.remaining):
            result.notices.append(
                "fixes that move secrets into a Secret file are not applied from stdin; "
                "run `tighten fix` on the file"
            )
        self._handle(result, stdin=True)
        if self.mode == "fix" and self.fmt == "text":
            self.out.flush()
            self.out.buffer.write(source.encode(result.text))  # BOM and bytes as they came

    def _ask_registries(self, wanted: Queries) -> None:
        """Resolve every image reference of the run at once, before any fix is built."""
        from fixer.pinning import resolve

        if not wanted:
            return
        n = len(wanted.digests | wanted.users)
        where = "the lockfile" if self.settings.offline else "registries"
        self.console.info(f"looking up {n} image{'s' * (n != 1)} in {where}...")
        write_lock = self.settings.lock and self.mode == "fix"
        answers = resolve(wanted, self.settings, write_lock=write_lock)
        self.resolutions.update(answers.resolutions)
        for message in answers.errors:
            self.report.error(message)
        for message in answers.notices:
            self.console.info(message)
        if answers.lock_written is not None:
            self.console.info(f"wrote {display_path(answers.lock_written)}")

    def _handle(self, result: FileResult, *, stdin: bool = False) -> None:
        if self.mode == "fix" and result.changed and not stdin:
            self._write(result)
        self.report.add(result)
        if result.notice:
            self.console.notice(result.path, result.notice)
        for notice in result.notices:
            self.console.notice(result.path, notice)
        if result.error:
            self.console.error(result.path, result.error)
        for finding in [*result.found, *result.remaining, *result.fixed]:
            self.secrets.update(finding.masks)
        if self.observe is not None:
            self.observe(result)
        if self.fmt == "json":
            self.json_items.extend(result_objects(result, self.mode))
        elif self.fmt == "sarif":
            self.json_items.extend(sarif.result_objects(result, self.mode, self.secrets))
        elif self.fmt == "github":
            self.out.write(github.workflow_commands(result, self.mode, self.secrets))
        else:
            self._print(result, stdin=stdin)

    def _print(self, result: FileResult, *, stdin: bool) -> None:
        if self.mode == "dry-run" and result.changed and result.source is not None:
            self.side_files.add(result)
            text = result.diff  # computed where the file was processed, on any core
            if text is None:
                text = diffs.unified_diff(
                    diffs.diff_path(result.path), result.source.text, result.text
                )
            self.console.diff(diffs.mask_diff(text, self.secrets))
        if self.mode == "check":
            self.console.findings(result.path, result.found)
            return
        if self.mode == "fix" and not self.quiet:
            self.console.findings(result.path, result.fixed, to_err=True, status="fixed")
        # With --dry-run or stdin, stdout holds the diff or the text: findings go to stderr.
        self.console.findings(result.path, result.remaining, to_err=stdin or self.mode == "dry-run")

    def _write(self, result: FileResult) -> None:
        assert result.source is not None
        try:
            root = self.roots.root_of(result.path)
            check_target(result.path, root=root)  # a linked file: before any side file
            sidefiles.preflight(result)  # the values leave the file only if they have a home
            ignores = sidefiles.guard_side_files(result, self.roots)
            written = write_atomic(
                result.path,
                result.source.encode(result.text),
                root=root,
                expected=result.source.encode(),
            )
        except WriteError as exc:
            # Nothing was written: report the file as it still is.
            if isinstance(exc, LinkedPath):
                result.notices.append(str(exc))
            else:
                result.error = str(exc)
            result.text, result.remaining = result.source.text, result.found
            result.fixed, result.applied = [], []
            return
        result.notices.extend(written.notices)
        for gitignore in ignores:
            self.console.info(f"wrote {display_path(gitignore)}")
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
                self.console.diff(diffs.unified_diff(diffs.diff_path(path), old, new))
            return
        try:
            expected = None if old is None else old.encode("utf-8")
            root = self.roots.root_of(path)
            written = write_atomic(
                path,
                new.encode("utf-8"),
                root=root,
                expected=expected,
                private=private,
                make_parents=True,
            )
        except (WriteError, OSError) as exc:
            self.report.error(f"{display_path(path)}: {exc}")
            return
        self.console.info(f"wrote {display_path(path)}")
        for notice in written.notices:
            self.console.notice(path, notice)
