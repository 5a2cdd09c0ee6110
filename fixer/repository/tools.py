"""Does the image's runtime call a tool? Word matches in scripts and container commands.

A word match, not a substring: ``curl`` matches ``curl -fsS``, ``/usr/bin/curl`` and
``$(curl ...)`` but not ``libcurl`` or ``curl-config``. Reasons never quote the line: a
command line may carry a token (``curl -H "Authorization: ..."``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from fixer.repository.model import Evidence, Run

#: More hits in one file add nothing to the judgement.
MAX_PER_FILE = 5


def word_pattern(tool: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.+-]){re.escape(tool)}(?![\w+-])")


def code_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, code) of a shell script's lines, without its ``#`` comments: comment
    lines are left out, and what follows `` #`` on a line."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.lstrip().startswith("#"):
            yield number, line.split(" #", 1)[0]


def in_script(path: Path, text: str, tool: str, why: str) -> list[Evidence]:
    """Lines of a shell script that call ``tool`` (comments do not count)."""
    pattern = word_pattern(tool)
    found: list[Evidence] = []
    for number, code in code_lines(text):
        if not pattern.search(code):
            continue
        found.append(Evidence(path, number, f"{why} calls {tool}"))
        if len(found) >= MAX_PER_FILE:
            break
    return found


def in_runs(runs: Iterable[Run], tool: str) -> list[Evidence]:
    """Containers whose command/args call ``tool`` (``sh -c "curl ..."`` included)."""
    pattern = word_pattern(tool)
    found: list[Evidence] = []
    for run in runs:
        words = (*(run.command or ()), *(run.args or ()))
        if any(pattern.search(word) for word in words):
            via = f" (merged from patch onto {run.base})" if run.base else ""
            found.append(Evidence(run.path, run.line, f"{run.label} calls {tool}{via}"))
        elif any(pattern.search(word) for word in run.check):
            why = f"{run.label} calls {tool} in its healthcheck"
            found.append(Evidence(run.path, run.check_line, why))
    return found
