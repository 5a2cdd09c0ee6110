"""``docker build`` command lines in Makefiles, scripts and CI steps.

Finds ``docker build``/``docker buildx build``/``docker image build``/``podman build``/
``nerdctl build``/``buildah bud`` invocations and reads ``-f/--file``, ``-t/--tag``,
``--target`` and the context argument. Variables are expanded from the file's own simple
assignments first (``IMG ?= x`` in a Makefile, ``IMG=x`` in a script); what stays unknown is
``names.UNKNOWN``, which makes that part unknown rather than guessed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from fixer.repository.names import expand_make, expand_shell

_BUILDERS = frozenset({"docker", "podman", "nerdctl"})
_SUBCOMMANDS = (("build",), ("buildx", "build"), ("image", "build"), ("builder", "build"))
_VALUE_FLAGS = frozenset(
    [
        "-f",
        "--file",
        "-t",
        "--tag",
        "--target",
        "--build-arg",
        "--platform",
        "--label",
        "--cache-from",
        "--cache-to",
        "--secret",
        "--ssh",
        "-o",
        "--output",
        "--progress",
        "--network",
        "--add-host",
        "--iidfile",
        "--metadata-file",
        "--builder",
        "--build-context",
        "--shm-size",
        "--ulimit",
        "--isolation",
        "-m",
        "--memory",
        "--memory-swap",
        "--cgroup-parent",
        "--attest",
        "--annotation",
        "--allow",
        "--sbom",
        "--provenance",
        "--cpu-shares",
        "--cpuset-cpus",
        "--cpuset-mems",
        "--security-opt",
        "--format",
        "--authfile",
        "--jobs",
        "--os",
        "--arch",
        "--variant",
        "--creds",
        "--call",
        "--build-arg-file",
        "--env",
        "--volume",
        "-v",
    ]
)
_PUNCTUATION = ";&|()<>"
_MAKE_ASSIGN = re.compile(
    r"^(?:export\s+|override\s+)*([A-Za-z_][A-Za-z0-9_.-]*)\s*(\?=|::=|:=|\+=|=)\s*(.*?)\s*$"
)
_SHELL_ASSIGN = re.compile(
    r"^\s*(?:export\s+|readonly\s+|local\s+|declare\s+(?:-\w+\s+)*)?([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$"
)


@dataclass(frozen=True)
class BuildCommand:
    """One build invocation: values expanded as far as the file allows (None: not given)."""

    line: int
    dockerfile: str | None
    context: str | None
    tags: tuple[str, ...]
    target: str | None


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with backslash continuations joined, each with its 1-based first line."""
    pending: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            first = number
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(raw)
        yield first, " ".join(pending)
        pending = []
    if pending:
        yield first, " ".join(pending)


def in_makefile(text: str) -> list[BuildCommand]:
    """Build commands in a Makefile's recipes, with its ``VAR ?= / := / =`` values."""
    variables: dict[str, str] = {}
    recipes: list[tuple[int, str]] = []
    for line, value in logical_lines(text):
        if value.startswith("\t"):
            recipes.append((line, value))
            continue
        match = _MAKE_ASSIGN.match(value.split(" #", 1)[0])
        if match is None:
            continue
        name, op, assigned = match.groups()
        if op == "?=" and name in variables:
            continue
        variables[name] = variables.get(name, "") + " " + assigned if op == "+=" else assigned
    found: list[BuildCommand] = []
    for line, recipe in recipes:
        if _mentions_builder(recipe):
            shell = expand_shell(expand_make(recipe, variables), lambda _name: None)
            found.extend(in_line(shell, line))
    return found


def in_script(text: str, known: dict[str, str] | None = None) -> list[BuildCommand]:
    """Build commands in a shell script (or CI script lines), with the script's own simple
    ``NAME=value`` assignments made above each command."""
    variables: dict[str, str] = dict(known or {})
    found: list[BuildCommand] = []
    for line, value in logical_lines(text):
        assign = _SHELL_ASSIGN.match(value)
        if assign is not None:
            name, raw = assign.groups()
            words = _split(expand_shell(raw, variables.get))
            if len(words) == 1:
                variables[name] = words[0]
            continue
        if _mentions_builder(value):
            found.extend(in_line(expand_shell(value, variables.get), line))
    return found


def _mentions_builder(text: str) -> bool:
    return ("build" in text or "bud" in text) and any(b in text for b in (*_BUILDERS, "buildah"))


def in_line(text: str, line: int) -> list[BuildCommand]:
    """Every build invocation in one expanded shell line."""
    tokens = _split(text)
    found: list[BuildCommand] = []
    for index in range(len(tokens)):
        start = _arguments_start(tokens, index)
        if start is not None:
            found.append(_options(tokens, start, line))
    return found


def _split(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=_PUNCTUATION)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: plain words are still useful
        return text.split()


def _arguments_start(tokens: list[str], index: int) -> int | None:
    """Where the build's arguments start when ``tokens[index]`` begins a build command."""
    program = tokens[index].rsplit("/", 1)[-1]
    if index > 0 and not _is_operator(tokens[index - 1]) and tokens[index - 1] != "sudo":
        return None
    if program == "buildah":
        nxt = tokens[index + 1] if index + 1 < len(tokens) else ""
        return index + 2 if nxt in ("bud", "build") else None
    if program not in _BUILDERS:
        return None
    for sub in _SUBCOMMANDS:
        if tuple(tokens[index + 1 : index + 1 + len(sub)]) == sub:
            return index + 1 + len(sub)
    return None


def _is_operator(token: str) -> bool:
    return bool(token) and all(c in _PUNCTUATION for c in token)


def _options(tokens: list[str], start: int, line: int) -> BuildCommand:
    values: dict[str, list[str]] = {"-f": [], "-t": [], "--target": []}
    aliases = {"--file": "-f", "--tag": "-t"}
    positional: list[str] = []
    i = start
    while i < len(tokens) and not _is_operator(tokens[i]):
        token = tokens[i]
        name, eq, attached = token.partition("=")
        if token.startswith("--") and eq:
            values.get(aliases.get(name, name), []).append(attached)
        elif token in _VALUE_FLAGS and i + 1 < len(tokens):
            values.get(aliases.get(token, token), []).append(tokens[i + 1])
            i += 1
        elif token[:2] in ("-f", "-t") and len(token) > 2 and not token.startswith("--"):
            values[token[:2]].append(token[2:])
        elif not token.startswith("-"):
            positional.append(token)
        i += 1
    return BuildCommand(
        line=line,
        dockerfile=values["-f"][-1] if values["-f"] else None,
        context=positional[0] if positional else None,
        tags=tuple(values["-t"]),
        target=values["--target"][-1] if values["--target"] else None,
    )
