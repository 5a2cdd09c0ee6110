"""What the RUN steps of a build do with packages and programs, in build order.

For the stages whose contents ship (the final stage and the stages it is built ``FROM``),
each ``RUN`` becomes a ``Step``: its script when tighten can edit it (or why not), the
package manager commands in it, and the places where it mentions a program by name. A
mention is a *use* as far as safety goes: ``echo curl`` counts, which errs on the side of
keeping a tool rather than breaking a build.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from fixer.documents.dockerfile import Dockerfile, Instruction, Stage, parent_stages
from fixer.documents.shell import Script, ShellError, parse
from rules.tools.packages import PackageCommand, package_command
from rules.tools.run_script import (
    RunScript,
    Unsupported,
    exec_words,
    is_shell_heredoc,
    run_script,
)

_POSIX = frozenset({"sh", "bash", "ash", "dash", "ksh", "zsh", "busybox"})


@dataclass(frozen=True)
class Mention:
    """A program named in an instruction; ``at`` orders it within the instruction."""

    name: str
    order: int  # index of the instruction in the Dockerfile
    at: int


@dataclass
class Step:
    """One RUN of a stage: the editable script (or ``problem``) and its package commands.

    A shipped RUN's script is read (tokenized) on first use, not by ``analyse``: most RUNs
    of a big build hold neither a package manager command nor a tool's name, and DF003
    never needs their words (see ``commands`` and ``mentions``).
    """

    ins: Instruction
    stage: Stage
    order: int
    user: Instruction | None  # the USER in effect
    _script: RunScript | None = field(default=None, repr=False)
    _problem: str = field(default="", repr=False)
    _commands: tuple[PackageCommand, ...] = field(default=(), repr=False)
    #: (position, text) to search for mentions: the instruction's text and heredoc bodies,
    #: then (once the script is read) its words that are not package names.
    _texts: tuple[tuple[int, str], ...] = field(default=(), repr=False)
    #: (document, SHELL in effect) until the script of a shipped RUN is read.
    _unread: tuple[Dockerfile, str] | None = field(default=None, repr=False, compare=False)
    #: Whether an unread RUN spells a package manager: asked again for every install of
    #: the build, answered once.
    _spells_manager: bool | None = field(default=None, repr=False, compare=False)
    #: ``texts`` joined by newlines, once they are final (after the script is read).
    _joined: str | None = field(default=None, repr=False, compare=False)
    #: The instruction's text and heredoc bodies, quoting removed and lower-cased: every
    #: package name of the RUN is a piece of it (see ``may_name``).
    _plain: str | None = field(default=None, repr=False, compare=False)

    @property
    def script(self) -> RunScript | None:
        self._read()
        return self._script

    @property
    def problem(self) -> str:
        self._read()
        return self._problem

    @property
    def commands(self) -> tuple[PackageCommand, ...]:
        if self._unread is not None:
            if self._spells_manager is None:
                self._spells_manager = _may_run_manager(self.ins, self._texts)
            if not self._spells_manager:
                return ()  # read or not, a RUN that never names a package manager has none
        self._read()
        return self._commands

    @property
    def texts(self) -> tuple[tuple[int, str], ...]:
        self._read()
        return self._texts

    def may_name(self, needles: tuple[str, ...]) -> bool:
        """False only when no package word of the RUN can contain any of ``needles``
        (lower-case, without quotes or backslashes): such a RUN installs none of them, so
        its script need not be read to look for them. A package name is its word after
        quote removal, pin and version cut off, lower-cased: the characters of a needle in
        it are neighbours in the text once quotes, backslashes and continuations are gone.
        """
        if self._unread is None or self.ins.is_exec_form:
            # Read already (nothing left to spare), or not shipped (no commands), or exec
            # form, whose JSON escapes can spell anything.
            return True
        if self._plain is None:
            self._plain = "\n".join(_QUOTING.sub("", text) for _, text in self._texts).lower()
        return any(n in self._plain for n in needles)

    def mentions(self, pattern: re.Pattern[str]) -> Iterator[Mention]:
        if self._unread is not None and not any(pattern.search(t) for _, t in self._texts):
            # The script's words are pieces of these texts, each between blanks or
            # operators: no match here, no match in them, so no need to read it.
            return
        texts = self.texts
        if self._joined is None:
            self._joined = "\n".join(text for _, text in texts)
        if pattern.search(self._joined) is None:
            # A match in one text is also one in the texts joined by newlines: the
            # program patterns (``plan._program_pattern``) read a newline next to a text
            # as they read its end. One search instead of one per word of a long script.
            return
        for at, text in texts:
            for m in pattern.finditer(text):
                yield Mention(m.group(0), self.order, at + m.start())

    def _read(self) -> None:
        if self._unread is not None:
            doc, shell = self._unread
            self._unread = None
            _read_script(doc, self, shell)


@dataclass
class Build:
    """The steps of every stage, the final stage's chain, and its run-time instructions."""

    doc: Dockerfile
    steps: list[Step] = field(default_factory=list)
    chain: list[Stage] = field(default_factory=list)  # oldest first; the final stage last

    @cached_property
    def descendants(self) -> dict[int, set[int]]:
        """Stage index -> indexes of the stages built on it (itself included)."""
        out: dict[int, set[int]] = {s.index: set() for s in self.doc.stages}
        for stage in self.doc.stages:
            for parent in parent_stages(self.doc, stage):
                out[parent.index].add(stage.index)
        return out

    def runtime(self) -> list[Instruction]:
        """The CMD, ENTRYPOINT and HEALTHCHECK in effect in the final stage."""
        last: dict[str, Instruction] = {}
        for stage in self.chain:
            for ins in stage.body:
                if ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
                    last[ins.keyword] = ins
        return list(last.values())


def analyse(doc: Dockerfile, shipped: Iterable[Stage]) -> Build:
    """Steps for every stage; scripts and package commands only for ``shipped`` stages."""
    build = Build(doc, chain=list(shipped))
    wanted = {s.index for s in build.chain}
    index = {id(ins): k for k, ins in enumerate(doc.instructions)}
    for stage in doc.stages:
        for ins, now in zip(stage.body, doc.in_effect_at(stage), strict=True):
            if ins.keyword in ("RUN", "COPY", "ADD"):
                step = Step(ins, stage, index[id(ins)], now.user)
                shell = _shell_program(now.shell) if now.shell else ""
                _fill(build, step, shell, stage.index in wanted)
                build.steps.append(step)
    return build


def _shell_program(ins: Instruction) -> str:
    argv = exec_words(ins)
    return argv[0].rsplit("/", 1)[-1].lower() if argv else "?"


def _fill(build: Build, step: Step, shell: str, shipped: bool) -> None:
    ins = step.ins
    if ins.keyword != "RUN":
        if "from" in ins.flags:
            step._texts = ((0, ins.value),)
        return
    end, text = len(ins.value), build.doc.text
    bodies = tuple((end + k, text[h.body.start : h.body.end]) for k, h in enumerate(ins.heredocs))
    step._texts = ((0, ins.value), *bodies)
    if shipped:
        step._unread = (build.doc, shell)  # read on first use: see ``Step``


def _read_script(doc: Dockerfile, step: Step, shell: str) -> None:
    ins = step.ins
    if shell and shell.removesuffix(".exe") not in _POSIX:
        step._problem = f"RUN runs in SHELL {shell}"
        return
    try:
        step._script = run_script(doc, ins)
    except Unsupported as exc:
        step._problem = str(exc)
        step._commands = _report_only(doc, ins)
        return
    except ShellError as exc:
        step._problem = f"shell not understood ({exc})"
        return
    step._commands = tuple(c for c in map(package_command, step._script.script.commands) if c)
    step._texts = _unpackaged(doc, step)


#: Every program ``package_command`` recognises contains one of these.
_MANAGER = re.compile(r"apt|apk|yum|dnf|zypper|dpkg|rpm")
#: What may split a program name in the text without changing the word the shell sees
#: (quotes, backslash escapes, line continuations): removed before looking for a name.
_QUOTING = re.compile(r"\\\r?\n|[\"'\\\r]")


def _may_run_manager(ins: Instruction, texts: tuple[tuple[int, str], ...]) -> bool:
    """False when no package manager command can be in the RUN: it spells no manager."""
    if ins.is_exec_form:
        return True  # JSON escapes can spell anything
    return any(_MANAGER.search(_QUOTING.sub("", text)) for _, text in texts)


def _unpackaged(doc: Dockerfile, step: Step) -> tuple[tuple[int, str], ...]:
    """The words of the script that are not package names, with their positions (so that
    ``apt-get install curl`` is not a use of curl), then any heredoc data bodies."""
    script = step._script
    assert script is not None
    names = {(p.token.start, p.token.end) for c in step._commands for p in c.packages}
    tokens = script.script.tokens
    words = tuple([(t.start, t.text) for t in tokens if (t.start, t.end) not in names])
    if script.heredoc is not None:
        return words
    end = len(step.ins.value)
    text = doc.text
    return words + tuple(
        (end + k, text[h.body.start : h.body.end]) for k, h in enumerate(step.ins.heredocs)
    )


def _report_only(doc: Dockerfile, ins: Instruction) -> tuple[PackageCommand, ...]:
    """Package commands of a RUN tighten will not edit (exec form, a CRLF heredoc script),
    so that they are still reported; their positions are not file positions."""
    argv = exec_words(ins)
    if argv is not None:
        if argv and argv[0].rsplit("/", 1)[-1] in _POSIX and "-c" in argv[1:-1]:
            texts = [argv[argv.index("-c") + 1]]
        else:
            texts = [" ".join(shlex.quote(a) for a in argv)]
    elif is_shell_heredoc(ins):
        texts = [doc.text[h.body.start : h.body.end].replace("\r", "") for h in ins.heredocs]
    else:
        return ()
    out: list[PackageCommand] = []
    for text in texts:
        try:
            script: Script = parse(text)
        except ShellError:
            continue
        out.extend(c for c in map(package_command, script.commands) if c)
    return tuple(out)
