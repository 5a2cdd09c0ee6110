"""DF003's edits: drop package words, install commands left empty and RUNs left empty, or
append a removal after a tool's last use.

Every fix is checked before it is offered: the edited text is lexed again and the edited
script must read as exactly the intended tokens, every other instruction unchanged; when
bashlex can parse the script it must agree on the commands being edited. A fix that fails
either check is not offered (the finding says why), so a mistake here never reaches a file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fixer.apply import merge_ranges, splice
from fixer.documents import dockerfile
from fixer.documents.shell import (
    LIST_OPS,
    Command,
    Script,
    ShellError,
    Token,
    bashlex_agrees,
    parse,
)
from fixer.documents.shell.lists import element_ranges
from fixer.documents.text import SourceText
from fixer.model import Edit, Fix, Safety, Span
from rules.tools.packages import Chore, Package, PackageCommand, chore
from rules.tools.run_script import (
    RunScript,
    Unsupported,
    append_command,
    best_range,
    delete_instruction,
    deletion_edits,
    run_script,
    word_ranges,
)
from rules.tools.steps import Build, Step

Item = tuple[PackageCommand, Package]
_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9.+_-]*")

#: How each manager removes what it installed (apt-get for apt too: its CLI is stable).
_REMOVE = {
    "apt-get": "apt-get purge -y --auto-remove",
    "apt": "apt-get purge -y --auto-remove",
    "apk": "apk del",
    "yum": "yum remove -y",
    "dnf": "dnf remove -y",
    "microdnf": "microdnf remove",
    "zypper": "zypper --non-interactive remove",
}


def removal_fix(build: Build, step: Step, items: Sequence[Item]) -> tuple[Fix | None, str]:
    """One fix removing every package of ``items`` from the RUN of ``step``."""
    rs = step.script
    assert rs is not None
    doc = build.doc
    commands = sorted({id(c): c for c, _ in items}.values(), key=lambda c: c.command.start)
    if bashlex_agrees(rs.text, _start(rs), [c.command for c in commands]) is False:
        return None, "bashlex reads this RUN differently; left unchanged"
    ranges, true_at = _removals(doc, rs, commands, {p.token.start for _, p in items})
    expected: str | None = None
    if not true_at and (_covers_all(rs.script, ranges) or _only_chores(build, step, ranges)):
        edits = [delete_instruction(doc, step.ins)]
    else:
        edits = deletion_edits(doc, rs, ranges) + [Edit(rs.span(t), "true") for t in true_at]
        expected = _splice_logical(rs.text, ranges, true_at)
    if not _verified(build, step, edits, expected):
        return None, "could not edit this RUN safely; left unchanged"
    labels = {c.label for c in commands}
    where = labels.pop() if len(labels) == 1 else f"the RUN at line {step.ins.line}"
    title = f"remove {_names(items)} from {where}"
    title += " and the RUN left empty" if expected is None else ""
    return Fix(title, tuple(edits), Safety.PROVEN), ""


def _removals(
    doc: dockerfile.Dockerfile, rs: RunScript, commands: Sequence[PackageCommand], removed: set[int]
) -> tuple[list[tuple[int, int]], list[Token]]:
    """Logical ranges to delete (package words, install commands left empty with a joiner)
    and the first words of empty commands that must become ``true`` instead."""
    empty = [c for c in commands if all(p.token.start in removed for p in c.packages)]
    groups = [
        run
        for c in commands
        if c not in empty
        for run in _runs(doc, rs, [p.token for p in c.packages if p.token.start in removed])
    ]
    ranges = word_ranges(doc, rs, groups)
    true_at: list[Token] = []
    for group in _adjacent(rs.script, empty):
        candidates = element_ranges(rs.script, [c.command for c in group])
        if candidates:
            ranges.append(best_range(doc, rs, candidates))
            continue
        for c in group:  # inside `if`, a pipeline, after `||`: the command becomes `true`
            first = rs.script.tokens[c.command.first]
            true_at.append(first)
            ranges.append((first.end, c.command.end))
    return ranges, true_at


def purge_fix(build: Build, last: Step, items: Sequence[Item]) -> tuple[Fix | None, str]:
    """One fix that removes the packages of ``items`` at the end of the RUN of ``last``."""
    rs = last.script
    assert rs is not None
    command = items[0][0]
    names = list(dict.fromkeys(p.name for _, p in items))
    if not all(_PLAIN_NAME.fullmatch(n) for n in names):
        return None, "its package name needs quoting; remove it by hand"
    text = ("sudo " if command.sudo else "") + f"{_REMOVE[command.manager]} {' '.join(names)}"
    edit = append_command(build.doc, rs, text)
    if edit is None:
        return None, f"the RUN at line {last.ins.line} that uses it does not end in a command"
    end = rs.script.end
    if rs.heredoc is None:
        expected = rs.text[:end] + " && " + text + rs.text[end:]
    else:
        expected = rs.text + "\n" + text
    if not _verified(build, last, [edit], expected):
        return None, "could not edit this RUN safely; left unchanged"
    title = f"remove {_names(items)} after its last use (line {last.ins.line})"
    return Fix(title, (edit,), Safety.PROVEN), ""


def _names(items: Sequence[Item]) -> str:
    return ", ".join(dict.fromkeys(p.name for _, p in items))


def _runs(doc: dockerfile.Dockerfile, rs: RunScript, tokens: Sequence[Token]) -> list[list[Token]]:
    """Split words into runs of neighbours on one line: each run is deleted as a unit."""
    index = {t.start: k for k, t in enumerate(rs.script.tokens)}
    out: list[list[Token]] = []
    for tok in sorted(tokens, key=lambda t: t.start):
        if out:
            prev = out[-1][-1]
            same_line = _line(doc, rs, prev) == _line(doc, rs, tok)
            if index[tok.start] == index[prev.start] + 1 and same_line:
                out[-1].append(tok)
                continue
        out.append([tok])
    return out


def _line(doc: dockerfile.Dockerfile, rs: RunScript, tok: Token) -> int:
    return doc.lines.line_of(rs.logical.offsets[tok.start])


def _adjacent(script: Script, commands: Sequence[PackageCommand]) -> list[list[PackageCommand]]:
    """Group commands that follow each other joined by ``&&``, ``;`` or a newline."""
    out: list[list[PackageCommand]] = []
    for c in sorted(commands, key=lambda c: c.command.first):
        if out:
            prev = out[-1][-1].command
            joiner = script.tokens[prev.last + 1] if prev.last + 1 < len(script.tokens) else None
            if c.command.first == prev.last + 2 and joiner is not None and joiner.text in LIST_OPS:
                out[-1].append(c)
                continue
        out.append([c])
    return out


def _covers_all(script: Script, ranges: Sequence[tuple[int, int]]) -> bool:
    return all(_covered(t, ranges) for t in script.tokens)


def _only_chores(build: Build, step: Step, ranges: Sequence[tuple[int, int]]) -> bool:
    """Whether what is left of the RUN is cache chores that leave no trace: ``apt-get
    update`` whose lists it also deletes, ``set -eux``. Such a RUN is removed; a fetch whose
    index stays is kept, since a later step may install from it."""
    assert step.script is not None
    script = step.script.script
    left = [c for c in script.commands if not _covers_all_tokens(script, c, ranges)]
    inside = {k for c in left for k in range(c.first, c.last + 1)}
    for k, t in enumerate(script.tokens):
        if k not in inside and not _covered(t, ranges) and t.text not in LIST_OPS:
            return False  # `if`, a pipe, a subshell: more than a list of chores
    chores = [chore(c) for c in left]
    if any(c is None for c in chores):
        return False
    cleans = any(c is not None and c.kind == "clean" for c in chores)
    return not _fetched(chores) and not (cleans and _earlier_fetch(build, step))


def _fetched(chores: Sequence[Chore | None]) -> frozenset[str]:
    """Indexes fetched and not removed again by the chores in order."""
    left: frozenset[str] = frozenset()
    for c in chores:
        if c is not None and c.kind == "fetch":
            left |= c.caches
        elif c is not None and c.kind == "clean":
            left -= c.caches
    return left


def _earlier_fetch(build: Build, step: Step) -> bool:
    """An earlier shipped RUN fetched an index it kept (a clean-up here would hide it)."""
    return any(
        _fetched([chore(c) for c in earlier.script.script.commands])
        for earlier in build.steps
        if earlier.order < step.order and earlier.script is not None
    )


def _covered(t: Token, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(a <= t.start and t.end <= b for a, b in ranges)


def _covers_all_tokens(script: Script, c: Command, ranges: Sequence[tuple[int, int]]) -> bool:
    return all(_covered(t, ranges) for t in script.tokens[c.first : c.last + 1])


def _start(rs: RunScript) -> int:
    """Where the shell text starts: after ``RUN --mount=...`` flags (0 in a heredoc body)."""
    return rs.instruction.flag_end() if rs.heredoc is None else 0


def _splice_logical(text: str, ranges: Sequence[tuple[int, int]], true_at: Sequence[Token]) -> str:
    edits = [Edit.replace(t.start, t.end, "true") for t in true_at]
    edits += [Edit(span) for span in merge_ranges(Span(a, b) for a, b in ranges)]
    return splice(text, edits)


def _verified(build: Build, step: Step, edits: Sequence[Edit], expected: str | None) -> bool:
    """The edited file lexes to the same instructions, the RUN of ``step`` to ``expected``
    (None: the RUN is gone)."""
    doc = build.doc
    new = dockerfile.parse(SourceText(splice(doc.text, edits), doc.source.bom))
    old = [(i.keyword, i.value) for k, i in enumerate(doc.instructions) if k != step.order]
    got = [(i.keyword, i.value) for i in new.instructions]
    if expected is None:
        return got == old
    if len(got) != len(doc.instructions) or got[: step.order] + got[step.order + 1 :] != old:
        return False
    try:
        rs = run_script(new, new.instructions[step.order])
        want = parse(expected, _start(rs), heredocs=rs.heredoc is None)
    except (Unsupported, ShellError):
        return False
    return _shape(rs.script) == _shape(want)


def _shape(script: Script) -> list[str]:
    """Token texts, blank lines ignored: what the shell will see."""
    out: list[str] = []
    for t in script.tokens:
        if t.text == "\n" and (not out or out[-1] == "\n"):
            continue
        out.append(t.text)
    while out and out[-1] == "\n":
        out.pop()
    return out
