"""``--format github``: GitHub Actions workflow commands that annotate the changed files.

One line per finding, ``::LEVEL file=PATH,line=N,col=N,title=RULE::message``: ``::error``
for a finding that fails the run (at or above ``--failure-threshold``, no ``--exit-zero``),
else ``::warning`` (rules of severity error or warning) or ``::notice`` (severity note);
fixed findings (``fix``) are ``::notice`` lines, files tighten could not process ``::error``.
Lines are those of the file on disk (``fixer.output.ondisk``). A fix withheld for lack of
evidence says so, with what it needs, in its finding's message.
Property values and the message are escaped the way GitHub's toolkit does it
(``actions/toolkit`` ``escapeProperty``/``escapeData``), so a ``,``, ``:`` or newline in a
path or message cannot end the command early or inject another one.
"""

from __future__ import annotations

from collections.abc import Callable

from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Finding
from fixer.output.diff import mask
from fixer.output.text import display_path, withheld
from fixer.rule import Severity

__all__ = ["Levels", "command", "escape_data", "escape_property", "workflow_commands"]


class Levels:
    """The annotation level of a finding: what fails the run is an error, the rest keeps
    its rule's severity (warning, or notice for a note)."""

    def __init__(
        self,
        fails: Callable[[Finding], bool] = lambda finding: False,
        severity: Callable[[str], Severity] = lambda rule: Severity.WARNING,
    ) -> None:
        self.fails, self.severity = fails, severity

    def __call__(self, finding: Finding) -> str:
        if self.fails(finding):
            return "error"
        return "notice" if self.severity(finding.rule) is Severity.NOTE else "warning"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **properties: str | int) -> str:
    """``::kind key=value,...::message`` with everything escaped."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{kind}{' ' + props if props else ''}::{escape_data(message)}\n"


def workflow_commands(
    result: FileResult,
    mode: Mode,
    secrets: set[str] | frozenset[str] = frozenset(),
    *,
    unsafe_fixes: bool = False,
    levels: Levels | None = None,
) -> str:
    """The workflow commands for one file (``mode``: ``check``, ``fix`` or ``dry-run``);
    ``result`` gives on-disk lines (``ondisk.on_disk``)."""
    level = levels or Levels()
    path = display_path(result.path)
    findings = [*result.found, *result.remaining, *result.fixed]
    masks = set(secrets).union(*(f.masks for f in findings))
    lines = []
    if result.error:
        lines.append(command("error", mask(result.error, masks), file=path, title="tighten"))
    unsafe = unsafe_fixes
    if mode is not Mode.FIX:
        lines += [_annotation(level(f), f, path, masks, unsafe=unsafe) for f in result.found]
    else:
        lines += [_annotation("notice", f, path, masks, fixed=True) for f in result.fixed]
        lines += [_annotation(level(f), f, path, masks, unsafe=unsafe) for f in result.remaining]
    return "".join(lines)


def _annotation(
    kind: str,
    finding: Finding,
    path: str,
    masks: set[str],
    *,
    fixed: bool = False,
    unsafe: bool = False,
) -> str:
    message = finding.message
    if fixed and finding.fix is not None:
        message += f" (fixed: {finding.fix.title})"
    elif finding.fix is not None and withheld(finding, unsafe_fixes=unsafe):
        message += f" ({finding.fix.withheld_note})"
    elif finding.fix is not None:
        message += f" (fix: {finding.fix.title})"
    elif finding.fixable:
        message += " (tighten fix can fix it)"
    elif finding.reason:
        message += f" (not fixable: {finding.reason})"
    return command(
        kind,
        mask(message, masks),
        file=path,
        line=finding.line,
        col=finding.column,
        title=finding.rule,
    )
