"""The renderers of the machine formats: ``json`` and ``sarif`` (one document printed at
the end, errors and notices included) and ``github`` (workflow commands, held until the
end to be masked). See ``fixer.output.renderer``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from fixer.engine import FileResult
from fixer.output import diff as diffs
from fixer.output import github, held, sarif
from fixer.output.json import Problem, document, result_objects
from fixer.output.renderer import End, Run


def _problems(result: FileResult) -> list[Problem]:
    """The file's notices and error, for the document printed at the end."""
    notices = [result.notice] if result.notice else []
    found = [Problem(text, result.path, level="note") for text in [*notices, *result.notices]]
    if result.error:
        found.append(Problem(result.error, result.path))
    return found


def _run_problems(problems: list[Problem], end: End) -> list[Problem]:
    """The files' problems, then the run's: errors, skipped-file notes, the empty warning."""
    found = [*problems, *(Problem(m) for m in end.run_errors)]
    found += [Problem(line, level="note") for line in end.notes]
    found += [Problem(m, level="warning") for m in end.empty]
    return found


@dataclass
class JsonRenderer:
    run: Run
    items: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    wants_diffs = False
    wants_edits = False
    prints_fixed_text = False

    def add(self, result: FileResult, view: FileResult, *, stdin: bool) -> None:
        self.problems += _problems(result)
        self.items.extend(result_objects(view, self.run.mode))

    def release(self, end: End) -> None:
        report = self.run.report
        summary = {
            "files": report.files,
            "findings": sum(report.found.values()),
            "fixed": sum(report.fixed.values()),
            "errors": report.errors + len(report.run_errors),
            "exit_code": end.exit_code,
        }
        out = document(self.items, _run_problems(self.problems, end), self.run.mode, summary)
        _dump(self.run, held.masked_items(out, held.JSON_TEXT, self.run.secrets))


@dataclass
class SarifRenderer:
    run: Run
    items: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    wants_diffs = False
    wants_edits = True  # suggested fixes carry their replacements
    prints_fixed_text = False

    def add(self, result: FileResult, view: FileResult, *, stdin: bool) -> None:
        self.problems += _problems(result)
        run = self.run
        self.items.extend(sarif.result_objects(view, run.mode, run.secrets, rules=run.rules))

    def release(self, end: End) -> None:
        run = self.run
        items = held.masked_items(self.items, held.SARIF_TEXT, run.secrets)
        problems = [
            replace(p, message=diffs.mask(p.message, run.secrets))
            for p in _run_problems(self.problems, end)
        ]
        log = sarif.log(
            items,
            run.rules.offered(run.settings),
            problems=problems,
            command=run.mode.value,
            secrets=run.secrets,
        )
        _dump(run, log)


@dataclass
class GithubRenderer:
    run: Run
    #: Workflow commands, masked once every value of the run is known.
    held: list[str] = field(default_factory=list)
    wants_diffs = False
    wants_edits = False
    prints_fixed_text = False

    def add(self, result: FileResult, view: FileResult, *, stdin: bool) -> None:
        run = self.run
        unsafe = run.settings.fixes.unsafe_fixes
        levels = github.Levels(run.report.fails, run.report.severity)
        self.held.append(
            github.workflow_commands(
                view, run.mode, run.secrets, unsafe_fixes=unsafe, levels=levels
            )
        )

    def release(self, end: End) -> None:
        self.held += [github.command("error", m, title="tighten") for m in end.run_errors]
        self.held += [github.command("warning", m, title="tighten") for m in end.empty]
        self.run.out.write(held.masked_github("".join(self.held), self.run.secrets))
        self.held.clear()


def _dump(run: Run, value: Any) -> None:
    json.dump(value, run.out, indent=2)
    run.out.write("\n")
