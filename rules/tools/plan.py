"""DF003's decisions: which installs ship, and for each whether to remove it, remove it
after its last use, or leave it alone (and why).

A tool ships when a RUN of the final stage (or a stage it is built on) installs it and no
later step removes it again. It is *used* when a later step names one of its programs, or a
program that runs them (``rsync`` runs ssh, ``luarocks`` runs wget); a use by ``CMD``,
``ENTRYPOINT`` or ``HEALTHCHECK``, a later step that configures it, or a comment saying it
serves health checks means the running container needs it.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from fixer.documents.dockerfile import Dockerfile, Instruction
from fixer.repository.copies import arguments
from fixer.repository.tools import code_lines
from rules.tools.packages import (
    INSTALL,
    MARK_AUTO,
    MARK_MANUAL,
    REMOVE,
    Package,
    PackageCommand,
)
from rules.tools.steps import Build, Mention, Step

_SSH = ("ssh", "scp", "sftp", "ssh-keygen", "ssh-keyscan", "ssh-add", "ssh-agent", "ssh-copy-id")
#: package glob -> the programs it provides (a mention of any of them is a use).
_PROGRAMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("openssh-server", ("sshd", *_SSH)),
    ("openssh", ("sshd", *_SSH)),  # Alpine: client and server
    ("openssh*", _SSH),
    ("ssh", ("sshd", *_SSH)),
    ("dropbear*", ("dropbear", "dbclient", "dropbearkey", "dropbearconvert")),
    ("netcat*", ("nc", "netcat", "nc.openbsd", "nc.traditional")),
    ("ncat", ("ncat", "nc")),
    ("nmap", ("nmap", "nping")),
    ("telnet*", ("telnet",)),
)
#: Programs that run ssh, curl or wget themselves: rsync's remote shell, luarocks' downloads.
_SSH_CALLERS = ("rsync", "ansible", "ansible-playbook", "ansible-galaxy", "ansible-pull")
_SSH_RUNTIME_CALLERS = ("git", "docker")  # at build time git and docker use ssh for ssh URLs
_FETCH_CALLERS: tuple[str, ...] = (
    "luarocks",
    "cpanm",
    "cpan",
    "opam",
    "nvm",
    "sdk",
    "pyenv",
    "rbenv",
)
_FETCH_CALLERS += ("ruby-build", "nodenv", "asdf", "brew", "ghcup", "install-php-extensions")
#: package glob -> configuration a later step may touch (then the tool is wanted at run time).
_CONFIG = (
    ("openssh*", re.compile(r"/etc/ssh/|\bsshd?_config\b|authorized_keys")),
    ("ssh", re.compile(r"/etc/ssh/|\bsshd?_config\b|authorized_keys")),
    ("dropbear*", re.compile(r"/etc/dropbear\b|authorized_keys")),
)
_RUNTIME_HINT = {
    "HEALTHCHECK": "check health with a binary built into the app, or an httpGet/exec probe "
    "in Kubernetes, then remove it",
    "CMD": "the container runs it at start; remove it by hand if it is not needed",
    "ENTRYPOINT": "the container runs it at start; remove it by hand if it is not needed",
}


@dataclass(frozen=True)
class Install:
    step: Step
    command: PackageCommand
    package: Package

    @property
    def name(self) -> str:
        return self.package.name

    @property
    def key(self) -> tuple[int, int]:
        return self.step.order, self.package.token.start


@dataclass(frozen=True)
class Plan:
    """What to do about one install: ``remove`` the word, ``purge`` after ``last`` use, or
    ``refuse`` with a reason."""

    install: Install
    action: str
    reason: str = ""
    last: Step | None = None
    hint: str = ""


def installs(build: Build, tools: Sequence[str]) -> Iterator[Install]:
    tool = tool_pattern(tools)
    needles = _needles(tuple(tools))
    for step in build.steps:
        if needles is not None and not step.may_name(needles):
            continue  # installs none of the tools: its script need not be read for that
        for command in step.commands:
            if command.action != INSTALL:
                continue
            for package in command.packages:
                if package.name and tool.match(package.name):
                    yield Install(step, command, package)


def tool_pattern(tools: Sequence[str]) -> re.Pattern[str]:
    """A regex that ``match``es a (lower-case) name when ``fnmatchcase`` matches it with
    one of the ``tools`` globs (lower-cased): one match per word instead of one per glob."""
    return _tool_pattern(tuple(tools))


def may_name_tool(lowered: str, tools: Sequence[str]) -> bool:
    """False only when no word of the (lower-case) text can ``match`` ``tool_pattern``:
    a name a glob matches holds the glob's longest run of plain characters, so a text
    without any of them needs no splitting into words (most RUNs name no tool)."""
    needles = _needles(tuple(tools))
    return needles is None or any(n in lowered for n in needles)


@lru_cache(maxsize=8)
def _needles(tools: tuple[str, ...]) -> tuple[str, ...] | None:
    """The longest run of plain characters of each glob; None when some glob has none, or
    a ``[...]`` set (its letters are alternatives, not a run)."""
    out = []
    for glob in tools:
        if "[" in glob:
            return None
        longest = max(re.split(r"[*?]", glob.lower()), key=len)
        if not longest:
            return None
        out.append(longest)
    return tuple(out)


@lru_cache(maxsize=8)
def _tool_pattern(tools: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(t.lower())})" for t in tools) or "(?!)")


def decide(
    build: Build,
    install: Install,
    read: Callable[[str], str | None] | None = None,
    read_data: Callable[[str], str | None] | None = None,
) -> Plan | None:
    """What to do about one install; None when it does not ship (removed again later).

    ``read`` gives the text of a build-context file, so scripts the image ``COPY``s in
    (an entrypoint, a helper in ``/usr/bin``) count as run-time users of the tool;
    ``read_data`` that of any text file (a requirements file the build installs).
    """
    if _removed_later(build, install):
        return None
    if read_data is not None and _ssh_client(install):
        python = _python_caller(build, read_data)
        if python:  # what needs it, said before any weaker sign that also keeps it
            return Plan(install, "refuse", python)
    at_runtime = _program_pattern(install.name, runtime=True)
    copied = _copied_use(build, install, at_runtime, read) if read is not None else None
    if copied is not None:
        return copied
    for ins in build.runtime():
        m = at_runtime.search(ins.value)
        if m:
            why = f"{ins.keyword} uses {m.group(0)}"
            if not _program_pattern(install.name, callers=False).fullmatch(m.group(0)):
                why = f"{ins.keyword} runs {m.group(0)}, which uses {install.name}"
            return Plan(install, "refuse", why, hint=_RUNTIME_HINT[ins.keyword])
    hint = _runtime_hint(build, install) or _shipped_caller(build, install)
    if hint:
        return Plan(install, "refuse", hint)
    if install.step.problem:
        return Plan(install, "refuse", install.step.problem)
    uses = list(_uses_after(build, install, _program_pattern(install.name)))
    if not uses:
        return Plan(install, "remove")
    chain = {s.index for s in build.chain}
    for step, mention in uses:
        if step.stage.index not in chain:
            where = step.stage.name or f"#{step.stage.index + 1}"
            return Plan(install, "refuse", f"build stage {where} uses {mention.name}")
    last, _ = max(uses, key=lambda u: (u[1].order, u[1].at))
    return _purge_plan(install, last)


def _copied_use(
    build: Build, install: Install, pattern: re.Pattern[str], read: Callable[[str], str | None]
) -> Plan | None:
    """A file ``COPY``/``ADD``-ed from the build context into the shipped image that names
    one of the tool's programs: the container may run it, so the tool stays."""
    for stage in build.chain:
        for ins in stage.body:
            if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
                continue
            for source in _sources(ins):
                text = read(source)
                m = _outside_comments(pattern, text, source) if text else None
                if m:
                    why = (
                        f"{ins.keyword} at line {ins.line} copies {source}, which uses {m.group(0)}"
                    )
                    hint = (
                        "a copied script runs it; remove it by hand if the script does not need it"
                    )
                    return Plan(install, "refuse", why, hint=hint)
    return None


def _outside_comments(pattern: re.Pattern[str], text: str, source: str) -> re.Match[str] | None:
    """The first match of ``pattern`` in ``text``; in a shell script (``.sh``, or a
    ``#!`` line) outside its ``#`` comments (a comment line, or what follows `` #``), as
    ``fixer.repository.tools.in_script`` reads scripts: netbox's entrypoint says ``#
    Launch whatever is passed by docker``, and runs no docker. Any other file is read
    whole: an ``sshd_config`` whose comments name the SSH server is its configuration."""
    if "#" not in text or not (source.endswith((".sh", ".bash")) or text.startswith("#!")):
        return pattern.search(text)
    return next((m for _, code in code_lines(text) if (m := pattern.search(code))), None)


def _sources(ins: Instruction) -> list[str]:
    """The build-context sources of a COPY/ADD (not URLs, not the destination)."""
    words = arguments(ins)
    # The whole context (`COPY . .`) is an application's source tree, not a script the image
    # runs: its docs, CI files and this Dockerfile mention curl without running it.
    whole = (".", "./", "*", "./*", "/")
    return [w for w in words[:-1] if "://" not in w and not w.startswith("<<") and w not in whole]


def _purge_plan(install: Install, last: Step) -> Plan:
    """Keep the install and remove the package at the end of the RUN that uses it last,
    when that RUN can run the package manager as the install did."""
    line = last.ins.line
    if last.ins.keyword != "RUN":
        return Plan(install, "refuse", f"{last.ins.keyword} at line {line} copies it")
    if last.script is None:
        return Plan(install, "refuse", f"used at line {line} ({last.problem})")
    if last.user is not install.step.user:
        return Plan(install, "refuse", f"used at line {line} as another USER")
    if install.command.virtual:
        why = f"used at line {line}, installed in virtual package {install.command.virtual}"
        return Plan(install, "refuse", why)
    return Plan(install, "purge", f"used at line {line}", last=last)


def _runtime_hint(build: Build, install: Install) -> str:
    """Signs that the container needs the tool when it runs, though no CMD names it: a later
    step configures it (``/etc/ssh/sshd_config``, ``authorized_keys``), or a comment at the
    install says it is for health checks."""
    config = next((c for glob, c in _CONFIG if fnmatchcase(install.name, glob)), None)
    chain = {s.index for s in build.chain}
    ins = install.step.ins
    for step in build.steps:
        later = step.order > install.step.order or step.ins is ins
        if (
            later
            and step.stage.index in chain
            and config
            and config.search(_text(build.doc, step.ins))
        ):
            return f"line {step.ins.line} configures it, so it looks needed at run time"
    doc = build.doc
    notes = doc.comments_above(ins.line)
    notes += [doc.comments[n] for n in range(ins.line, ins.end_line + 1) if n in doc.comments]
    if any(re.search(r"health", note, re.IGNORECASE) for note in notes):
        return "a comment says it serves health checks"
    return ""


#: Packages whose programs run ssh themselves when the container runs them: git and
#: Mercurial for SSH remotes (``git@host:repo``), rsync's remote shell, Subversion's
#: ``svn+ssh://``, Ansible. An image that ships one ships the SSH client for it.
_SHIPPED_SSH_CALLERS = re.compile(
    r"(?:git|git-core|git-all|mercurial|rsync|subversion|svn|ansible(?:-core)?|restic|"
    r"borgbackup|borg|duplicity)"
)
_SSH_CALLER_NEEDLES = (
    "git",
    "mercurial",
    "rsync",
    "subversion",
    "svn",
    "ansible",
    "restic",
    "borg",
    "duplicity",
)
#: Backup programs whose SFTP/SSH repositories run the ``ssh`` program, copied in as a
#: binary (k8up: ``COPY --from=restic /usr/local/bin/restic $RESTIC_BINARY``).
_COPIED_SSH_CALLER = re.compile(r"(?:^|/)(restic|borg|duplicity)(?:\s|$)")


#: Python packages that run the ``ssh`` program for SSH remotes: dulwich (its default
#: SSH vendor is a subprocess: netbox's git data sources, netbox-docker #1061), Ansible.
_PY_SSH_CALLERS = re.compile(r"(?im)^[ \t]*(dulwich|ansible(?:-core)?)[ \t]*(?:[=<>!~;\[#]|$)")
#: ``pip install -r FILE`` (``uv pip``, ``--requirement``): the requirements files installed.
_PIP_REQUIREMENTS = re.compile(r"(?:-r|--requirement)[=\s]+(\S+)")


def _ssh_client(install: Install) -> bool:
    """The package holds the ``ssh`` program (a server's removal leaves the client)."""
    return "ssh" in programs(install.name) and "server" not in install.name


def _shipped_caller(build: Build, install: Install) -> str:
    """Why an SSH client stays: the shipped stages also install a program that runs ssh
    (a Jenkins controller's git fetching ``git@github.com:...``). Empty when none does."""
    if not _ssh_client(install):
        return ""  # a server's removal leaves the client git needs
    chain = {s.index for s in build.chain}
    for step in build.steps:
        if step.stage.index not in chain or not step.may_name(_SSH_CALLER_NEEDLES):
            continue
        for command in step.commands:
            if command.action != INSTALL:
                continue
            for package in command.packages:
                name = (package.name or "").lower()
                if not _SHIPPED_SSH_CALLERS.fullmatch(name):
                    continue
                if _removed_later(build, Install(step, command, package)):
                    continue
                return (
                    f"line {step.ins.line} installs {package.name}, which runs ssh for SSH "
                    "remotes, so the image needs it at run time"
                )
    for stage in build.chain:
        for ins in stage.body:
            m = _COPIED_SSH_CALLER.search(ins.value) if ins.keyword in ("COPY", "ADD") else None
            if m is not None:
                return (
                    f"line {ins.line} copies in {m.group(1)}, which runs ssh for SFTP/SSH "
                    "repositories, so the image needs it at run time"
                )
    return ""


def _python_caller(build: Build, read: Callable[[str], str | None]) -> str:
    """``requirements-container.txt:3 lists dulwich, ...`` when a RUN of the Dockerfile
    (any stage: a builder's virtualenv is copied into the shipped one) pip-installs a
    requirements file that a COPY brings from the build context and that lists a Python
    package running ssh; "" otherwise."""
    copied = {
        posixpath.basename(source): source
        for stage in build.doc.stages
        for ins in stage.body
        if ins.keyword in ("COPY", "ADD") and "from" not in ins.flags
        for source in _sources(ins)
    }
    for stage in build.doc.stages:
        for ins in stage.body:
            if ins.keyword != "RUN" or "pip" not in ins.value:
                continue
            for m in _PIP_REQUIREMENTS.finditer(ins.value):
                source = copied.get(posixpath.basename(m.group(1).strip("\"'")))
                text = read(source) if source is not None else None
                found = _PY_SSH_CALLERS.search(text) if text else None
                if text and found is not None:
                    line = text.count("\n", 0, found.start()) + 1
                    return (
                        f"{source}:{line} lists {found.group(1)}, which runs ssh for SSH "
                        "remotes, so the image needs it at run time"
                    )
    return ""


def _text(doc: Dockerfile, ins: Instruction) -> str:
    """The instruction's arguments and heredoc bodies."""
    return ins.value + "".join(doc.text[h.body.start : h.body.end] for h in ins.heredocs)


def _removed_later(build: Build, install: Install) -> bool:
    """Removed again later in the shipped stages: by name, with its ``apk --virtual`` group,
    or by ``apt-mark auto`` then ``apt-get purge --auto-remove`` (docker-library images)."""
    first = install.step.order
    later = [
        c
        for step in build.steps
        if step.order >= first  # an earlier step's script need not be read
        for c in step.commands
        if (step.order, c.command.start) > install.key
    ]
    virtual = (install.command.virtual or "").lower()
    marked = False
    for c in later:
        names = [p.name for p in c.packages if p.name]
        if c.action == REMOVE and any(_marks(n, install.name) or n == virtual for n in names):
            return True
        if c.action == MARK_AUTO and (
            not c.packages or any(_marks(n, install.name) for n in names)
        ):
            marked = True  # no packages: `apt-mark showmanual | xargs apt-mark auto`
        elif c.action == MARK_MANUAL and any(_marks(n, install.name) for n in names):
            marked = False
        elif c.action == REMOVE and c.autoremove and marked:
            return True
    return False


def _marks(pattern: str, name: str) -> bool:
    """Whether a package argument (a name, glob or apt regex such as ``.*``) names ``name``."""
    if fnmatchcase(name, pattern):
        return True
    try:
        return re.fullmatch(pattern, name) is not None
    except re.error:
        return False


def _uses_after(
    build: Build, install: Install, pattern: re.Pattern[str]
) -> Iterator[tuple[Step, Mention]]:
    """Mentions of the package's programs after the install, in stages built on its stage
    (and ``COPY --from`` anywhere)."""
    later = build.descendants[install.step.stage.index]
    after = (install.step.order, install.command.command.end)
    for step in build.steps:
        if step.stage.index not in later and step.ins.keyword == "RUN":
            continue
        for mention in step.mentions(pattern):
            if (mention.order, mention.at) > after:
                yield step, mention


def programs(package: str) -> tuple[str, ...]:
    """The programs ``package`` provides (``netcat-openbsd``: ``nc``, ``netcat``, ...)."""
    return next((p for glob, p in _PROGRAMS if fnmatchcase(package, glob)), (package,))


def _program_pattern(
    package: str, *, runtime: bool = False, callers: bool = True
) -> re.Pattern[str]:
    """Mentions of the programs ``package`` provides, and (``callers``) of programs that
    run them; ``runtime`` adds the callers that matter only in a running container."""
    provided = programs(package)
    users = _callers(package, provided, runtime) if callers else ()
    names = "|".join(re.escape(p) for p in sorted({*provided, *users}, key=len, reverse=True))
    extra = r"|ssh://|\bgit@[\w.-]+:" if "ssh" in provided else ""
    return re.compile(rf"(?<![\w.-])(?:{names})(?![\w./-]){extra}")


def _callers(package: str, programs: tuple[str, ...], runtime: bool) -> tuple[str, ...]:
    if "ssh" in programs:
        return _SSH_CALLERS + (_SSH_RUNTIME_CALLERS if runtime else ())
    return _FETCH_CALLERS if package in ("curl", "wget") else ()
