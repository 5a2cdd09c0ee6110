"""DF001: the final stage of a Dockerfile runs as root."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from fixer.documents.dockerfile import Dockerfile, Instruction, Stage
from fixer.documents.images import (
    Family,
    expand,
    family_of,
    parent_stages,
    root_image,
    stage_variables,
)
from fixer.documents.text import indentation
from fixer.model import Edit, Finding, Safety
from fixer.rule import Context, Rule

#: Instructions a person puts after USER: the image's run-time metadata.
_TRAILING = frozenset({"EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "LABEL"})
_SPLIT = re.compile(r"&&|\|\||;|\||\n")
_UID_OPT = re.compile(r"(?:^|\s)(?:-u|--uid)(?:\s+|=)(\d+)")
_GID_OPT = re.compile(r"(?:^|\s)(?:-g|--gid)(?:\s+|=)(\d+)")
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
    RUN groupadd --gid 10001 appuser && useradd --no-log-init --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin appuser
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
        last_user = _last_user(chain)
        if last_user is not None and not _is_root(last_user[1], doc, stage):
            return
        anchor = last_user[0] if last_user else stage.from_
        why = "last USER is root" if last_user else "no USER instruction"
        if any(not h.terminated for ins in stage.body for h in ins.heredocs):
            reason = "the file ends inside a heredoc (no terminator line)"
            yield ctx.finding(self, anchor.span, f"final stage runs as root ({why})", reason=reason)
            return
        lines, note, extra = _user_lines(chain, family, image, ctx.settings.uid, ctx.settings.gid)
        if _non_posix_shell(chain):
            # After `SHELL ["pwsh", ...]` a shell-form RUN is PowerShell: say /bin/sh outright.
            lines = [_exec_form(ln) if ln.startswith("RUN ") else ln for ln in lines]
        message = f"final stage runs as root ({why})"
        yield ctx.finding(
            self,
            anchor.span,
            message,
            edits=[_insert(doc, stage, lines), *extra],
            title=f"run the final stage as {lines[-1].split(' ', 1)[1]}{note}",
        )


def _non_posix_shell(chain: list[Stage]) -> bool:
    """The SHELL in effect at the end of the final stage is not a POSIX shell."""
    for stage in chain:
        for ins in reversed(stage.body):
            if ins.keyword == "SHELL":
                first = re.match(r'\s*\[\s*"([^"]+)"', ins.value)
                program = first.group(1).rsplit("/", 1)[-1] if first else ""
                return program not in ("sh", "bash", "ash", "dash", "zsh", "ksh", "busybox")
    return False


def _exec_form(run: str) -> str:
    return "RUN " + json.dumps(["/bin/sh", "-c", run[len("RUN ") :]])


def _last_user(chain: list[Stage]) -> tuple[Instruction, str] | None:
    for stage in chain:
        for ins in reversed(stage.body):
            if ins.keyword == "USER":
                return ins, ins.value.strip()
    return None


def _is_root(value: str, doc: Dockerfile, stage: Stage) -> bool:
    expanded = expand(value, stage_variables(doc, stage))
    if expanded is None:  # a build-time variable we cannot see: do not guess
        return False
    user = expanded.split(":", 1)[0].strip()
    return user in ("root", "0", "")


def _user_lines(
    chain: list[Stage], family: Family, image: str, uid: int, gid: int
) -> tuple[list[str], str, list[Edit]]:
    """The instructions to add, a note for the fix title, and any edit elsewhere."""
    created = _created_user(chain)
    if created is not None:
        if created.uid is not None:
            return [f"USER {created.uid}:{created.gid or created.uid}"], "", []
        if created.ins is not None:
            # The user gets the configured UID where it is created, so USER can be numeric
            # (a name cannot be verified by Kubernetes' runAsNonRoot).
            option = f" --uid {uid}" if created.long_options else f" -u {uid}"
            at = created.ins.logical.span_of(created.tool_end, created.tool_end).start
            group = f":{created.gid}" if created.gid else ""
            note = f" (reusing {created.name}, given UID {uid})"
            return [f"USER {uid}{group}"], note, [Edit.insert(at, option)]
    if family is Family.DISTROLESS:
        return ["USER 65532:65532"], " (distroless nonroot)", []
    create = _create_command(family, image, uid, gid)
    if create is None:
        return [f"USER {uid}:{gid}"], "", []
    return [f"RUN {create}", f"USER {uid}:{gid}"], "", []


def _create_command(family: Family, image: str, uid: int, gid: int) -> str | None:
    if family is Family.DEBIAN:
        return (
            f"groupadd --gid {gid} {NAME} && useradd --no-log-init --uid {uid} --gid {gid} "
            f"--no-create-home --shell /usr/sbin/nologin {NAME}"
        )
    if family is Family.RHEL and not re.search(r"minimal|micro", image.lower()):
        return (
            f"groupadd --gid {gid} {NAME} && useradd --no-log-init --uid {uid} --gid {gid} "
            f"--no-create-home --shell /sbin/nologin {NAME}"
        )
    if family is Family.ALPINE:
        return (
            f"addgroup -S -g {gid} {NAME} && adduser -S -D -H -u {uid} -G {NAME} "
            f"-s /sbin/nologin {NAME}"
        )
    return None


def _created_user(chain: list[Stage]) -> CreatedUser | None:
    """The last non-root user the Dockerfile creates with useradd/adduser, if any."""
    found: CreatedUser | None = None
    groups: dict[str, str] = {}
    for stage in reversed(chain):
        for ins in stage.body:
            if ins.keyword != "RUN":
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
        gid_value = group.group(1) if group.group(1).isdigit() else groups.get(group.group(1))
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
