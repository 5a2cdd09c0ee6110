"""DF003's judgement: evidence from beyond the Dockerfile that a tool is used at run time,
or that the tool is what the image is for.

- The repository model (``ctx.evidence.repository``) knows the real build context of a
  Dockerfile (``docker build -f build/Dockerfile .``), the scripts that build copies in and
  the manifests that run the image it produces: a call of the tool in any of them keeps it,
  and the finding cites ``path:line``.
- Without the repository model, a ``COPY .`` of the whole build context brings in scripts
  nobody read: the removal is offered, not applied (UNPROVEN).
- An image whose LABEL or README says it ships the tool for its users (a toolbox, a debug or
  CI runner image) is not fixed either; the finding shows the ``# tighten ignore=DF003``
  line that says so for good.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from fixer.documents.dockerfile import Dockerfile, Instruction, Stage, key_values, parent_stages
from fixer.model import Fix, Safety
from fixer.repository import usage
from fixer.repository.copies import arguments
from fixer.rule import Context
from rules.nonroot_judge import (
    DEV_NAME,
    DOCKER_CLIENTS,
    debugger_install,
    entry_program,
    entry_script_text,
    entry_words,
)
from rules.tools.plan import Plan, programs
from rules.tools.steps import Build

#: Words that say a tool is the product: a toolbox, a debugging or CI runner image.
_PRODUCT = re.compile(
    r"\b(tool-?box|debug(?:ging)?|troubleshoot\w*|network[- ]tools|netshoot|swiss[- ]army|"
    r"ci[- ]runner|runner image|diagnos\w+)\b",
    re.IGNORECASE,
)
#: Packages that make the final stage a build environment (a CI builder, a dev image): a
#: compiler toolchain, a JDK, a Docker client driving the host's daemon, DKMS (Falco's
#: driver loader compiles kernel modules when it runs). Its network tools
#: are part of what it ships: the scripts run in it (a Makefile, a CI step) are not its own.
_BUILD_ENV = re.compile(
    rf"(?<![\w.-])(build-essential|{DOCKER_CLIENTS}|openjdk-\d+-jdk(?:-headless)?|dkms)(?![\w.-])"
)
#: A README line that says the image ships something for its users.
_SHIPS = re.compile(r"\b(ships?|includes?|comes with|bundles?|provides?|contains?)\b", re.I)
_READMES = ("README.md", "README", "README.rst", "README.txt")
_MAX_README = 64 * 1024
_WHOLE = (".", "./", "*", "./*", "/")


def runtime_use(ctx: Context[Dockerfile], plan: Plan) -> Plan:
    """``plan`` refused when the repository shows the image running one of the tool's
    programs (a copied script, a manifest's command, exec or ConfigMap script); else
    ``plan`` unchanged. Refused per tool, not withheld per RUN: the other tools of the same
    install line are still removed. So is a tool a comment right above its install line
    says is needed (``# nmap, nmap-scripts: required in e2e-openshift-tls-profile tests``)."""
    if plan.action not in ("remove", "purge"):
        return plan
    said = _said_needed(ctx.doc, plan.install.step.ins.line, plan.install.name)
    if said:
        hint = "remove it with that comment if it is no longer needed"
        return replace(plan, action="refuse", reason=said, last=None, hint=hint)
    repository = ctx.evidence.repository
    if repository is None:
        return plan
    repository.reading(ctx.path, ctx.doc)
    final = ctx.doc.final_stage
    entry = entry_program(parent_stages(ctx.doc, final)) if final is not None else None
    for build in repository.build_of(Path(os.path.abspath(ctx.path))):
        for program in programs(plan.install.name):
            # The build's own scripts and the manifests naming the image, then what only a
            # reading of the manifests shows: likely-named images, probe and lifecycle
            # execs, scripts mounted from ConfigMaps.
            found = repository.uses_tool(build, program)
            found = found or usage.tool_uses(repository, build, program, entry)
            if found:
                where = os.path.relpath(found[0].path, repository.root)
                why = f"{where}:{found[0].line}: {found[0].reason}"
                hint = "remove it by hand if that use goes too"
                return replace(plan, action="refuse", reason=why, last=None, hint=hint)
    return plan


def judged(ctx: Context[Dockerfile], build: Build, fix: Fix, line: int, tools: list[str]) -> Fix:
    """The removal's safety: UNPROVEN when the image's tools are its product, or when a
    whole-context COPY brings in scripts no repository scan read; PROVEN otherwise."""
    product = product_sign(ctx, tools)
    if product:
        needs = (
            f"confirm the image does not ship it for its users ({product}); if it does, keep "
            f"it with `# tighten ignore=DF003` on the line above line {line}"
        )
        return replace(fix, safety=Safety.UNPROVEN, needs=needs)
    repository_needs = _repository_needs(ctx)
    if repository_needs:
        return replace(fix, safety=Safety.UNPROVEN, needs=repository_needs)
    if ctx.evidence.repository is None:
        whole = next(_whole_context_copies(build), None)
        if whole is not None:
            needs = (
                f"a look at the scripts `{whole.keyword} .` at line {whole.line} brings in "
                "(the repository was not scanned): if none runs the tool, apply with "
                "--unsafe-fixes"
            )
            return replace(fix, safety=Safety.UNPROVEN, needs=needs)
        evidence = "no script the Dockerfile copies in and no CMD/ENTRYPOINT/HEALTHCHECK runs it"
    else:
        evidence = (
            "repository: no script the build copies in and no manifest running the image calls it"
        )
    return replace(fix, safety=Safety.PROVEN, evidence=(evidence,))


def _repository_needs(ctx: Context[Dockerfile]) -> str:
    """What the repository says against the removal: the image is a test's (nothing
    outside test folders ships it). Empty when nothing does."""
    repository = ctx.evidence.repository
    if repository is None:
        return ""
    dockerfile = Path(os.path.abspath(ctx.path))
    test = usage.test_only(repository, dockerfile)
    if test:
        return f"{test}; if it is shipped, apply with --unsafe-fixes"
    return ""


def product_sign(ctx: Context[Dockerfile], tools: list[str]) -> str:
    """Where the image says its tools are its product: a LABEL, or a line of the README
    next to it that names one of ``tools`` (package or program names)."""
    named = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, tools)) + r")(?![\w-])")
    final = ctx.doc.final_stage
    shipped = parent_stages(ctx.doc, final) if final is not None else []
    for stage in shipped:
        for ins in stage.body:
            if ins.keyword == "RUN" and (
                "build-essential" in ins.value
                or "docker" in ins.value
                or "jdk" in ins.value
                or "moby" in ins.value
                or "dkms" in ins.value
            ):
                m = _BUILD_ENV.search(ins.value)
                if m:
                    return f"line {ins.line} installs {m.group(1)}: a build environment"
    onbuild = next((i for s in shipped for i in s.body if i.keyword == "ONBUILD"), None)
    if onbuild is not None:
        return (
            f"line {onbuild.line} ONBUILD {onbuild.value.split(None, 1)[0]}: a base for "
            "builds FROM it, whose steps may use its tools"
        )
    if DEV_NAME.match(ctx.path.name):
        return (
            f"its name says it is a development or debugging image ({ctx.path.name}), whose "
            "tools are for the people working in it"
        )
    debugger = debugger_install(shipped)
    if debugger is not None:
        return (
            f"line {debugger[0]} {debugger[1]}: a development or debugging image, "
            "whose tools are for the people working in it"
        )
    profile = _shell_profile(shipped)
    if profile:
        return profile
    ci = _ci_program(ctx.doc) or _test_runner_base(ctx.doc) or _build_runner(ctx)
    if ci:
        return ci
    built = _build_env_name(Path(ctx.path))
    if built:
        return f"its name says it is a build environment ({built}), whose tools the build uses"
    runner = _command_runner(ctx)
    if runner:
        return runner
    said = _stage_comment(ctx.doc)
    if said:
        return said
    for ins in ctx.doc.instructions:
        if ins.keyword != "LABEL":
            continue
        for kv in key_values(ins):
            m = _PRODUCT.search(kv.value or "")
            if m:
                return f'LABEL {kv.key} at line {ins.line} says "{m.group(0)}"'
    for name in _READMES:
        text = _read(Path(ctx.path).parent / name)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            m = _PRODUCT.search(line)
            if m and _SHIPS.search(line) and named.search(line):
                return f'{name}:{number} says "{m.group(0)}"'
    return ""


#: The name of a build environment's Dockerfile or folder (KubeEdge's
#: ``build/docker/build-tools/build-tools.dockerfile``, "a basic image for building").
_BUILD_ENV_NAME = re.compile(
    r"(?i)build[-_]?(?:tools?|images?|env(?:ironment)?|box)|builders?|cross[-_]?build(?:er)?"
)


def _build_env_name(path: Path) -> str:
    """The Dockerfile's own name (``NAME.dockerfile``, ``Dockerfile.NAME``) or its
    folder's, when it names a build environment; "" otherwise."""
    own = usage.dockerfile_own_name(path.name)
    for name in (own, path.parent.name):
        if name and _BUILD_ENV_NAME.fullmatch(name):
            return f"{path.parent.name}/{path.name}" if name != own else path.name
    return ""


#: A shell or editor profile, or a login banner: set up for a person's session.
_PROFILE = re.compile(r"(?:^|/)(?:\.(?:bashrc|bash_profile|zshrc|vimrc|inputrc)|motd[\w.-]*)$")


def _shell_profile(stages: list[Stage]) -> str:
    """``line N copies .bashrc``: the shipped stages put a shell or editor profile or a
    login banner in place (kube-router copies ``.bashrc``, ``.vimrc`` and a motd into
    ``/root`` for the people who ``kubectl exec`` into it to debug routes): its tools are
    for those sessions. "" otherwise."""
    for stage in stages:
        for ins in stage.body:
            if ins.keyword not in ("COPY", "ADD"):
                continue
            words = arguments(ins)
            if len(words) > 1 and _PROFILE.search(words[-1].rstrip("/")):
                name = words[-1].rstrip("/").rsplit("/", 1)[-1]
                return (
                    f"line {ins.line} copies {name}: the image is set up for people who work "
                    "in it (a shell or editor profile, a login banner), whose tools are theirs"
                )
    return ""


def _command_runner(ctx: Context[Dockerfile]) -> str:
    """The image runs a Go program of this repository that runs shell commands it is given
    (Flagger's load tester runs the ``cmd`` of each webhook with ``bash -c``): its tools are
    there for commands that no file of the repository lists."""
    repository = ctx.evidence.repository
    final = ctx.doc.final_stage
    if repository is None or final is None:
        return ""
    program = entry_program(parent_stages(ctx.doc, final))
    if not program or "$" in program:
        return ""
    name = program.rsplit("/", 1)[-1]
    try:
        found = repository.go_command_runner(name)
    except Exception:  # evidence is optional: a broken model says nothing
        return ""
    if found is None:
        return ""
    return (
        f"its program {name} runs the shell commands it is sent ({found.where}: "
        f"{found.shell} -c), which may use any tool of the image"
    )


#: A comment that says the final stage adds its packages as utilities (zero-to-jupyterhub's
#: hub image: "We add a few non-critical packages on top of the slim version to provide
#: some additional utility"): the tools are there for the people who use the image.
_UTILITY = re.compile(
    r"\b(utilit(?:y|ies)|non-critical packages|for convenience|convenience (?:tools|packages)|"
    r"for debugging|debugging tools|troubleshooting|image for building|build environment)\b",
    re.IGNORECASE,
)


#: A comment that says why a package is installed: tempo-operator's test utilities image,
#: ``# nmap, nmap-scripts: required in e2e-openshift-tls-profile tests``.
_NEEDED = re.compile(r"\b(?:required|needed|needs?|used (?:by|in|for))\b", re.IGNORECASE)


def _said_needed(doc: Dockerfile, line: int, tool: str) -> str:
    """``the comment at line 14 says it is needed (...)`` when a comment of the block right
    above the install line names the tool and why; empty otherwise."""
    if line - 1 not in doc.comments:
        return ""
    named = re.compile(rf"(?<![\w.-]){re.escape(tool)}(?![\w-])")
    above = line - 1
    while above in doc.comments:
        text = doc.comments[above]
        if named.search(text) and _NEEDED.search(text):
            return f'the comment at line {above} says it is needed ("{text.strip()[:80]}")'
        above -= 1
    return ""


def _stage_comment(doc: Dockerfile) -> str:
    """``a comment at line 86 says "utility"`` when a comment of the final stage (or the
    comment block right above its FROM) says its packages are utilities; empty otherwise."""
    final = doc.final_stage
    if final is None or not doc.comments:
        return ""
    first = final.from_.line
    block = first - 1
    while block in doc.comments:
        block -= 1
    for line in sorted(doc.comments):
        if line > block:
            m = _UTILITY.search(doc.comments[line])
            if m:
                return f'a comment at line {line} says "{m.group(0)}"'
    return ""


#: Programs of CI servers and agents: their jobs run the users' shell steps in the image
#: (``sh 'curl ...'`` on a Jenkins node), so the tools it ships are what those jobs use.
_CI_PROGRAMS = re.compile(
    r"jenkins(?:\.sh|\.war|-agent(?:\.sh)?|-slave|-inbound-agent)?|(?:agent|slave|remoting)\.jar|"
    r"gitlab-(?:ci-multi-)?runner|buildkite-agent|runner\.listener|drone-(?:agent|runner-\w+)|"
    r"woodpecker-agent|tcagent|teamcity-agent|bamboo-agent|concourse|circleci-agent"
)


#: An Actions runner put in the image without a command of its own (actions/runner's
#: ``images/Dockerfile``, which Actions Runner Controller starts with ``run.sh``): the
#: runner's settings, or its files copied in.
_ACTIONS_RUNNER = re.compile(r"\bACTIONS_RUNNER_\w+|(?<![\w-])actions-runner(?![\w-])")


def _ci_program(doc: Dockerfile) -> str:
    """``ENTRYPOINT runs jenkins.sh, a CI server or agent`` when the final stage's command
    starts one, or the image carries a GitHub Actions runner; empty otherwise."""
    final = doc.final_stage
    if final is None:
        return ""
    chain = parent_stages(doc, final)
    for word in entry_words(chain):
        name = word.rsplit("/", 1)[-1].lower()
        if _CI_PROGRAMS.fullmatch(name):
            return f"the image runs {name}, a CI server or agent whose jobs run shell steps in it"
    for stage in chain:
        for ins in stage.body:
            if ins.keyword in ("ENV", "COPY", "ADD") and _ACTIONS_RUNNER.search(ins.value):
                return (
                    f"line {ins.line} sets up a GitHub Actions runner, whose jobs run shell "
                    "steps in it"
                )
    return ""


#: A build tool run as the image's command: the image is a build environment, and the
#: build it runs (the repository's Makefile) uses its tools.
_BUILD_TOOL = re.compile(r"(?<![\w./-])(make|gmake|bazel|bazelisk|mvn|gradle|ninja)(?![\w.-])")


def _build_runner(ctx: Context[Dockerfile]) -> str:
    """``the image runs make ...`` when the final stage's command, or the script it runs,
    starts a build tool (Cortex's ``build-image``: ``ENTRYPOINT ["/build.sh"]``, which
    runs ``make -C $SRC_PATH`` on the source tree the Makefile mounts); empty otherwise."""
    final = ctx.doc.final_stage
    if final is None:
        return ""
    chain = parent_stages(ctx.doc, final)
    for word in entry_words(chain):
        name = word.rsplit("/", 1)[-1]
        if _BUILD_TOOL.fullmatch(name):
            return f"the image runs {name}: a build environment, whose tools the build uses"
    shown, text = entry_script_text(ctx, chain)
    for line in (text or "").splitlines():
        code = line.split("#", 1)[0]
        m = _BUILD_TOOL.search(code)
        if m is None:
            continue
        tool = re.escape(m.group(1))
        # Run as a command: with options (``make -C src``), or first on its line or after
        # an operator (``exec make "$@"``); not a word of a message or a path.
        if re.search(rf"(?<![\w./-]){tool}\s+-", code) or re.search(
            rf"(?:^\s*|[;&|(]\s*)(?:exec\s+)?{tool}(?![\w.-])", code
        ):
            return (
                f"its entrypoint {shown} runs {m.group(1)}: a build environment, whose tools "
                "the build uses"
            )
    return ""


#: Base images made to run end-to-end tests in (the Tekton Dashboard's E2E image builds on
#: ``cypress/factory``): the tests run there fetch what they check with its tools.
_TEST_RUNNER_BASE = re.compile(
    r"(?i)^(?:docker\.io/)?cypress/[\w.-]+|^mcr\.microsoft\.com/playwright(?:/[\w.-]+)?(?=[:@]|$)"
)


def _test_runner_base(doc: Dockerfile) -> str:
    """``it builds on cypress/factory, a test runner's image...`` when a stage of the final
    stage's chain starts from one; empty otherwise."""
    final = doc.final_stage
    for stage in parent_stages(doc, final) if final is not None else ():
        m = _TEST_RUNNER_BASE.match(stage.image)
        if m:
            return (
                f"it builds on {m.group()}, an image for running end-to-end tests, whose "
                "tools the tests use"
            )
    return ""


def _whole_context_copies(build: Build) -> Iterator[Instruction]:
    for stage in build.chain:
        for ins in stage.body:
            if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
                continue
            if any(w in _WHOLE for w in arguments(ins)[:-1]):
                yield ins


def _read(path: Path) -> str | None:
    """A README in the Dockerfile's folder (documentation, never run)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(_MAX_README).decode("utf-8", "replace")
    except OSError:
        return None
