"""One invocation of ``check`` or ``fix``: discover, process, print, write, count.

stdout carries only the product (findings, JSON, or the diff, so it can be piped to
``git apply``); errors, notices, progress and the summary go to stderr.

With ``fix``, each file that moves secrets out is written after its Secret and ``.gitignore``
lines are on disk and fsync'ed (``fixer.sidefiles``), as one critical section that SIGINT and
SIGTERM do not cut (``fixer.interrupt``). Output that may quote file text is held and masked
with every secret value of the run before it is printed (``fixer.output.held``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from fixer import sidefiles
from fixer.cache import (
    MAX_OUTPUT,
    ManifestWriter,
    Recompute,
    ResultCache,
    Stamp,
    cache_folder,
    entries_file,
    merged,
    output_file,
    prepare_folder,
    replayed,
    run_key,
    save_output,
)
from fixer.discover import NotSource, Target, discover, mark_patches
from fixer.documents.text import DecodeError, SourceText
from fixer.engine import FileResult, Queries, process_text, text_queries
from fixer.evidence.images import Evidence
from fixer.filenames import kind_of
from fixer.interrupt import Guard, Interrupted, signal_name, silence_closed
from fixer.kinds import KUBERNETES
from fixer.mode import Mode
from fixer.output import held
from fixer.output.console import Console
from fixer.output.ondisk import on_disk
from fixer.output.recorder import Journal, recording
from fixer.output.renderer import End, Renderer, Run
from fixer.output.renderers import RENDERERS
from fixer.output.skipped import NotSourceNotices
from fixer.output.terminal import Progress
from fixer.output.text import shown_path
from fixer.overlays import Overlays
from fixer.parallel import Beside
from fixer.replay import STDIN, Stamped, caches, replayed_output, stamped, view
from fixer.report import Report
from fixer.roots import Roots
from fixer.rule import Resolution, Severity
from fixer.ruleset import RuleSet
from fixer.runner import process_target, queries, run
from fixer.settings import OutputFormat, Settings
from fixer.sidefiles import SideFiles
from fixer.sniff import kind_of_text
from fixer.write import LinkedPath, WriteError, check_target, write_atomic

EMPTY = "no Dockerfile or Kubernetes manifest found"


@dataclass
class Session:
    settings: Settings
    mode: Mode
    #: ``--format``: an ``OutputFormat`` or its name.
    fmt: OutputFormat | str = OutputFormat.TEXT
    quiet: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    resolutions: dict[str, Resolution] = field(default_factory=dict)
    #: Called with every file result after it was handled (``tighten pr`` builds its body).
    observe: Callable[[FileResult], None] | None = None
    #: The name stdin stands for (``--stdin-filename``): its kind and where paths point.
    stdin_filename: str | None = None
    #: The folder paths are shown relative to (None: the current folder); ``tighten pr``
    #: runs on absolute paths in its worktree and shows them as the user named them.
    base: Path | None = None
    #: The rules, loaded once by the CLI.
    rules: RuleSet = field(kw_only=True)
    #: ``--unmasked-diff``: the dry-run diff with real values, for ``git apply``.
    unmasked_diff: bool = False
    #: The repository scan the CLI began in a forked child before loading the rules
    #: (``start_scan``); the run takes its model instead of scanning again.
    early_scan: EarlyScan | None = None
    #: The cache place of a ``check`` the CLI tried to answer from the cache already
    #: (``fixer.replay.quick``): no second stat walk, no second try.
    stamped: Stamped | None = None

    def __post_init__(self) -> None:
        #: What ``check`` prints is kept for the next identical run (``_replay_output``).
        self.journal: Journal | None = None
        self.real_streams = (self.out, self.err)
        if self.mode is Mode.CHECK and self.settings.caching.cache:
            self.journal, self.out, self.err = recording(self.out, self.err, MAX_OUTPUT)
        self.manifest_saved = False  # this run's results were kept: so may its output be
        unsafe = self.settings.fixes.unsafe_fixes
        severities = {rule.id: rule.severity for rule in self.rules.rules}
        self.report = Report(
            self.mode,
            unsafe_fixes=unsafe,
            output=self.settings.output,
            severity=lambda rule: severities.get(rule, Severity.WARNING),
        )
        self.side_files = SideFiles()
        self.secrets: set[str] = set()
        self.shown_from = None if self.base is None else str(self.base)
        self.console = Console(
            self.out, self.err, self.quiet, base=self.shown_from, unsafe_fixes=unsafe
        )
        self.roots = Roots(())
        self.guard = Guard()
        self.format = OutputFormat(self.fmt)
        self.renderer = self._renderer()
        self.output_closed = False  # the reader of stdout (or stderr) went away
        self.handled = 0  # files written (``fix``) and counted
        self.unreached = 0  # files not handled because the run stopped early
        self.announced: set[Path] = set()  # side files a "wrote" line was printed for
        self.not_source = NotSourceNotices()
        #: The repository model (``fixer.repository.RepositoryModel``) when a rule needs it.
        self.repository: Any = None
        self.scan_failed = False  # the repository scan said why it could not read it
        self.run_key = ""  # of the result cache, once computed

    def _renderer(self) -> Renderer:
        """The one renderer of the run's format."""
        run = Run(
            self.mode,
            self.settings,
            self.rules,
            self.report,
            self.console,
            self.out,
            self.secrets,
            self.side_files,
            shown_from=self.shown_from,
            unmasked_diff=self.unmasked_diff,
        )
        return RENDERERS[self.format](run)

    def execute(self, paths: Sequence[str]) -> int:
        if self.unmasked_diff:
            dry_run = self.mode is Mode.DRY_RUN
            refusal = held.unmasked_refusal(self.out, dry_run=dry_run, fmt=self.format.value)
            if refusal is not None:  # before any file is read: nothing is printed
                self.console.error(None, refusal)
                return 2
        self.roots = Roots.of(paths, self.settings.secrets.secrets_dir)  # where writes may go
        manifest = None
        if list(paths) == [STDIN]:
            self._stdin()
        else:
            manifest = self._manifest(paths)
            if manifest is not None and self.stamped is None:  # else the CLI asked already
                code = self._replay_output(manifest)
                if code is not None:
                    return code
            self._files(paths, manifest)
        self._guarded(self._release)
        self._guarded(self._finish)
        code = self._exit_code()
        if manifest is not None:
            self._keep_output(manifest, code)
        return code

    def _view(self) -> str:
        """What else decides the bytes printed: format, quiet, terminals, colour."""
        return view(self.format, self.quiet, self.real_streams)

    def _replay_output(self, manifest: ManifestWriter) -> int | None:
        """The exit code of a run answered from the last identical run; None: run it."""
        return replayed_output(manifest, self._view(), self.real_streams)

    def _keep_output(self, manifest: ManifestWriter, code: int) -> None:
        if self.journal is None:
            return
        try:
            if not self.manifest_saved or self.output_closed or self.guard.received is not None:
                return
            file = output_file(manifest.file, self._view())
            save_output(file, *_key(manifest), self.journal, code, entries_file(manifest.file))
        finally:
            self.journal.close()

    def _release(self) -> None:
        """Print what was held, masked with every secret value the run found."""
        if self.output_closed:
            return
        end = End(self._run_errors(), self._empty(), self.not_source.lines(), self._exit_code())
        self.renderer.release(end)
        self.out.flush()

    def _run_errors(self) -> list[str]:
        """Errors outside any one file, as far as the run got."""
        return list(self.report.run_errors)

    def _empty(self) -> list[str]:
        """The warning of a run that found nothing to check (ruff: "No Python files found
        under the given path(s)"); the exit code stays 0, as ruff's does."""
        report = self.report
        if report.files or report.errors or report.run_errors or self.guard.received:
            return []
        return [EMPTY]

    def _finish(self) -> None:
        for line in self.not_source.lines():
            self.console.note(line)
        for message in self._empty():
            self.console.warning(message)
        for message in self.report.run_errors:
            self.console.error(None, message)
        if self.guard.received is not None:
            self.console.error(
                None, self._stopped(f"interrupted by {signal_name(self.guard.received)}")
            )
        elif self.output_closed:
            self.console.info("stdout was closed: the rest of the output was dropped")
        self.console.summary(self.report.summary(), failed=self._exit_code() not in (0, 1))

    def _stopped(self, why: str) -> str:
        left = f"{self.unreached} file{'s' * (self.unreached != 1)} not processed"
        return f"{why}: stopped between two files ({left}); the summary counts what was done"

    def _exit_code(self) -> int:
        if self.guard.received is not None:
            return self.guard.exit_code
        return self.report.exit_code

    def _guarded(self, output: Callable[[], None]) -> None:
        """Run ``output``; a reader that went away ends the output (what follows goes to
        /dev/null), not the run: stopping would end the workers mid-chunk."""
        try:
            output()
        except BrokenPipeError:
            self.output_closed = True
            silence_closed(self.out, self.err)

    def _files(self, paths: Sequence[str], manifest: ManifestWriter | None) -> None:
        if manifest is not None and self._replay(manifest, paths):
            self.manifest_saved = True  # the same run as the one kept
            return
        fixing = self.mode.fixing
        only_source = not self.settings.selection.include_generated
        selection = self.settings.selection

        def walk() -> list[Target]:
            return list(
                discover(
                    paths,
                    selection.exclude,
                    source_only=only_source,
                    force_exclude=selection.force_exclude,
                    respect_gitignore=selection.respect_gitignore,
                )
            )

        if self._needs_repository() and self.early_scan is not None:
            targets = walk()  # while the scan, begun before the rules loaded, goes on
            self.repository = self._scan_repository(paths)
        elif self._needs_repository():  # the walk runs beside the scan, on another core
            with Beside(walk) as walking:
                self.repository = self._scan_repository(paths)
                targets = walking.result()
        else:
            if self.early_scan is not None:  # no rule asks for the model: free the core
                self.early_scan.__exit__()
                self.early_scan = None
            targets = walk()
        targets = mark_patches(targets, self._model_verdict)  # patches are never workloads
        overlays = Overlays.of(self.repository, self.rules, self.settings, paths)
        last = [t for t in targets if overlays.holds(t)] if overlays else []
        targets = [t for t in targets if t not in last] + last  # judged last, on the render
        if fixing:
            from fixer.pinning import unanswered

            nothing = unanswered(self.settings)  # offline without a lockfile: ask nothing
            if nothing is not None:
                self.resolutions = nothing
            else:
                self._ask_registries(queries(targets, self.settings, self.rules, self.repository))
        progress = Progress.maybe(self.err, len(targets), "files", quiet=self.quiet)
        self.console.progress = progress
        cache = self._open_cache(paths)
        results = run(
            targets[: len(targets) - len(last)],
            self.settings,
            rules=self.rules,
            fix=fixing,
            resolutions=self.resolutions,
            pinning=fixing,
            diff=self.renderer.wants_diffs,
            repository=self.repository,
            source_only=only_source,
            cache=cache,
            # A fix applies its fixes whatever this says; a withheld fix's edits are
            # computed only for an output that shows them (SARIF).
            edits=self.renderer.wants_edits,
        )
        if overlays is not None and last:
            results = self._then_overlays(results, overlays, last, only_source)
        try:
            with self.guard.installed():
                for result in results:
                    if manifest is not None:
                        target = targets[self.handled]  # one result per target, in order
                        manifest.add(result, target.kind, target.explicit)
                    self._handle(result)
                    self._guarded(progress.advance)
                    if self.guard.received is not None:
                        break  # at a file boundary: every file is old or new
        except Interrupted:
            pass  # raised outside a critical section: nothing is half done
        finally:
            if isinstance(results, Generator):
                results.close()  # ends the workers of a run that stopped early
        self.unreached = len(targets) - self.handled
        self._guarded(progress.clear)
        problem = cache.save() if cache is not None and self.guard.received is None else None
        if manifest is not None and not problem:
            if self.guard.received is not None or self.report.run_errors or self.scan_failed:
                manifest.complete = False  # a run that said more than its results
            problem = manifest.save()
            self.manifest_saved = problem is None and manifest.complete and not manifest.stamp.racy
        if problem:
            self.console.info(problem)

    def _then_overlays(
        self,
        results: Iterable[FileResult],
        overlays: Overlays,
        last: list[Target],
        only_source: bool,
    ) -> Iterator[FileResult]:
        """The run's results, then the held Kustomize patches judged on the renders of the
        files as this run leaves them (written by ``fix``; in memory for a dry-run)."""
        fixed: dict[Path, str] = {}
        try:
            for result in results:
                if self.mode is Mode.DRY_RUN and result.changed:
                    fixed[Path(os.path.abspath(result.path))] = result.text
                yield result
        finally:
            if isinstance(results, Generator):
                results.close()  # ends the workers of a run that stopped early
        if self.guard.received is not None:
            return
        evidence = Evidence(self.resolutions, self.repository)

        def default(target: Target) -> FileResult:
            return process_target(
                target,
                self.settings,
                rules=self.rules,
                fix=self.mode.fixing,
                resolutions=self.resolutions,
                evidence=evidence,
                source_only=only_source,
            )

        for _, result in overlays.results(
            last,
            self.settings,
            fix=self.mode.fixing,
            resolutions=self.resolutions,
            overrides=fixed,
            default=default,
            notice=self.console.info,
        ):
            yield result

    def _manifest(self, paths: Sequence[str]) -> ManifestWriter | None:
        """Where this run's results go for the next identical run (``check`` with the
        cache only), stamped before anything is read: a file changed during the run makes
        the next one compute afresh."""
        if not self._caching():
            return None
        place = self.stamped or stamped(
            self.settings, paths, fmt=self.format, rules=self.rules, shown_from=self.shown_from
        )
        self.run_key = place.key
        if self.journal is not None:  # a large output waits in the cache folder
            self.journal.keep_in(place.folder, prepare_folder)
        return place.manifest

    def _replay(self, manifest: ManifestWriter, paths: Sequence[str]) -> bool:
        """Answer the whole run from the last one when nothing below its folders changed
        (one stat walk: no discovery, no repository scan, no file read; SARIF re-reads the
        files it gives regions in). False: run in full."""
        from fixer.readfile import read_capped

        def read(path: Path) -> bytes:
            return read_capped(path) if self.format is OutputFormat.SARIF else b""

        results = replayed(manifest.file, manifest.invocation, manifest.stamp, read)
        if results is None:
            return False
        evidence = Evidence({}, _LazyModel.of(self, paths))
        only_source = not self.settings.selection.include_generated
        try:
            with self.guard.installed():
                for result in results:
                    if isinstance(result, Recompute):
                        result = self._recomputed(result, evidence, only_source)
                    self._handle(result)
                    if self.guard.received is not None:
                        break
        except Interrupted:
            pass
        self.unreached = len(results) - self.handled
        return True

    def _recomputed(self, entry: Recompute, evidence: Evidence, only_source: bool) -> FileResult:
        """A file of a replayed run processed again: by the rules that found a secret value
        when the others' result was stored, else by all of them."""
        rules = self.rules
        if entry.rules is not None and entry.partial is not None:
            rules = RuleSet(tuple(r for r in self.rules.rules if r.id in entry.rules))
        target = Target(os.fspath(entry.path), entry.kind, entry.explicit)
        fresh = process_target(
            target,
            self.settings,
            rules=rules,
            fix=False,
            resolutions={},
            evidence=evidence,
            source_only=only_source,
        )
        if rules is self.rules or entry.partial is None:
            return fresh
        if fresh.error or fresh.skipped or fresh.source is None:  # not as the last run saw it
            return self._recomputed(replace(entry, rules=None), evidence, only_source)
        return merged(entry.partial, fresh)

    @property
    def _wants_edits(self) -> bool:
        """The run computes the edits of every fix: to apply them, or to show them."""
        return self.mode.fixing or self.renderer.wants_edits

    def _caching(self) -> bool:
        return caches(self.mode, self.settings)

    def _open_cache(self, paths: Sequence[str]) -> ResultCache | None:
        """The result cache of this run's key (``check`` only: ``fix`` always recomputes),
        at the project root of the first path."""
        if not self._caching():
            return None
        root = Roots.of(paths[:1]).folders[0]
        folder = cache_folder(root, self.settings)
        model = self.repository.digest if self.repository is not None else None
        key = self.run_key or run_key(self.settings, self.rules, edits=self._wants_edits)
        return ResultCache.load(folder, key, model)

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
        fixing = self.mode.fixing
        kind = kind_of(path.name) or kind_of_text(source.text)  # no name: the content says
        self.repository = self._scan_repository([name if self.stdin_filename else "."])
        evidence = Evidence(self.resolutions, self.repository)
        if fixing:
            self._ask_registries(text_queries(path, kind, source, settings, self.rules, evidence))
        result = process_text(
            path,
            kind,
            source,
            settings,
            rules=self.rules,
            fix=fixing,
            resolutions=self.resolutions,
            pinning=fixing,
            evidence=evidence,
        )
        if any(f.fix is not None and f.fix.side_files for f in result.remaining):
            notice = (
                "fixes that move secrets into a Secret file are not applied from stdin; "
                "run `tighten fix` on the file"
            )
            result = replace(result, notices=[*result.notices, notice])
        self._handle(result, stdin=True)
        if self.renderer.prints_fixed_text:
            self._guarded(lambda: self._emit(source.encode(result.text)))

    def _emit(self, data: bytes) -> None:
        """The fixed text from stdin, BOM and bytes as they came."""
        self.out.flush()
        self.out.buffer.write(data)

    def _scan_repository(self, paths: Sequence[str]) -> Any:
        """The repository model of the first path's repository (its git work tree, else the
        folder), built once before any file is processed and handed to every worker; None
        when no enabled rule asks for it (the scan reads every manifest a second time)."""
        early, self.early_scan = self.early_scan, None
        if not self._needs_repository():
            return None
        from fixer.repository import RepositoryModel

        root = Roots.of(paths[:1]).folders[0]
        try:
            if early is not None and early.root == root and early.stamp == self._caching():
                model = early.result()  # computed again here, error and all, if the child failed
            else:
                model = RepositoryModel.scan(root, stamp=self._caching())
            model.asked_from(Path.cwd())  # the run's paths are relative to where it runs
            return model
        except Exception as exc:  # no evidence is a judgement too: fixes say what they need
            self.scan_failed = True
            self.console.info(
                f"cannot read the repository at {shown_path(root, self.shown_from)}: {exc}"
            )
            return None

    def _needs_repository(self) -> bool:
        selection = self.settings.selection
        return any(r.needs_repository and selection.rule_enabled(r.id) for r in self.rules.rules)

    def _model_verdict(self, target: Target) -> NotSource | None:
        """A Kustomize patch the repository model knows of (listed by a Kustomization
        outside the folders walked); the cheap checks in ``discover`` cover the rest."""
        from fixer.discover import GENERATED, PATCH

        if self.repository is None or target.kind != KUBERNETES:
            return None
        path = target.path
        owner = self.repository.patch_owner(path)  # a look-up: no file is read
        if owner is None and not self.settings.selection.include_generated:
            written = self.repository.written_by(path)  # a script's generator output
            if written is not None and _regular(path):
                return NotSource(GENERATED, written)
        if owner is None or not _regular(path):
            return None  # a FIFO is reported by the file pass, as before
        return NotSource(PATCH, shown_path(owner, self.shown_from))

    def _ask_registries(self, wanted: Queries) -> None:
        """Resolve every image reference of the run at once, before any fix is built."""
        from fixer.pinning import resolve

        if not wanted:
            return
        n = len(wanted.digests | wanted.users)
        where = "the lockfile" if self.settings.pinning.offline else "registries"
        self.console.info(f"looking up {n} image{'s' * (n != 1)} in {where}...")
        write_lock = self.settings.pinning.lock and self.mode is Mode.FIX
        answers = resolve(wanted, self.settings, write_lock=write_lock)
        self.resolutions.update(answers.resolutions)
        for message in answers.errors:
            self.report.error(message)
        for message in answers.notices:
            self.console.info(message)
        if answers.lock_written is not None:
            self.console.info(f"wrote {shown_path(answers.lock_written, self.shown_from)}")

    def _handle(self, result: FileResult, *, stdin: bool = False) -> None:
        """Write (``fix``), count, then show one result. Writing and counting are one
        critical section: a signal waits for both, so the summary counts what was written
        and ``observe`` (the body of ``tighten pr``) sees it."""
        if self.not_source.add(result):  # test data, vendored, generated: one notice at the end
            with self.guard.critical():
                self.report.add(result)
                self.handled += 1
            return
        written: list[Path] = []
        with self.guard.critical():
            if self.mode is Mode.FIX and result.changed and not stdin:
                written, result = self._write(result)
            self.report.add(result)
            self.handled += 1
            for finding in [*result.found, *result.remaining, *result.fixed]:
                self.secrets.update(finding.masks)
            if self.observe is not None:
                self.observe(result)
        self._guarded(lambda: self._show(result, written, stdin=stdin))

    def _show(self, result: FileResult, written: list[Path], *, stdin: bool) -> None:
        for path in written:
            if path not in self.announced:  # once per file, however many fixes fed it
                self.announced.add(path)
                self.console.info(f"wrote {shown_path(path, self.shown_from)}")
        if result.notice:
            self.console.notice(result.path, result.notice)
        for notice in result.notices:
            self.console.notice(result.path, notice)
        if result.error:
            self.console.error(result.path, result.error)
        view = on_disk(result, self.mode)  # every format gives the lines of the file on disk
        self.renderer.add(result, view, stdin=stdin)

    def _write(self, result: FileResult) -> tuple[list[Path], FileResult]:
        """Rewrite the file, after the side files of its fixes are durable (the values leave
        the file only once they have a home); the side files written, and the result as the
        file now is (with the writes' notices, or unfixed when it was not written)."""
        assert result.source is not None
        fresh = self.side_files.fresh(result)
        # Side files of files handled earlier that edit this one (a Dockerfile's removed ENV
        # becoming this manifest's env entry) are on disk already: they are merged into the
        # fixed text too, and the file on disk is what they made of the text read.
        earlier = self.side_files.merged_into(result.path)
        written: list[Path] = []
        notices = list(result.notices)
        try:
            text, expected = result.text, result.source.text
            if earlier:
                try:
                    text = sidefiles.merge_all(earlier, text)
                    expected = sidefiles.merge_all(earlier, expected)
                except (OSError, ValueError) as exc:
                    raise WriteError(
                        f"not modified: cannot keep the edits of other fixes: {exc}"
                    ) from None
            root = self.roots.root_of(result.path)
            check_target(result.path, root=root)  # a linked file: before any side file
            written.extend(sidefiles.guard_side_files(fresh, self.roots))  # .gitignore first
            changes = sidefiles.changes_for(fresh)  # every merge tried before any write
            for change in changes:  # then each Secret, durable before the source changes
                notices += sidefiles.write_durably(change, self.roots.root_of(change.path))
                if change.new != change.old:
                    written.append(change.path)
            self.side_files.record(fresh)
            done = write_atomic(
                result.path,
                result.source.encode(text),
                root=root,
                expected=result.source.encode(expected),
            )
        except WriteError as exc:
            # The file was not written: report it as it still is.
            linked = isinstance(exc, LinkedPath)
            unfixed = replace(
                result,
                notices=[*notices, str(exc)] if linked else notices,
                error=result.error if linked else str(exc),
                text=result.source.text,
                remaining=result.found,
                fixed=[],
                applied=[],
            )
            return written, unfixed
        return written, replace(result, notices=[*notices, *done.notices])


class EarlyScan(Beside[Any]):
    """The repository scan of a run, begun in a forked child as soon as the settings are
    known: it reads the tree (a third of a second over 3,000 files) while this process
    imports the rules and walks the files, instead of after both. Where no child can help
    (one core, no fork) it runs here when asked, as before."""

    def __init__(self, root: Path, stamp: bool) -> None:
        self.root, self.stamp = root, stamp

        def scan() -> Any:
            from fixer.repository import RepositoryModel

            return RepositoryModel.scan(root, stamp=stamp)

        super().__init__(scan)


def start_scan(settings: Settings, paths: Sequence[str], mode: Mode) -> EarlyScan | None:
    """The early scan of a ``check`` or ``fix`` over ``paths`` (None for stdin, or a path
    whose root cannot be found: the run then scans as it always did). ``Session`` takes it;
    the caller ends it (``__exit__``) when the session did not."""
    if not paths or STDIN in paths:
        return None
    try:
        root = Roots.of(paths[:1]).folders[0]
    except (OSError, ValueError):
        return None
    return EarlyScan(root, caches(mode, settings))


def _regular(path: Path) -> bool:
    import stat

    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


class _LazyModel:
    """The repository model of a replayed run, scanned only when a recomputed file asks it
    more than its root (K8S004 needs only the root): the scan is most of a full run."""

    def __init__(self, session: Session, paths: Sequence[str]) -> None:
        self.root = Path(os.path.abspath(Roots.of(paths[:1]).folders[0]))
        self._session, self._paths = session, paths
        self._model: Any = None

    @classmethod
    def of(cls, session: Session, paths: Sequence[str]) -> _LazyModel | None:
        """None, as in a full run, when no enabled rule asks the model."""
        selection = session.settings.selection
        rules = session.rules.rules
        if not any(r.needs_repository and selection.rule_enabled(r.id) for r in rules):
            return None
        return cls(session, paths)

    def __getattr__(self, name: str) -> Any:
        if self._model is None:
            self._model = self._session._scan_repository(self._paths)
        return getattr(self._model, name)


def _key(manifest: ManifestWriter) -> tuple[str, Stamp]:
    return manifest.invocation, manifest.stamp
