"""DF003: network tools (curl, wget, ssh, netcat, ...) installed in the image that ships."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from fixer.documents.dockerfile import Dockerfile, parent_stages
from fixer.documents.dockerfile.images import Family, family_of, root_image
from fixer.documents.shell.script import condition_of
from fixer.model import Finding, Fix, Safety, Span
from fixer.rule import Context, Rule, Severity
from rules.tools.fix import purge_fix, removal_fix
from rules.tools.judge import judged, runtime_use
from rules.tools.plan import Plan, decide, installs, may_name_tool, programs, tool_pattern
from rules.tools.steps import Build, Step, analyse


class NetworkTools(Rule[Dockerfile]):
    """Network tool installed in the final stage.

    ## What it does
    Finds network and remote-access tools (`curl`, `wget`, `openssh-client`,
    `openssh-server`, `dropbear`, `telnet`, `netcat*`, `ncat`, `nmap`, `socat`; the list is
    the `tools` setting) installed by `apt-get`/`apt`, `apk`, `yum`/`dnf`/`microdnf` or
    `zypper` in a `RUN` of the final stage, or of a stage the final stage is built on. Build
    stages that do not ship are not checked, nor Dockerfiles under `.devcontainer/`
    (development environments); a tool removed again before the image is done (`apk del
    .build-deps`, `apt-get purge`, docker-library's `apt-mark auto '.*'` then `apt-get purge
    --auto-remove`) is not reported.

    ## Why is this bad?
    Once an attacker runs code in a container, `curl`, `wget` and `nc` are how they fetch
    the next stage of an attack or send data out, and an SSH client or server is a ready
    way to move sideways. An image that does not ship them is a harder place to work from,
    and has fewer packages to patch.

    ## Example
    ```dockerfile
    FROM debian:bookworm-slim
    RUN apt-get update \\
        && apt-get install -y --no-install-recommends \\
            ca-certificates \\
            curl \\
        && rm -rf /var/lib/apt/lists/*
    COPY app /usr/local/bin/app
    CMD ["app"]
    ```
    Use instead:
    ```dockerfile
    FROM debian:bookworm-slim
    RUN apt-get update \\
        && apt-get install -y --no-install-recommends \\
            ca-certificates \\
        && rm -rf /var/lib/apt/lists/*
    COPY app /usr/local/bin/app
    CMD ["app"]
    ```
    When a later build step uses the tool (`curl -fsSL ... | sh`, or a program that runs it:
    `luarocks`, `cpanm`, `pyenv` for curl and wget; `rsync`, `ansible` for ssh), the install
    stays and the last `RUN` that uses it removes it again (`&& apt-get purge -y --auto-remove
    curl`, `apk del`, `dnf remove -y`, ...), when it runs as the same user. When `CMD`,
    `ENTRYPOINT` or `HEALTHCHECK` runs it (or `git`, `rsync`, `docker` for ssh), a later
    step configures it (`/etc/ssh/sshd_config`, `authorized_keys`), or a comment at the
    install mentions health checks, nothing is changed: the finding says why and suggests a
    probe built into the app.

    ## Fix safety
    Needs review: an entrypoint script copied into the image, the application itself, or a
    Dockerfile built `FROM` this image may call the tool, which this Dockerfile does not show;
    `--auto-remove` (and `apk del`) also remove dependencies nothing else asked for, such as a
    library a program compiled from source links against. Only the named packages are removed
    (never `ca-certificates` and the like). An install command left without packages goes
    with one `&&`/`;` joiner (inside `if`, after `||` or in a pipeline it becomes `true`); a
    `RUN` left empty goes, and so does one left with only `apt-get update` and the clean-up
    that deletes its lists. An `apt-get update` whose lists stay is kept: a later step may
    install from them. Every edit is lexed again and checked (and compared with bashlex when
    it can parse the script) before it is offered. Scripts the rule cannot edit safely
    (exec form, a non-POSIX `SHELL`, a heredoc fed to another program) are reported, not
    changed.
    """

    id = "DF003"
    name = "network-tools"
    target = "dockerfile"
    summary = "curl/wget/ssh… installed in the shipped stage -> removed"
    safety = Safety.PROVEN
    aliases = ()
    needs_repository = True
    judges_shipped_stage = True
    severity = Severity.WARNING
    security_severity = 3.5
    risk = (
        "Network tools (curl, wget, ssh...) were removed from the shipped image. Entrypoints,"
        " scripts or health checks that call them will fail."
    )

    def check(self, ctx: Context[Dockerfile]) -> Iterator[Finding]:
        doc = ctx.doc
        stage = doc.final_stage
        if stage is None or family_of(root_image(doc, stage), doc) is Family.WINDOWS:
            return
        if ".devcontainer" in ctx.path.parts:  # a development environment: never shipped
            return
        build = analyse(doc, reversed(parent_stages(doc, stage)))
        _notice_unread(ctx, build)
        found = installs(build, ctx.settings.dockerfile.tools)
        plans = [
            p
            for p in (decide(build, i, ctx.context_text, _documents(ctx)) for i in found)
            if p is not None
        ]
        plans = [runtime_use(ctx, p) for p in plans]
        yield from _findings(self, ctx, build, plans)


def _notice_unread(ctx: Context[Dockerfile], build: Build) -> None:
    """A notice for each shipped RUN left unread (non-POSIX SHELL, shell the scanner does not
    model) that names a tool: it may install one, and nobody should think it was checked."""
    tools = ctx.settings.dockerfile.tools
    tool = tool_pattern(tools)
    for step in build.steps:
        if step.ins.keyword != "RUN":
            continue
        lowered = step.ins.value.lower()
        if not may_name_tool(lowered, tools):
            continue  # no word of it can match: the same answer as the check below
        words = re.findall(r"[\w.+-]+", lowered)
        if not any(tool.match(w) for w in words):
            continue  # names no tool (checked first: it spares reading the script)
        if step.problem and not step.commands:  # else fine, or reported by a finding
            note = f"DF003: RUN at line {step.ins.line} left unchanged: {step.problem}"
            if note not in ctx.notices:
                ctx.notices.append(note)


def _findings(
    rule: NetworkTools, ctx: Context[Dockerfile], build: Build, plans: list[Plan]
) -> Iterator[Finding]:
    fixes: dict[int, tuple[Fix | None, str]] = {}
    removals = [p for p in plans if p.action == "remove"]
    for order in sorted({p.install.step.order for p in removals}):
        group = [p for p in removals if p.install.step.order == order]
        step = group[0].install.step
        fix, why = removal_fix(build, step, [(p.install.command, p.install.package) for p in group])
        for p in group:
            fixes[id(p)] = fix, why
    purges = [p for p in plans if p.action == "purge"]
    for key in sorted({_purge_key(p) for p in purges}):
        group = [p for p in purges if _purge_key(p) == key]
        last = group[0].last
        assert last is not None
        why = _conditional(group) or _fetched_code(build, group)
        fix = None
        if not why:
            items = [(p.install.command, p.install.package) for p in group]
            fix, why = purge_fix(build, last, items)
        for p in group:
            fixes[id(p)] = fix, why
    fixes = _judge(ctx, build, plans, fixes)
    for plan in plans:
        fix, why = fixes.get(id(plan), (None, plan.reason))
        yield _finding(rule, ctx, plan, fix, why)


def _judge(
    ctx: Context[Dockerfile],
    build: Build,
    plans: list[Plan],
    fixes: dict[int, tuple[Fix | None, str]],
) -> dict[int, tuple[Fix | None, str]]:
    """Each distinct fix judged once (findings of one RUN share it): PROVEN or UNPROVEN."""
    judged_fixes: dict[int, Fix] = {}
    out: dict[int, tuple[Fix | None, str]] = {}
    shell = _shell_access(plans)
    for plan in plans:
        fix, why = fixes.get(id(plan), (None, plan.reason))
        if fix is not None and id(fix) not in judged_fixes:
            tools = [p.install.name for p in plans if fixes.get(id(p), (None, ""))[0] is fix]
            names = sorted({n for t in tools for n in (t, *programs(t))})
            line = plan.install.step.ins.line
            verdict = judged(ctx, build, fix, line, names)
            if shell and verdict.safety is not Safety.UNPROVEN:
                needs = (
                    f"confirm nobody logs into the image to use it: it keeps an SSH server "
                    f"({shell}), and tools installed beside one are usually there for whoever "
                    "logs in (a debugging console); if not, apply with --unsafe-fixes, "
                    f"else keep it with `# tighten ignore=DF003` on the line above line {line}"
                )
                verdict = replace(verdict, safety=Safety.UNPROVEN, needs=needs, evidence=())
            judged_fixes[id(fix)] = verdict
        out[id(plan)] = (judged_fixes[id(fix)] if fix is not None else None), why
    return out


#: Packages that let people log into the running container.
_SSH_SERVERS = frozenset({"openssh-server", "dropbear", "dropbear-bin", "tinysshd"})


def _shell_access(plans: list[Plan]) -> str:
    """``"<package>: <why it stays>"`` when the image keeps an SSH server because it runs
    it (not for a build stage's use, nor a RUN left unread); empty otherwise."""
    for plan in plans:
        install = plan.install
        if (
            plan.action == "refuse"
            and install.name in _SSH_SERVERS
            and not plan.reason.startswith("build stage")
            and plan.reason != install.step.problem
        ):
            return f"{install.name}: {plan.reason}"
    return ""


def _conditional(group: list[Plan]) -> str:
    """Why a removal after the last use cannot be appended: an install that runs only
    under a condition (``if echo "$BASE" | grep alpine; then apk add ...; fi``): the
    appended removal would run whether or not it installed anything, and fail where the
    package manager is not there (``apk`` on an Ubuntu base)."""
    for plan in group:
        script = plan.install.step.script
        if script is None:
            continue
        word = condition_of(script.script, plan.install.command.command)
        if word is not None:
            line = plan.install.step.ins.line
            how = f"after `{word}`" if word == "||" else f"inside `{word}`"
            return (
                f"line {line} installs it only when a condition holds ({how}): a removal "
                "appended after its last use would run either way; remove it by hand"
            )
    return ""


#: A later step running code the build fetches (``git clone URL && cd QDK && ./Install.sh``):
#: what that code calls is not in this repository to read.
_FETCHED_RUN = re.compile(r"(?:^|[;&|]\s*)(?:\./|(?:ba)?sh\s+|make\b)")


def _fetched_code(build: Build, group: list[Plan]) -> str:
    """Why the tool may still be used after its last visible use: a later shipped step runs
    a script of a repository cloned during the build (tailscale's QNAP build image runs
    QDK's ``InstallToUbuntu.sh``). Empty when none does."""
    first = min(p.install.step.order for p in group)
    cloned = False
    for step in build.steps:
        value = step.ins.value
        if step.order < first or step.ins.keyword != "RUN":
            continue
        cloned = cloned or "git clone" in value
        if cloned and step.order > first and _FETCHED_RUN.search(value):
            return (
                f"line {step.ins.line} runs code of a repository cloned during the build, "
                "which may call it; remove it by hand if it does not"
            )
    return ""


def _purge_key(plan: Plan) -> tuple[int, str, bool]:
    assert plan.last is not None
    command = plan.install.command
    return plan.last.order, command.manager.replace("apt-get", "apt"), command.sudo


def _finding(
    rule: NetworkTools, ctx: Context[Dockerfile], plan: Plan, fix: Fix | None, reason: str
) -> Finding:
    install = plan.install
    step = install.step
    stage = _stage_label(ctx.doc, step)
    message = f"{install.name} is installed in {stage} (network tool)"
    if plan.action == "purge" and fix is not None:
        message += f"; {plan.reason}, so it is removed after that"
    elif fix is None and reason:
        message += f"; {reason}"
        if plan.hint:
            message += f": {plan.hint}"
    span = (
        step.script.span(install.package.token)
        if step.script
        else Span(step.ins.args.start, step.ins.args.end)
    )
    return ctx.finding(rule, span, message, fix=fix, reason="" if fix else reason)


def _stage_label(doc: Dockerfile, step: Step) -> str:
    final = doc.final_stage
    if final is not None and step.stage.index == final.index:
        return "the final stage"
    return f"stage {step.stage.name or step.stage.index + 1} (the final stage is built on it)"


def _documents(ctx: Context[Dockerfile]) -> Callable[[str], str | None]:
    """``ctx.context_text`` for files read as data, not as programs (a requirements file)."""
    return lambda relative: ctx.context_text(relative, documents=True)
