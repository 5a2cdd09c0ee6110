"""DF003 reads (tokenizes) a shipped RUN's script only when an answer needs it: a RUN that
cannot name a tool is not read to look for installs, nor an earlier RUN to look for a
removal after an install. The edge cases are spellings a too-eager skip would miss."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.documents import dockerfile
from fixer.documents.text import SourceText
from fixer.rule import Context
from fixer.settings import Settings
from rules.tools import NetworkTools
from rules.tools.plan import decide, installs
from rules.tools.steps import Build, analyse

_TOOLS = ("curl", "wget", "netcat*")


def _build(text: str) -> Build:
    doc = dockerfile.parse(SourceText(text))
    return analyse(doc, doc.stages)


def _messages(text: str) -> list[str]:
    ctx = Context(dockerfile.parse(SourceText(text)), Path("Dockerfile"), Settings.of())
    return [f.message for f in NetworkTools().check(ctx)]


def test_a_run_naming_no_tool_is_not_read_for_installs() -> None:
    build = _build(
        "FROM debian\nRUN apt-get update && apt-get install -y git\nRUN apt-get install -y curl\n"
    )
    found = list(installs(build, _TOOLS))
    assert [(i.step.ins.line, i.name) for i in found] == [(3, "curl")]
    assert build.steps[0]._unread is not None  # never tokenized


def test_an_earlier_run_is_not_read_for_a_later_removal() -> None:
    build = _build(
        "FROM debian\nRUN apt-get install -y git\nRUN apt-get install -y curl\n"
        "RUN apt-get purge -y curl\n"
    )
    (install,) = installs(build, _TOOLS)
    assert decide(build, install) is None  # removed again by line 4
    assert build.steps[0]._unread is not None


@pytest.mark.parametrize(
    "run",
    [
        'RUN apt-get install -y "cu"rl',
        "RUN apt-get install -y c\\url",
        "RUN apt-get install -y 'CURL'",
        "RUN apt-get install -y cu\\\nrl",
        "RUN apt-get install -y \\\n# a comment\n    curl=7.88.1-10",
        'RUN ["apt-get", "install", "-y", "\\u0063url"]',
        'RUN <<EOF\napt-get install -y c"ur"l\nEOF',
        "RUN apk add --virtual .deps net'cat'-openbsd",
    ],
)
def test_a_tool_spelled_with_quotes_escapes_or_continuations_is_still_found(run: str) -> None:
    messages = _messages(f'FROM debian\n{run}\nCMD ["app"]\n')
    assert len(messages) == 1
    assert "network tool" in messages[0]
    assert messages[0].split()[0] in ("curl", "netcat-openbsd")


def test_a_later_removal_spelled_with_quotes_still_counts() -> None:
    build = _build("FROM debian\nRUN apt-get install -y curl\nRUN apt-get purge -y 'cu'rl\n")
    (install,) = installs(build, _TOOLS)
    assert decide(build, install) is None
