"""DF003 network-tools: what it reports, what it refuses, and that its fixes converge.

The golden pairs live in fixtures/DF003 (run by test_fixtures.py); these tests cover the
decisions behind them and a property test over generated RUN instructions.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixer.documents import dockerfile
from fixer.documents.shell import ShellError
from fixer.documents.text import SourceText
from fixer.engine import FileResult, process_text
from fixer.rule import Context
from fixer.settings import Settings
from rules.tools import NetworkTools
from rules.tools.run_script import Unsupported, run_script
from tests.helpers import RULES

SELECT = Settings.of(select=frozenset({"DF003"}))


def fix(text: str, config: Settings = SELECT) -> FileResult:
    return process_text(
        Path("Dockerfile"),
        "dockerfile",
        SourceText(text),
        config,
        rules=RULES,
        fix=True,
        resolutions={},
    )


def check(text: str, config: Settings = SELECT) -> tuple[list[tuple[str, str]], list[str]]:
    """(message, reason) of each finding, and the notices."""
    ctx = Context(dockerfile.parse(SourceText(text)), Path("Dockerfile"), config)
    found = [(f.message, f.reason) for f in NetworkTools().check(ctx)]
    return found, ctx.notices


def reasons(text: str) -> list[str]:
    return [reason for _, reason in check(text)[0]]


# --- what ships -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "FROM golang AS build\nRUN apt-get install -y curl\nFROM scratch\nCOPY --from=build /x /x\n",
        "FROM alpine\nRUN apk add --virtual .d curl && curl -o /x y && apk del .d\n",
        "FROM debian\nRUN apt-get install -y wget\nRUN apt-get purge -y wget\n",
        "FROM debian\nRUN apt-get install -y wget && dpkg --purge wget\n",
        "FROM debian\nRUN apt-get install -y wget; apt-mark auto '.*'; apt-get purge -y --auto-remove\n",
        "FROM debian\nRUN apt-get install -y git\n",
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN choco install curl\n",
    ],
)
def test_nothing_shipped_nothing_reported(text: str) -> None:
    assert check(text) == ([], [])


def test_apt_mark_manual_keeps_a_package() -> None:
    text = (
        "FROM debian\nRUN apt-get install -y wget; apt-mark auto '.*'; apt-mark manual wget;"
        " apt-get purge -y --auto-remove\n"
    )
    assert len(check(text)[0]) == 1


def test_parent_stage_of_the_final_stage_ships() -> None:
    result = fix("FROM debian AS base\nRUN apt-get install -y curl git\nFROM base\nCMD x\n")
    assert result.text == "FROM debian AS base\nRUN apt-get install -y git\nFROM base\nCMD x\n"
    assert "stage base (the final stage is built on it)" in result.found[0].message


def test_configured_tools_are_globs() -> None:
    config = Settings.of(select=frozenset({"DF003"}), tools=("vim*",))
    result = fix("FROM debian\nRUN apt-get install -y vim-tiny curl\n", config)
    assert result.text == "FROM debian\nRUN apt-get install -y curl\n"


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "FROM nginx\nRUN apt-get install -y curl\nHEALTHCHECK CMD curl -f http://localhost/\n",
            "HEALTHCHECK uses curl",
        ),
        ("FROM alpine\nRUN apk add socat\nCMD socat TCP-L:1 -\n", "CMD uses socat"),
        (
            'FROM alpine\nRUN apk add openssh\nENTRYPOINT ["/usr/sbin/sshd", "-D"]\n',
            "ENTRYPOINT uses sshd",
        ),
        (
            "FROM debian AS base\nRUN apt-get install -y curl\n"
            "FROM base AS tools\nRUN curl -o /x y\nFROM base\nCMD x\n",
            "build stage tools uses curl",
        ),
        (
            "FROM debian\nRUN apt-get install -y wget\nUSER 1000\nRUN wget x\n",
            "used at line 4 as another USER",
        ),
        (
            "FROM alpine\nRUN apk add --virtual .t curl\nRUN curl -o /x y\n",
            "used at line 3, installed in virtual package .t",
        ),
        (
            'FROM debian\nRUN ["apt-get", "install", "-y", "curl"]\n',
            "exec-form RUN (edit it by hand)",
        ),
        (
            "FROM debian\n# curl for the healthcheck in compose.yaml\nRUN apt-get install -y curl\n",
            "a comment says it serves health checks",
        ),
        (
            "FROM fedora\nRUN dnf install -y openssh-server\n"
            "RUN sed -i 's/#PermitRootLogin.*/PermitRootLogin no/' /etc/ssh/sshd_config\n",
            "line 3 configures it, so it looks needed at run time",
        ),
        (
            "FROM debian\nRUN apt-get install -y curl\nRUN curl x &\n",
            "the RUN at line 3 that uses it does not end in a command",
        ),
    ],
)
def test_refusals_say_why(text: str, reason: str) -> None:
    assert reasons(text) == [reason]
    assert not fix(text).changed


def test_programs_that_run_the_tool_count_as_uses() -> None:
    text = "FROM alpine\nRUN apk add wget lua\nRUN luarocks install x\n"
    assert (
        fix(text).text
        == "FROM alpine\nRUN apk add wget lua\nRUN luarocks install x && apk del wget\n"
    )
    text = 'FROM alpine\nRUN apk add rsync openssh-client\nENTRYPOINT ["rsync"]\n'
    assert reasons(text) == ["ENTRYPOINT runs rsync, which uses openssh-client"]
    text = "FROM debian\nRUN apt-get install -y openssh-client\nRUN git clone git@github.com:a/b\n"
    assert fix(text).text.endswith(
        "git@github.com:a/b && apt-get purge -y --auto-remove openssh-client\n"
    )


def test_devcontainers_are_not_checked() -> None:
    ctx = Context(
        dockerfile.parse(SourceText("FROM debian\nRUN apt-get install -y curl\n")),
        Path("repo/.devcontainer/Dockerfile"),
        SELECT,
    )
    assert list(NetworkTools().check(ctx)) == []


def test_runtime_refusal_suggests_a_probe() -> None:
    text = "FROM nginx\nRUN apt-get install -y curl\nHEALTHCHECK CMD curl -f http://localhost/\n"
    (message, _), *_ = check(text)[0]
    assert "httpGet/exec probe" in message


def test_overridden_runtime_instruction_does_not_count() -> None:
    text = 'FROM alpine\nRUN apk add curl\nCMD curl x\nCMD ["app"]\n'
    assert fix(text).text == 'FROM alpine\nCMD curl x\nCMD ["app"]\n'


def test_unread_run_gets_a_notice_once() -> None:
    text = 'FROM debian\nSHELL ["/usr/bin/fish", "-c"]\nRUN apt-get install -y curl\n'
    found, notices = check(text)
    assert found == []
    assert notices == ["DF003: RUN at line 3 left unchanged: RUN runs in SHELL fish"]


# --- fixes ------------------------------------------------------------------------------------


def test_one_fix_per_run_shared_by_its_findings() -> None:
    result = fix("FROM alpine\nRUN apk add curl wget bash\n")
    assert result.text == "FROM alpine\nRUN apk add bash\n"
    assert len(result.found) == 2 and len(result.fixed) == 2
    assert result.found[0].fix == result.found[1].fix
    assert result.found[0].fix is not None
    assert result.found[0].fix.title == "remove curl, wget from apk add"


@pytest.mark.parametrize(
    ("install", "removal"),
    [
        ("apt-get install -y curl", "apt-get purge -y --auto-remove curl"),
        ("apt install -y curl", "apt-get purge -y --auto-remove curl"),
        ("sudo apt-get install -y curl", "sudo apt-get purge -y --auto-remove curl"),
        ("apk add --no-cache curl", "apk del curl"),
        ("yum install -y curl", "yum remove -y curl"),
        ("dnf install -y curl", "dnf remove -y curl"),
        ("microdnf install curl", "microdnf remove curl"),
        ("zypper in -y curl", "zypper --non-interactive remove curl"),
    ],
)
def test_removal_after_last_use_matches_the_manager(install: str, removal: str) -> None:
    text = f"FROM x\nRUN {install}\nRUN curl -o /a b\nRUN curl -o /c d\nCMD app\n"
    expected = f"FROM x\nRUN {install}\nRUN curl -o /a b\nRUN curl -o /c d && {removal}\nCMD app\n"
    assert fix(text).text == expected


def test_removal_and_purge_in_one_run_converge() -> None:
    text = "FROM debian\nRUN apt-get install -y curl wget && curl -o /x y\n"
    result = fix(text)
    assert result.error is None
    assert result.text == (
        "FROM debian\nRUN apt-get install -y curl && curl -o /x y"
        " && apt-get purge -y --auto-remove curl\n"
    )
    assert fix(result.text).text == result.text


def test_two_managers_purging_in_one_run_converge() -> None:
    text = "FROM x\nRUN apt-get install -y curl\nRUN apk add wget\nRUN curl a && wget b\n"
    result = fix(text)
    assert result.error is None and len(result.fixed) == 2
    assert result.text.endswith("apt-get purge -y --auto-remove curl && apk del wget\n") or (
        result.text.endswith("apk del wget && apt-get purge -y --auto-remove curl\n")
    )


def test_install_inside_if_becomes_true() -> None:
    text = 'FROM debian\nRUN if [ -n "$X" ]; then apt-get install -y curl; fi\n'
    assert fix(text).text == 'FROM debian\nRUN if [ -n "$X" ]; then true; fi\n'


def test_install_after_or_becomes_true() -> None:
    text = "FROM debian\nRUN apt-get install -y git || apt-get install -y curl\n"
    assert fix(text).text == "FROM debian\nRUN apt-get install -y git || true\n"


def test_first_command_going_joins_the_next_line() -> None:
    text = "FROM alpine\nRUN apk add --no-cache curl && \\\n    adduser -D app\n"
    assert fix(text).text == "FROM alpine\nRUN adduser -D app\n"


def test_apt_update_stays_unless_its_lists_go_too() -> None:
    kept = fix("FROM debian\nRUN apt-get update && apt-get install -y curl\n")
    assert kept.text == "FROM debian\nRUN apt-get update\n"
    gone = fix(
        "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    )
    assert gone.text == "FROM debian\n"


def test_lists_left_by_an_earlier_run_keep_the_clean_up() -> None:
    text = (
        "FROM debian\nRUN apt-get update\n"
        "RUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    )
    assert fix(text).text == "FROM debian\nRUN apt-get update\nRUN rm -rf /var/lib/apt/lists/*\n"


def test_a_fix_that_fails_verification_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    import rules.tools.fix as tools_fix
    from fixer.model import Edit

    monkeypatch.setattr(tools_fix, "deletion_edits", lambda *a: [Edit.delete(7, 10)])
    text = "FROM x\nRUN apt-get install -y curl git\n"
    assert reasons(text) == ["could not edit this RUN safely; left unchanged"]
    assert not fix(text).changed


def test_bashlex_disagreement_blocks_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import rules.tools.fix as tools_fix

    monkeypatch.setattr(tools_fix, "bashlex_agrees", lambda *a: False)
    assert reasons("FROM x\nRUN apt-get install -y curl git\n") == [
        "bashlex reads this RUN differently; left unchanged"
    ]


# --- property: generated RUN instructions ----------------------------------------------------

_PACKAGES = ["curl", "wget", "git", "ca-certificates", "netcat-openbsd", "curl=7.8", "$EXTRA"]
_COMMANDS = [
    "apt-get update",
    "apt-get install -y {p}",
    "apt-get -y --no-install-recommends install {p}",
    "apk add --no-cache {p}",
    "DEBIAN_FRONTEND=noninteractive apt-get install -y {p}",
    'if [ -n "$X" ]; then apt-get install -y {p}; fi',
    "apt-get install -y git || apt-get install -y {p}",
    "curl -fsSL https://example.com -o /tmp/x",
    "wget -q https://example.com",
    "rm -rf /var/lib/apt/lists/*",
    "echo 'curl is nice'",
    "set -eux",
]
_JOINERS = [" && ", "; ", " && \\\n    ", " \\\n    && ", " \\\n    # note\n    && "]
_SPACES = [" ", " \\\n        "]


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    lines = ["FROM debian:bookworm"]
    for _ in range(draw(st.integers(1, 3))):
        parts = []
        for _ in range(draw(st.integers(1, 4))):
            names = draw(st.lists(st.sampled_from(_PACKAGES), min_size=1, max_size=4))
            spaced = "".join(
                (draw(st.sampled_from(_SPACES)) if i else "") + n for i, n in enumerate(names)
            )
            parts.append(draw(st.sampled_from(_COMMANDS)).format(p=spaced))
        joined = parts[0] + "".join(draw(st.sampled_from(_JOINERS)) + p for p in parts[1:])
        lines.append("RUN " + joined)
    if draw(st.booleans()):
        lines.append("HEALTHCHECK CMD wget -q localhost")
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


def _scripts(text: str) -> list[str]:
    doc = dockerfile.parse(SourceText(text))
    out = []
    for ins in doc.instructions:
        if ins.keyword == "RUN":
            try:
                out.append(run_script(doc, ins).text)
            except (Unsupported, ShellError):
                out.append("")
    return out


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash for `bash -n`")
@given(dockerfiles())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_runs_stay_valid_and_converge(text: str) -> None:
    result = fix(text)
    assert result.error is None, result.error
    again = fix(result.text)
    assert not again.changed, "not idempotent"
    assert not [f for f in again.remaining if f.fix is not None]
    assert result.text.count("git") == text.count("git")
    assert result.text.count("ca-certificates") == text.count("ca-certificates")
    assert result.text.count("$EXTRA") == text.count("$EXTRA")
    for script in _scripts(result.text):
        check_syntax = subprocess.run(["bash", "-n", "-c", script], capture_output=True)
        assert check_syntax.returncode == 0, (script, check_syntax.stderr)


def test_a_copied_script_that_uses_the_tool_keeps_it(tmp_path: Path) -> None:
    """A script COPY'd from the build context is a run-time user the Dockerfile cannot show."""
    from fixer.documents.text import SourceText
    from fixer.engine import process_text
    from fixer.settings import Settings

    dockerfile = tmp_path / "Dockerfile"
    text = "FROM alpine:3.20\nRUN apk add --no-cache bash curl\nCOPY bin/ /usr/local/bin/\n"
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "notify").write_text("#!/bin/sh\ncurl -fsS https://hooks.example/x\n")
    settings = Settings.of(select=frozenset({"DF003"}))
    result = process_text(
        dockerfile, "dockerfile", SourceText(text), settings, rules=RULES, fix=True, resolutions={}
    )
    assert not result.changed
    assert result.remaining[0].reason == "COPY at line 3 copies bin/, which uses curl"
    (tmp_path / "bin" / "notify").write_text("#!/bin/sh\necho done\n")
    result = process_text(
        dockerfile, "dockerfile", SourceText(text), settings, rules=RULES, fix=True, resolutions={}
    )
    assert (
        result.text == "FROM alpine:3.20\nRUN apk add --no-cache bash\nCOPY bin/ /usr/local/bin/\n"
    )
