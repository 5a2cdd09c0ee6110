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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fixer.repository.names import UNKNOWN, expand_make, expand_shell

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
    #: ``-o/--output`` was given: the build's files are exported, the image is not run.
    exported: bool = False


@dataclass(frozen=True)
class RunCommand:
    """One ``docker run`` invocation: the image and what it is given from the host.

    ``mounts`` are the host folders bind-mounted into the container (``-v $(pwd):/src``,
    ``--mount type=bind,source=...``): a container that writes them writes the user's
    files, as whatever user it runs as. ``user`` is the ``-u/--user`` value, if any.
    """

    line: int
    image: str
    mounts: tuple[str, ...]
    user: str | None
    #: The program the run passes after the image (its last path part), "" for none (the
    #: image's own command runs).
    program: str = ""


@dataclass(frozen=True)
class ImageSet:
    """``kustomize edit set image NAME=NEW`` run in ``folder`` (the ``cd`` before it, "."
    for none): the Kustomization there renders ``NAME`` as ``NEW`` (kubebuilder's ``make
    deploy``: ``cd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}``)."""

    line: int
    folder: str
    name: str
    new_name: str


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
    return [c for line, shell in _make_lines(text, _mentions_builder) for c in in_line(shell, line)]


def in_script(text: str, known: dict[str, str] | None = None) -> list[BuildCommand]:
    """Build commands in a shell script (or CI script lines), with the script's own simple
    ``NAME=value`` assignments made above each command."""
    lines = _script_lines(text, known, _mentions_builder)
    return [c for line, shell in lines for c in in_line(shell, line)]


def runs_in_makefile(text: str) -> list[RunCommand]:
    """``docker run`` commands in a Makefile's recipes (variables expanded as for builds)."""
    return [
        c for line, shell in _make_lines(text, _mentions_run) for c in runs_in_line(shell, line)
    ]


def runs_in_script(text: str) -> list[RunCommand]:
    """``docker run`` commands in a shell script."""
    lines = _script_lines(text, None, _mentions_run)
    return [c for line, shell in lines for c in runs_in_line(shell, line)]


#: ``$(shell command -v docker ...)``, ``$(shell which podman)``: a program looked up on PATH.
_SHELL_LOOKUP = re.compile(r"^\$\(shell\s+(?:command\s+-v|which|type\s+-p)\s+([\w.-]+)[^)]*\)$")
_RECIPE_PREFIX = re.compile(r"^\t[ \t@+-]*[@+-][ \t]*")


def _make_lines(text: str, wanted: Callable[[str], bool]) -> Iterator[tuple[int, str]]:
    """The recipe lines ``wanted`` picks, with the Makefile's variables expanded."""
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
        # ``DOCKER := $(shell command -v docker 2> /dev/null)`` (argo-events): the program
        # found on PATH, by its name.
        found = _SHELL_LOOKUP.search(assigned)
        if found is not None:
            assigned = found.group(1)
        variables[name] = variables.get(name, "") + " " + assigned if op == "+=" else assigned
    for line, recipe in recipes:
        # make's own prefixes are not the shell's: ``@`` (silent), ``-`` (errors ignored),
        # ``+`` (run under -n): ``@docker build -t $(IMAGE) .`` is a docker build.
        recipe = _RECIPE_PREFIX.sub("", recipe, count=1)
        # Expanded first: `$(DOCKER_CMD) build` names its builder through a variable.
        shell = expand_shell(expand_make(recipe, variables), lambda _name: None)
        if wanted(shell):
            yield line, shell


def _script_lines(
    text: str, known: dict[str, str] | None, wanted: Callable[[str], bool]
) -> Iterator[tuple[int, str]]:
    """The lines ``wanted`` picks, with the script's assignments above each expanded."""
    variables: dict[str, str] = dict(known or {})
    for line, value in logical_lines(text):
        assign = _SHELL_ASSIGN.match(value)
        if assign is not None:
            name, raw = assign.groups()
            words = _split(expand_shell(raw, variables.get))
            if len(words) == 1:
                variables[name] = words[0]
            continue
        if wanted(value):
            yield line, expand_shell(value, variables.get)


def image_sets_in_makefile(text: str) -> list[ImageSet]:
    """``kustomize edit set image`` renames in a Makefile's recipes, variables expanded."""
    return [
        c
        for line, shell in _make_lines(text, _mentions_image_set)
        for c in _image_sets(shell, line)
    ]


def image_sets_in_script(text: str) -> list[ImageSet]:
    """``kustomize edit set image`` renames in a shell script."""
    lines = _script_lines(text, None, _mentions_image_set)
    return [c for line, shell in lines for c in _image_sets(shell, line)]


def _mentions_image_set(text: str) -> bool:
    return "set image" in text and "edit" in text


def _image_sets(text: str, line: int) -> Iterator[ImageSet]:
    """The ``NAME=NEW`` arguments of each ``edit set image`` in one expanded shell line,
    with the folder of the last ``cd`` before it in the same line."""
    tokens = _split(text)
    folder = "."
    for i, token in enumerate(tokens):
        if token == "cd" and (i == 0 or _is_operator(tokens[i - 1])) and i + 1 < len(tokens):
            folder = tokens[i + 1]
        if tokens[i : i + 3] != ["edit", "set", "image"] or i == 0:
            continue
        if "kustomize" not in tokens[i - 1] and UNKNOWN not in tokens[i - 1]:
            continue
        for word in tokens[i + 3 :]:
            if _is_operator(word):
                break
            name, eq, new_name = word.partition("=")
            if eq and name and new_name and not name.startswith("-"):
                yield ImageSet(line, folder, name, new_name)


def _mentions_builder(text: str) -> bool:
    return ("build" in text or "bud" in text) and any(b in text for b in (*_BUILDERS, "buildah"))


def _mentions_run(text: str) -> bool:
    return " run" in text and any(b in text for b in _BUILDERS)


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
    """Where the build's arguments start when ``tokens[index]`` begins a build command
    (after an operator, ``sudo``, or the command's own ``NAME=value`` environment:
    ``DOCKER_BUILDKIT=1 docker build``)."""
    program = tokens[index].rsplit("/", 1)[-1]
    before = index
    while before > 0 and _ENV_WORD.match(tokens[before - 1]):
        before -= 1
    if before > 0 and not _is_operator(tokens[before - 1]) and tokens[before - 1] != "sudo":
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


_ENV_WORD = re.compile(r"^[A-Za-z_]\w*=\S*$")


def _is_operator(token: str) -> bool:
    return bool(token) and all(c in _PUNCTUATION for c in token)


def _options(tokens: list[str], start: int, line: int) -> BuildCommand:
    values: dict[str, list[str]] = {"-f": [], "-t": [], "--target": [], "-o": []}
    aliases = {"--file": "-f", "--tag": "-t", "--output": "-o"}
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
        elif token[:2] in ("-f", "-t", "-o") and len(token) > 2 and not token.startswith("--"):
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
        exported=_exports(values["-o"]),
    )


def _exports(outputs: list[str]) -> bool:
    """``--output`` that writes files (``.``, ``type=local,dest=out``, ``type=tar``), not
    one that loads or pushes an image (``type=docker``, ``type=image``, ``type=registry``)."""
    for output in outputs:
        kinds = [p.split("=", 1)[1] for p in output.split(",") if p.startswith("type=")]
        if not kinds or kinds[0] in ("local", "tar"):
            return True
    return False


#: ``docker run`` options that take a value (the image is the first word that is not one).
_RUN_VALUE_FLAGS = frozenset(
    [
        "-v",
        "--volume",
        "--mount",
        "-e",
        "--env",
        "--env-file",
        "-p",
        "--publish",
        "-w",
        "--workdir",
        "--name",
        "-u",
        "--user",
        "--entrypoint",
        "--network",
        "--net",
        "-l",
        "--label",
        "--platform",
        "--add-host",
        "-h",
        "--hostname",
        "--cpus",
        "-m",
        "--memory",
        "--device",
        "--cap-add",
        "--cap-drop",
        "--security-opt",
        "--ulimit",
        "--log-driver",
        "--log-opt",
        "--restart",
        "--tmpfs",
        "--dns",
        "--gpus",
        "--pull",
        "--ipc",
        "--pid",
        "--shm-size",
        "--group-add",
        "--cidfile",
        "--label-file",
        "--health-cmd",
        "--stop-signal",
        "--stop-timeout",
        "--runtime",
        "--userns",
        "--volumes-from",
        "--link",
        "--expose",
        "--mac-address",
        "--ip",
        "--ip6",
        "--network-alias",
        "-a",
        "--attach",
        "--cgroupns",
        "--cgroup-parent",
        "--device-cgroup-rule",
        "--uts",
        "--isolation",
        "--init-path",
    ]
)


def runs_in_line(text: str, line: int) -> list[RunCommand]:
    """Every ``docker run``/``podman run``/``docker container run`` in one expanded line."""
    tokens = _split(text)
    found: list[RunCommand] = []
    for index, token in enumerate(tokens):
        if token.rsplit("/", 1)[-1] not in _BUILDERS:
            continue
        if index > 0 and not _is_operator(tokens[index - 1]) and tokens[index - 1] != "sudo":
            continue
        rest = tokens[index + 1 : index + 3]
        start = (
            index + 2
            if rest[:1] == ["run"]
            else index + 3
            if rest == ["container", "run"]
            else None
        )
        if start is not None:
            run = _run_options(tokens, start, line)
            if run is not None:
                found.append(run)
    return found


def _run_options(tokens: list[str], start: int, line: int) -> RunCommand | None:
    mounts: list[str] = []
    user: str | None = None
    i = start
    while i < len(tokens) and not _is_operator(tokens[i]):
        token = tokens[i]
        name, eq, attached = token.partition("=")
        if token.startswith("--") and eq:
            flag, value = name, attached
        elif token in _RUN_VALUE_FLAGS and i + 1 < len(tokens):
            flag, value = token, tokens[i + 1]
            i += 1
        elif token[:2] in ("-v", "-u") and len(token) > 2 and not token.startswith("--"):
            flag, value = token[:2], token[2:]
        elif token.startswith("-"):
            i += 1
            continue
        elif token == UNKNOWN and i + 1 < len(tokens) and tokens[i + 1].startswith("-"):
            i += 1  # a variable of flags (``${RM_FLAG} -v ...``): options go on
            continue
        else:
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            program = "" if not after or _is_operator(after) else after.rsplit("/", 1)[-1]
            return RunCommand(line, token, tuple(mounts), user, program)
        if flag in ("-v", "--volume"):
            host, *rest = value.split(":")
            writable = not (len(rest) > 1 and "ro" in rest[1].split(","))
            # A path (or a computed one: $(pwd), ${PWD}; a placeholder documentation asks
            # the reader to fill in: {{your_data_location}}), not a named volume.
            if rest and writable and host.startswith((".", "/", "~", "$", "`", "{{", UNKNOWN)):
                mounts.append(host)
        elif flag == "--mount":
            parts = dict(p.partition("=")[::2] for p in value.split(","))
            if parts.get("type") == "bind" and not {"readonly", "ro"} & parts.keys():
                mounts.append(parts.get("source") or parts.get("src") or "?")
        elif flag in ("-u", "--user"):
            user = value
        i += 1
    return None
