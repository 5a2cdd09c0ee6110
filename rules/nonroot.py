"""DF001: the final stage of a Dockerfile runs as root."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from fixer.documents.dockerfile import Dockerfile, Instruction, Stage, key_values, parent_stages
from fixer.documents.dockerfile.images import (
    Family,
    expand,
    family_of,
    root_image,
    stage_variables,
)
from fixer.documents.text import indentation
from fixer.evidence.images import ImageUser
from fixer.model import Edit, Finding, Fix, Safety
from fixer.repository.copies import arguments
from fixer.rule import Context, Rule, Severity
from fixer.settings import Settings
from rules.nonroot_judge import (
    DEBUGGERS,
    DEV_NAME,
    Owner,
    RunAs,
    base_runs_non_root,
    copies_context,
    debugger_install,
    derived_runs,
    desktop_extension,
    entry_program,
    entry_words,
    github_docker_action,
    has_derived,
    manifest_runs,
    manifest_user,
    only_copied_from,
    only_printed_from,
    owner_ids,
    owners,
    root_home_sign,
    root_start_signs,
    shell_command,
    test_image,
    workstation_signs,
)

#: Instructions a person puts after USER: the image's run-time metadata.
_TRAILING = frozenset({"EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "LABEL"})
_SPLIT = re.compile(r"&&|\|\||;|\||\n")
_UID_OPT = re.compile(r"(?:^|\s)(?:-u|--uid)(?:\s+|=)(\d+|\$\{?\w+\}?)")
_VAR = re.compile(r"\$\{?(\w+)")
_GID_OPT = re.compile(r"(?:^|\s)(?:-g|--gid)(?:\s+|=)(\d+|\$\{?\w+\}?)")
_GROUP_OPT = re.compile(r"(?:^|\s)(?:-g|--gid|-G|--ingroup)(?:\s+|=)([^\s-]\S*)")
NAME = "appuser"


@dataclass(frozen=True)
class CreatedUser:
    name: str
    uid: str | None
    gid: str | None
    ins: Instruction | None = None  # the RUN that creates it
    tool_end: int = 0  # logical offset just past `useradd`/`adduser` in that RUN
    long_options: bool = True  # `--uid` (useradd, Debian adduser) or `-u` (BusyBox adduser)


class NonRootUser(Rule[Dockerfile]):
    """Final stage runs as root.

    ## What it does
    Finds Dockerfiles whose final stage (the image that ships) runs as root: there is no
    `USER` instruction, or the last one is `root`, `0`, `root:<group>` or `0:<group>`.

    ## Why is this bad?
    A process running as root inside a container is root on the container's filesystem and a
    short step from root on the node if it escapes. Kubernetes' `runAsNonRoot: true` can only
    verify a *numeric* user, so the fix writes `USER <uid>:<gid>`.

    ## Example
    ```dockerfile
    FROM debian:bookworm-slim
    COPY app /usr/local/bin/app
    CMD ["app"]
    ```
    Use instead:
    ```dockerfile
    FROM debian:bookworm-slim
    COPY app /usr/local/bin/app
    RUN groupadd --gid 10001 appuser && useradd --no-log-init --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin appuser
    USER 10001:10001
    CMD ["app"]
    ```

    ## Fix safety
    Needs review: files the build created as root may not be writable by the new user, and
    ports below 1024 need `NET_BIND_SERVICE`. The user is created the way the base image's
    distro does it (Debian/Ubuntu and RHEL `groupadd`/`useradd`, Alpine/BusyBox
    `addgroup`/`adduser`), distroless images get their built-in `nonroot` user (65532), and
    scratch or unknown images get a numeric `USER` only. A non-root user the Dockerfile
    already creates is reused. Windows images are not checked.
    """

    id = "DF001"
    name = "non-root-user"
    target = "dockerfile"
    summary = "final stage runs as root -> numeric non-root USER"
    safety = Safety.PROVEN
    aliases = ("DL3002", "CKV_DOCKER_3", "CKV_DOCKER_8")
    severity = Severity.WARNING
    security_severity = 6.0
    risk = (
        "The image now runs as a non-root user. Folders the application writes to must be "
        "writable by that user (`chown` them in the Dockerfile), and it can no longer listen "
        "on ports below 1024 without the `NET_BIND_SERVICE` capability."
    )

    needs_repository = True
    judges_shipped_stage = True

    def check(self, ctx: Context[Dockerfile]) -> Iterator[Finding]:
        doc = ctx.doc
        stage = doc.final_stage
        if stage is None:
            return
        image = root_image(doc, stage)
        family = family_of(image, doc)
        if family is Family.WINDOWS or image.lower().endswith(":nonroot"):
            return
        chain = parent_stages(doc, stage)
        if image.lower() == "scratch" and _files_only(chain, ctx.path.parent):
            return  # a stage others COPY --from, an image to mount: nothing runs in it
        now = doc.in_effect(stage)
        last_user = now.user
        if last_user is not None and not _is_root(last_user.value.strip(), doc, stage):
            return
        base = ctx.evidence.image_user(image)
        if last_user is None and base_runs_non_root(base):
            return  # the base image already runs as its non-root user: nothing to add
        anchor = last_user if last_user else stage.from_
        why = "last USER is root" if last_user else "no USER instruction"
        if any(not h.terminated for ins in stage.body for h in ins.heredocs):
            reason = "the file ends inside a heredoc (no terminator line)"
            yield ctx.finding(self, anchor.span, f"final stage runs as root ({why})", reason=reason)
            return
        choice = _choose(doc, chain, family, image, base, ctx.settings, manifest_user(ctx, chain))
        lines = choice.lines
        if now.shell is not None and _non_posix(now.shell):
            # After `SHELL ["pwsh", ...]` a shell-form RUN is PowerShell: say /bin/sh outright.
            lines = [_exec_form(ln) if ln.startswith("RUN ") else ln for ln in lines]
        title = f"run the final stage as {lines[-1].split(' ', 1)[1]}{choice.note}"
        edits = (_insert(doc, stage, lines), *choice.extra)
        # Many third-party bases already run as their own user (grafana/k6 as k6): a new
        # USER would take their home and files away from them.
        unknown = last_user is None and base is None and image.lower() != "scratch"
        yield ctx.finding(
            self,
            anchor.span,
            f"final stage runs as root ({why})",
            fix=_judged_fix(
                title,
                edits,
                choice,
                _Reasons(ctx, chain, image, base, image if unknown else ""),
            ),
        )


def _development_image(name: str, chain: Sequence[Stage]) -> str:
    """Why the Dockerfile builds a development image (its name, a debugger it installs),
    or "" (tetragon's ``Dockerfile.dev``: strace, vim, netcat, and a root shell)."""
    if DEV_NAME.match(name):
        return f"its name says it is a development or debugging image ({name})"
    program = entry_program(list(chain))
    if program is not None and os.path.basename(program) in DEBUGGERS:
        return f"it starts its program under the debugger {os.path.basename(program)}"
    found = debugger_install(chain)
    if found is not None:
        return f"line {found[0]} {found[1]}: a development or debugging image"
    return ""


def _judged_fix(title: str, edits: tuple[Edit, ...], choice: Choice, reasons: _Reasons) -> Fix:
    """PROVEN when nothing says the image needs root to start, the user is known, and the
    image is shipped (a test's image may need root for what it tests) and not a tool the
    repository runs on the host's files; else UNPROVEN with the first reason that holds.
    The reasons are asked in that order and each is worked out when asked, so a fix
    withheld for an early one never reads the evidence of the later ones."""
    needs = ""
    if test := reasons.test:
        needs = f"{test}; if it is shipped, apply with --unsafe-fixes"
    elif development := reasons.development:
        needs = (
            f"a look at who works in it: {development}, where people build, edit and debug "
            "as root; if it is shipped, apply with --unsafe-fixes"
        )
    elif workstation := reasons.workstation:
        needs = (
            f"evidence the image works as a non-root user where the repository runs it "
            f"({'; '.join(workstation)}); pass --user there, or apply with --unsafe-fixes"
        )
    elif (root_home := reasons.root_home) and root_home.startswith("ENV "):
        needs = (
            f"the setting pointed out of /root ({root_home}): a folder the new user can "
            "read; then apply with --unsafe-fixes"
        )
    elif root_home:
        needs = (
            f"the image's files moved out of /root ({root_home}): WORKDIR /app, say; then "
            "apply with --unsafe-fixes"
        )
    elif derived := reasons.derived:
        more = f" and {len(derived) - 3} more" if len(derived) > 3 else ""
        needs = (
            f"`USER root` before the RUN steps of the Dockerfiles built FROM this image "
            f"({', '.join(derived[:3])}{more} would run as the user this sets, and fail to "
            "install or write as it): add it there, then apply with --unsafe-fixes"
        )
    elif copied_from := reasons.copied_from:
        needs = (
            f"a look at what runs the image: the repository only copies files out of it "
            f"({copied_from}: a stage with no instruction of its own, used by COPY --from), "
            "so a USER changes nothing it runs; if something else runs it, apply with "
            "--unsafe-fixes"
        )
    elif extension := reasons.extension:
        needs = (
            f"a look at what runs the image: it is a Docker Desktop extension (the LABEL at "
            f"{extension}), whose files Docker Desktop reads; no container runs it as its "
            "user; if something does, apply with --unsafe-fixes"
        )
    elif docker_action := reasons.docker_action:
        needs = (
            f"a look at what runs the image: {docker_action} runs it as a GitHub Docker "
            "action, which GitHub starts as root and whose docs say not to set USER (the "
            "action could not write GITHUB_WORKSPACE); if something else runs it, apply "
            "with --unsafe-fixes"
        )
    elif printed_from := reasons.printed_from:
        needs = (
            f"a look at what runs the image: the repository builds it under a local name "
            f"and only prints or compares its files ({printed_from}), so a USER changes "
            "nothing it runs; if something else runs it, apply with --unsafe-fixes"
        )
    elif signs := reasons.signs:
        needs = (
            f"proof the image starts as non-root ({'; '.join(signs)}); if it does, apply "
            "with --unsafe-fixes, if root is on purpose add `# tighten ignore=DF001`"
        )
    elif choice.needs:
        needs = choice.needs
    elif reasons.dev_container:
        needs = (
            "the user the dev container's devcontainer.json runs as (remoteUser, "
            "containerUser): VS Code runs the dev container as that user, and its features "
            "install as root; set the user there, or apply with --unsafe-fixes"
        )
    elif no_command := reasons.no_command:
        needs = (
            f"the command the image runs: {no_command} (a base, builder, toolbox, dev "
            "container or CI step image: whoever runs it or builds FROM it chooses the "
            "command, which would run as the new user); if it is an application that keeps "
            "its base image's command, apply with --unsafe-fixes"
        )
    elif unknown_base := reasons.unknown_base:
        needs = (
            f"the user the base image {unknown_base} runs as (its config was not read): if "
            "it already runs as non-root, no USER is needed; if it runs as root, apply with "
            "--unsafe-fixes (or run tighten where it can ask the registry)"
        )
    if needs:
        return Fix(title, edits, Safety.UNPROVEN, needs=needs)
    evidence = (
        choice.evidence,
        "no sign the image needs root to start (entrypoint, ports, volumes, base image)",
    )
    return Fix(title, edits, Safety.PROVEN, evidence=tuple(e for e in evidence if e))


class _Reasons:
    """What may withhold DF001's fix, each worked out on its first ask: ``_judged_fix``
    asks them in order and stops at the first that holds (over the corpus, 36 of 697
    findings stop before the signs that the image needs root, and 245 never ask
    whether the image has a command of its own)."""

    def __init__(
        self,
        ctx: Context[Dockerfile],
        chain: list[Stage],
        image: str,
        base: ImageUser | None,
        unknown_base: str,
    ) -> None:
        self._ctx, self._chain, self._image, self._base = ctx, chain, image, base
        #: The base image whose user is unknown (its config was not read), or "".
        self.unknown_base = unknown_base
        self.dev_container = ".devcontainer" in ctx.path.parts

    @cached_property
    def test(self) -> str:
        found = test_image(self._ctx)
        if found:
            return found
        program = entry_program(list(self._chain))
        if program is not None and program.endswith(".test"):  # ``go test -c`` output
            return f"a test image: its ENTRYPOINT runs a compiled Go test suite ({os.path.basename(program)})"
        return ""

    @cached_property
    def development(self) -> str:
        if self.dev_container:
            return ""
        return _development_image(self._ctx.path.name, self._chain)

    @cached_property
    def workstation(self) -> list[str]:
        return workstation_signs(self._ctx)

    @cached_property
    def root_home(self) -> str:
        return root_home_sign(self._ctx.doc, self._chain, self._image)

    @cached_property
    def derived(self) -> list[str]:
        return derived_runs(self._ctx)

    @cached_property
    def copied_from(self) -> str:
        return only_copied_from(self._ctx, self._chain)

    @cached_property
    def extension(self) -> str:
        return desktop_extension(self._chain)

    @cached_property
    def docker_action(self) -> str:
        return github_docker_action(Path(self._ctx.path))

    @cached_property
    def printed_from(self) -> str:
        return only_printed_from(self._ctx, self._chain)

    @cached_property
    def signs(self) -> list[str]:
        ctx, chain = self._ctx, self._chain
        return root_start_signs(ctx, chain, self._base) + _owner_conflicts(ctx.doc, chain)

    @cached_property
    def no_command(self) -> str:
        return _no_command(self._ctx, self._chain, self._image, self._base)


#: Files nothing runs: archives, documents, data.
_DATA_FILE = re.compile(
    r"(?i)(?:\.(?:tar(?:\.\w+)?|tgz|zip|gz|json|ya?ml|txt|md|csv|pem|crt|svg|png)|/LICENSE|"
    r"/NOTICE|/README)$"
)


def _data_only(chain: list[Stage]) -> str:
    """For a ``scratch`` image without ENTRYPOINT or CMD whose every COPY/ADD brings a data
    file (the MongoDB operator's agent builder: a LICENSE and two ``.tar.gz`` other builds
    copy from): why nothing runs in it; "" otherwise (a copied program may be run)."""
    if entry_words(chain):
        return ""
    copied: list[str] = []
    for stage in chain:
        for ins in stage.body:
            if ins.keyword in ("COPY", "ADD"):
                words = arguments(ins)
                if len(words) < 2:
                    return ""
                copied += [w.rstrip("/") for w in words[:-1]]
    if not copied or not all(_DATA_FILE.search("/" + w) for w in copied):
        return ""
    names = ", ".join(dict.fromkeys(w.rsplit("/", 1)[-1] for w in copied[:3]))
    return f"it is FROM scratch with only data files ({names}) and no command: nothing runs in it"


def _unrun_scratch(ctx: Context[Dockerfile], chain: list[Stage]) -> str:
    """A ``scratch`` image with no ENTRYPOINT or CMD that no manifest or compose file of
    the repository runs (Nuclio's onbuild images, "Doesn't do anything but hold processor
    binary and all Python code required": its function builds copy them out): a holder of
    files, or a program whose runner is elsewhere. A program the repository's manifests
    run with their own command (contour's ``/bin/contour``) is judged as it runs."""
    if entry_words(chain) or ctx.evidence.repository is None:
        return ""
    if manifest_runs(ctx, chain):
        return ""
    return (
        "it is FROM scratch with no ENTRYPOINT or CMD and nothing in the repository runs "
        "it: a holder of files other images copy, or a program whose runner gives the user"
    )


def _no_command(
    ctx: Context[Dockerfile], chain: list[Stage], image: str, base: ImageUser | None
) -> str:
    """Why the image has no command of its own ("" when it has one): it defines no
    ENTRYPOINT or CMD, or its command is only a shell, and nothing says whose command it
    keeps: a base, builder, toolbox, dev container or CI step image (dotnet-docker's
    runtime images, Cloud Build steps), whose commands come from whoever runs it or builds
    FROM it. Not for ``scratch`` (nothing but the copied program can run), nor when the
    USER only goes back to the base image's own user (bitnami's 1001 after a ``USER root``
    install), nor for an application that copies its files into a known base and keeps its
    command (``FROM php:8.3-fpm-alpine`` + ``COPY index.php``), nor for a base whose
    derived builds the repository shows (they only copy: ``derived_runs`` withholds the
    others)."""
    if image.lower() == "scratch":
        return _data_only(chain) or _unrun_scratch(ctx, chain)
    if base_runs_non_root(base):
        return ""
    if has_derived(ctx):
        return ""
    shell = shell_command(chain, image)
    if shell:
        return shell
    if entry_words(chain) or (base is not None and copies_context(chain)):
        return ""
    return "it defines no ENTRYPOINT or CMD of its own"


def _owner_conflicts(doc: Dockerfile, chain: list[Stage]) -> list[str]:
    """Files given to two different users: one USER cannot write both."""
    found = owners(chain, doc)
    users = list(dict.fromkeys(o.user for o in found))
    if len(users) < 2:
        return []
    return [
        f"files are given to {users[0]} and to {users[1]} (lines {found[0].line}, {found[-1].line})"
    ]


def _non_posix(shell: Instruction) -> bool:
    """The ``SHELL`` instruction runs something else than a POSIX shell."""
    first = re.match(r'\s*\[\s*"([^"]+)"', shell.value)
    program = first.group(1).rsplit("/", 1)[-1] if first else ""
    return program not in ("sh", "bash", "ash", "dash", "zsh", "ksh", "busybox")


def _exec_form(run: str) -> str:
    return "RUN " + json.dumps(["/bin/sh", "-c", run[len("RUN ") :]])


def _is_root(value: str, doc: Dockerfile, stage: Stage) -> bool:
    expanded = expand(value, stage_variables(doc, stage))
    if expanded is None:  # a build-time variable we cannot see: do not guess
        return False
    user = expanded.split(":", 1)[0].strip()
    return user in ("root", "0", "")


@dataclass(frozen=True)
class Choice:
    """The USER to write (and any user to create), with what proves it is the right one."""

    lines: list[str]
    note: str = ""
    extra: tuple[Edit, ...] = ()
    evidence: str = ""
    #: Set when the user cannot be proven right (a uid from a build argument out of scope).
    needs: str = ""


def _choose(
    doc: Dockerfile,
    chain: list[Stage],
    family: Family,
    image: str,
    base: ImageUser | None,
    settings: Settings,
    run_as: RunAs | None = None,
) -> Choice:
    """Who the image is meant to run as: the owner of its files, a user the Dockerfile
    creates, the base image's own or shipped user; a new user only when none of them, with
    the uid the repository's manifests run it as when they all agree on one."""
    created = _created_user(chain) or _copied_user(doc, chain)
    found = owners(chain, doc)
    owner = found[-1] if found else None
    if owner is not None and (created is None or owner.user not in (created.name, created.uid)):
        return _owner_choice(owner, base)
    uid, gid = (run_as.uid, run_as.gid) if run_as else (settings.user.uid, settings.user.gid)
    if created is not None:
        choice = _created_choice(created, doc, chain, uid)
        given = created.uid is None and created.ins is not None  # gets `uid` written in
        return _with(choice, run_as) if given else choice
    if base is not None and base_runs_non_root(base):  # `USER root` was left switched on
        user = f"{base.uid}:{base.gid}" if base.uid and base.gid else str(base.uid or base.user)
        return Choice([f"USER {user}"], " (the base image's user)", evidence=_base(base))
    group_zero = root_group_line(chain)
    if base is not None and base.ships is not None:
        ships = base.ships
        note = f" (the base image's {ships.name} user)"
        evidence = f"the base image ships user {ships.name} as {ships.uid} ({base.source})"
        if group_zero is not None:
            return _in_group_zero(
                Choice([f"USER {ships.uid}:0"], note, evidence=evidence), group_zero
            )
        return Choice([f"USER {ships.uid}:{ships.gid}"], note, evidence=evidence)
    if family is Family.DISTROLESS and group_zero is None:
        return Choice(["USER 65532:65532"], " (distroless nonroot)")
    if group_zero is not None:
        gid = 0
    create = _create_command(family, image, uid, gid)
    lines = [f"USER {uid}:{gid}"] if create is None else [f"RUN {create}", f"USER {uid}:{gid}"]
    choice = _with(Choice(lines), run_as)
    return _in_group_zero(choice, group_zero) if group_zero is not None else choice


def _in_group_zero(choice: Choice, line: int) -> Choice:
    """``choice`` keeping group 0, which the build gives its files with group write."""
    note = choice.note or f" (group 0, which line {line} gives the files)"
    evidence = f"line {line} gives files to group 0 with group write (any uid in group 0 may write)"
    return replace(
        choice, note=note, evidence="; ".join(e for e in (choice.evidence, evidence) if e)
    )


def _with(choice: Choice, run_as: RunAs | None) -> Choice:
    """``choice`` citing the manifests whose uid it took."""
    if run_as is None:
        return choice
    note = choice.note or run_as.note
    evidence = "; ".join(e for e in (choice.evidence, run_as.evidence) if e)
    return replace(choice, note=note, evidence=evidence)


def _base(base: ImageUser) -> str:
    return f"the base image runs as {base.shown} ({base.source})"


def _owner_choice(owner: Owner, base: ImageUser | None) -> Choice:
    """The user the build gives its files to: by number when the evidence has it."""
    evidence = f"line {owner.line} gives files to {owner.user}"
    ids = owner_ids(owner, base)
    if ids is not None:
        uid, gid = ids
        user = f"{uid}:{gid}" if gid else uid
        return Choice(
            [f"USER {user}"], f" (the owner of its files, {owner.user})", evidence=evidence
        )
    user = f"{owner.user}:{owner.group}" if owner.group else owner.user
    return Choice([f"USER {user}"], " (the owner of its files)", evidence=evidence)


def _created_choice(created: CreatedUser, doc: Dockerfile, chain: list[Stage], uid: int) -> Choice:
    evidence = f"the Dockerfile creates {created.name}"
    if created.uid is not None and created.uid.isdigit():
        user = f"{created.uid}:{created.gid or created.uid}"
        return Choice([f"USER {user}"], evidence=f"{evidence} with uid {created.uid}")
    if created.uid is not None:
        return _variable_choice(created, doc, chain)
    if created.ins is None:
        return Choice([f"USER {created.name}"], evidence=evidence)
    # The user gets the configured UID where it is created, so USER can be numeric
    # (a name cannot be verified by Kubernetes' runAsNonRoot).
    option = f" --uid {uid}" if created.long_options else f" -u {uid}"
    at = created.ins.logical.span_of(created.tool_end, created.tool_end).start
    group = f":{created.gid}" if created.gid and created.gid.isdigit() else ""
    note = f" (reusing {created.name}, given UID {uid})"
    return Choice([f"USER {uid}{group}"], note, (Edit.insert(at, option),), evidence=evidence)


def _variable_choice(created: CreatedUser, doc: Dockerfile, chain: list[Stage]) -> Choice:
    """``useradd -u ${UID}``: USER names the same build argument when the final stage sees
    it, else the number it expands to; never a second ``--uid``."""
    assert created.uid is not None and created.ins is not None
    scope = _in_scope(doc, chain)
    evidence = (
        f"the Dockerfile creates {created.name} with uid {created.uid} (line {created.ins.line})"
    )
    if set(_VAR.findall(created.uid)) <= scope:
        gid = created.gid
        group = f":{gid}" if gid and (gid.isdigit() or set(_VAR.findall(gid)) <= scope) else ""
        return Choice(
            [f"USER {created.uid}{group}"], f" (reusing {created.name})", evidence=evidence
        )
    stage = next(s for s in chain if created.ins in s.body)
    value = expand(created.uid, stage_variables(doc, stage))
    if value is not None and value.isdigit() and value != "0":
        return Choice([f"USER {value}"], f" (reusing {created.name})", evidence=evidence)
    first = _VAR.findall(created.uid)[0]
    needs = (
        f"the uid of {created.name} (created with {created.uid} at line {created.ins.line}); "
        f"declare `ARG {first}` in the final stage so USER can name it"
    )
    return Choice([f"USER {created.name}"], f" (reusing {created.name})", needs=needs)


def _in_scope(doc: Dockerfile, chain: list[Stage]) -> set[str]:
    """Variables a USER of the final stage can use: its ARGs, and ENVs of the stages it is
    built on (ARGs do not cross stages; ENVs do)."""
    names: set[str] = set()
    for stage in chain:
        for ins in stage.body:
            if ins.keyword == "ENV" or (ins.keyword == "ARG" and stage is chain[0]):
                names.update(kv.key for kv in key_values(ins))
    return names


def _files_only(chain: list[Stage], folder: Path) -> bool:
    """A scratch image with no ENTRYPOINT or CMD whose every COPY/ADD fills a folder
    (``COPY --from=rpm-build /nginx /``; an OLM bundle's ``COPY manifests /manifests``, a
    folder of the build context), none a ``bin`` one: files for other images (nginx's
    ppc64le RPMs, operator bundles), not something to run. A program copied to a file path
    (``COPY app /app``, contour's ``/bin/contour``, run by its manifests' command) runs."""
    bundle = any(
        ins.keyword == "LABEL" and "operators.operatorframework.io.bundle." in ins.value
        for stage in chain
        for ins in stage.body
    )  # an OLM bundle: manifests and metadata, often generated before the build
    for stage in chain:
        for ins in stage.body:
            if ins.keyword in ("ENTRYPOINT", "CMD"):
                return False
            if ins.keyword in ("COPY", "ADD") and not bundle:
                words = arguments(ins)
                target = words[-1] if words else ""
                if re.search(r"(?:^|/)s?bin(?:/|$)", target):
                    return False
                if not target.endswith("/") and not _context_folders(ins, words[:-1], folder):
                    return False
    return True


def _context_folders(ins: Instruction, sources: list[str], folder: Path) -> bool:
    """Every source of a COPY from the build context is a folder next to the Dockerfile."""
    if "from" in ins.flags or not sources:
        return False
    return all(
        "://" not in s and ".." not in s and (folder / s.strip("/")).is_dir() for s in sources
    )


def _create_command(family: Family, image: str, uid: int, gid: int) -> str | None:
    """The command creating the user, in a group of its own (or in the root group for gid
    0: no group is made)."""
    group = f"groupadd --gid {gid} {NAME} && " if gid else ""
    if family is Family.DEBIAN:
        return (
            f"{group}useradd --no-log-init --create-home --uid {uid} "
            f"--gid {gid} --shell /usr/sbin/nologin {NAME}"
        )
    if family is Family.RHEL and not re.search(r"minimal|micro", image.lower()):
        return (
            f"{group}useradd --no-log-init --create-home --uid {uid} "
            f"--gid {gid} --shell /sbin/nologin {NAME}"
        )
    if family is Family.ALPINE:
        group = f"addgroup -S -g {gid} {NAME} && " if gid else ""
        return f"{group}adduser -S -D -u {uid} -G {NAME if gid else 'root'} -s /sbin/nologin {NAME}"
    return None


#: ``chgrp -R 0 /app`` (or ``root``, or ``chown -R 1001:0``): files given to group 0, and a
#: ``chmod`` that lets the group write (``g+rwX``, ``g=u``, ``775``): OpenShift's
#: convention for an image any uid runs in group 0 (Katib's trial and suggestion images).
_TO_GROUP_ZERO = re.compile(
    r"\bchgrp\s+(?:-\w+\s+)*(?:0|root)\s|\bchown\s+(?:-\w+\s+)*[^\s:]*:(?:0|root)\s"
)
_GROUP_WRITE = re.compile(
    r"\bchmod\s+(?:-\w+\s+)*(?:[ugoa]*[ga][ugoa]*[+=][rwxXst]*w|[ugoa]*g[ugoa]*=u\b"
    r"|0?[0-7][2367][0-7]\b)"
)


def root_group_line(chain: list[Stage]) -> int | None:
    """The line of the RUN that gives the image's files to group 0, when the build also lets
    that group write them: the files are meant for any uid in group 0, so a new user keeps
    group 0 (as 10001:10001 it could not write them: Katib's pytorch-mnist downloads its
    dataset into its group-0 WORKDIR)."""
    given: int | None = None
    writable = False
    for stage in chain:
        for ins in stage.body:
            if ins.keyword != "RUN" or "ch" not in ins.value:
                continue
            if given is None and _TO_GROUP_ZERO.search(ins.value + " "):
                given = ins.line
            writable = writable or _GROUP_WRITE.search(ins.value) is not None
    return given if writable else None


def _created_user(chain: list[Stage]) -> CreatedUser | None:
    """The last non-root user the Dockerfile creates with useradd/adduser, if any."""
    found: CreatedUser | None = None
    groups: dict[str, str] = {"root": "0"}  # ``--ingroup root``: the group every image has
    for stage in reversed(chain):
        for ins in stage.body:
            # groupadd, addgroup, useradd and adduser all hold "add": a RUN without it
            # creates no user or group.
            if ins.keyword != "RUN" or "add" not in ins.value:
                continue
            for start, command in _commands(ins.value):
                words = command.split()
                if not words:
                    continue
                tool = words[0].rsplit("/", 1)[-1]
                if tool in ("groupadd", "addgroup") and len(words) > 1:
                    gid = _GID_OPT.search(command)
                    if gid:
                        groups[words[-1]] = gid.group(1)
                elif tool in ("useradd", "adduser") and len(words) > 1:
                    user = _parse_useradd(words, command, groups)
                    if user is not None:
                        tool_end = start + command.index(words[0]) + len(words[0])
                        long = tool == "useradd" or any(w.startswith("--") for w in words)
                        found = replace(user, ins=ins, tool_end=tool_end, long_options=long)
    return found


def _copied_user(doc: Dockerfile, chain: list[Stage]) -> CreatedUser | None:
    """A user with a numeric uid created in an earlier stage whose ``/etc/passwd`` the
    shipped stages copy (Emissary's final stage: ``COPY --from=emissary-factory /etc/passwd
    /etc/passwd``, where ``adduser ambassador --uid 8888 --ingroup root`` ran: "This is
    what we recommend people run as"). Its line is in another stage: USER names it by
    number, nothing is inserted there."""
    by_name = {s.name.lower(): s for s in doc.stages if s.name}
    for stage in reversed(chain):
        for ins in reversed(stage.body):
            if ins.keyword != "COPY" or "passwd" not in ins.value:
                continue
            source = by_name.get(ins.flags.get("from", "").lower())
            words = [w for w in ins.value.split() if not w.startswith("--")]
            if source is None or "/etc/passwd" not in words[:-1]:
                continue
            user = _created_user(parent_stages(doc, source))
            if user is not None and user.uid is not None and user.uid.isdigit():
                return replace(user, ins=None)
    return None


def _commands(value: str) -> Iterator[tuple[int, str]]:
    """(offset, text) of each simple command of a RUN's logical text."""
    start = 0
    for m in _SPLIT.finditer(value):
        yield start, value[start : m.start()]
        start = m.end()
    yield start, value[start:]


def _parse_useradd(words: list[str], command: str, groups: dict[str, str]) -> CreatedUser | None:
    name = words[-1]
    if name.startswith("-") or name in ("root", "0") or "$" in name:
        return None
    uid = _UID_OPT.search(command)
    if uid and uid.group(1) == "0":
        return None
    group = _GROUP_OPT.search(command)
    gid_value = None
    if group:
        named = group.group(1)
        gid_value = named if named.isdigit() or named.startswith("$") else groups.get(named)
    return CreatedUser(name, uid.group(1) if uid else None, gid_value)


def _insert(doc: Dockerfile, stage: Stage, lines: list[str]) -> Edit:
    """Insert before the trailing EXPOSE/CMD/ENTRYPOINT/HEALTHCHECK block of the stage,
    above the comments that introduce it; at the end of the file when there is none."""
    body = list(stage.instructions)
    first = len(body)
    while first > 1 and body[first - 1].keyword in _TRAILING:
        first -= 1
    nl = doc.source.newline
    if first < len(body):
        target = body[first]
        line = target.line
        while line - 1 in doc.comments and line - 1 > body[first - 1].end_line:
            line -= 1
        pad = indentation(doc.lines.line_text(target.line))
        return Edit.insert(doc.lines.line_start(line), "".join(pad + ln + nl for ln in lines))
    last = body[-1]
    at = doc.lines.line_end(last.end_line, with_newline=True)
    pad = indentation(doc.lines.line_text(last.line))
    if at == len(doc.text) and not doc.text.endswith("\n"):
        return Edit.insert(at, "".join(nl + pad + ln for ln in lines))
    return Edit.insert(at, "".join(pad + ln + nl for ln in lines))
