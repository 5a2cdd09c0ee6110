"""What a Dockerfile copies in from its build context, and which file its entrypoint runs.

Only what reaches the shipped stage counts: the stage's own ``COPY``/``ADD`` from the
context (and its ``FROM <stage>`` parents'), plus the context files an earlier stage copied
in and the shipped stage then takes with ``COPY --from=<stage> <path>``. A builder stage's
``COPY . .`` followed by ``COPY --from=builder /out/app /app`` ships no context file.

Results are context-relative POSIX paths; ``"."`` stands for the whole context.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass

from fixer.documents.dockerfile import Dockerfile, Instruction, Stage, parent_stages, unquote, words
from fixer.documents.dockerfile.images import expand, stage_variables

WHOLE = "."
_WRAPPERS = frozenset(
    [
        "sh",
        "bash",
        "ash",
        "dash",
        "zsh",
        "env",
        "exec",
        "tini",
        "dumb-init",
        "catatonit",
        "su-exec",
        "gosu",
        "--",
        "/usr/bin/env",
    ]
)
_PATH_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin")
_MAX_DEPTH = 6
#: Whether a context-relative path is a folder (one stat, asked at query time only).
IsDir = Callable[[str], bool]


@dataclass(frozen=True)
class CopyStep:
    """One COPY/ADD: ``sources`` are context-relative (or, with ``from_stage``, paths in that
    stage); ``dest`` is absolute in the image; ``into_dir`` when the sources land inside it."""

    stage: int
    sources: tuple[str, ...]
    dest: str
    into_dir: bool
    from_stage: int | None
    line: int


@dataclass(frozen=True)
class Analysis:
    """The copy steps of every stage, each stage's workdir, and the shipped stage's
    ENTRYPOINT/CMD words (inherited through ``FROM <stage>``)."""

    steps: tuple[CopyStep, ...]
    chains: dict[int, tuple[int, ...]]  # stage -> itself and the stages it is built FROM
    workdirs: dict[int, str]
    shipped: int
    entry: tuple[str, ...]


def analyse(doc: Dockerfile, target: str | None = None) -> Analysis | None:
    stages = doc.stages
    if not stages:
        return None
    by_name = {s.name.lower(): s.index for s in stages if s.name}
    shipped = by_name.get(target.lower(), stages[-1].index) if target else stages[-1].index
    chains = {s.index: tuple(p.index for p in parent_stages(doc, s)) for s in stages}
    steps: list[CopyStep] = []
    workdirs: dict[int, str] = {}
    for stage in stages:
        chain = chains[stage.index]
        inherited = workdirs.get(chain[1], "/") if len(chain) > 1 else "/"
        workdirs[stage.index] = _stage_steps(doc, stage, by_name, steps, inherited)
    return Analysis(tuple(steps), chains, workdirs, shipped, _entry(doc, stages, chains[shipped]))


def _stage_steps(
    doc: Dockerfile, stage: Stage, by_name: dict[str, int], out: list[CopyStep], workdir: str
) -> str:
    variables = stage_variables(doc, stage)
    for ins in stage.body:
        if ins.keyword == "WORKDIR":
            value = expand(ins.value.strip(), variables) or ins.value.strip()
            workdir = posixpath.normpath(posixpath.join(workdir, unquote(value)))
        elif ins.keyword in ("COPY", "ADD") and not ins.heredocs:
            step = _copy_step(ins, stage.index, by_name, variables, workdir)
            if step is not None:
                out.append(step)
    return workdir


def _copy_step(
    ins: Instruction, stage: int, by_name: dict[str, int], variables: dict[str, str], workdir: str
) -> CopyStep | None:
    args = arguments(ins)
    if len(args) < 2:
        return None
    from_text = ins.flags.get("from")
    from_stage: int | None = None
    if from_text is not None:
        lower = from_text.lower()
        from_stage = by_name.get(lower, int(lower) if lower.isdigit() else None)
        if from_stage is None:
            return None  # another image: nothing from this context
    expanded = [expand(a, variables) for a in args]
    if any(a is None for a in expanded):
        return None
    *sources, dest_text = (a for a in expanded if a is not None)
    sources = [s for s in sources if "://" not in s and not s.startswith(("git@", "<<"))]
    if not sources:
        return None
    dest = posixpath.normpath(posixpath.join(workdir, dest_text))
    into_dir = dest_text.endswith("/") or len(sources) > 1 or dest_text in (".", "./")
    cleaned = tuple(_context_path(s) for s in sources)
    return CopyStep(stage, cleaned, dest, into_dir, from_stage, ins.line)


def arguments(ins: Instruction) -> list[str]:
    """The words of a COPY/ADD after its flags (sources, then the destination): the JSON
    array of the exec form, else the shell words, unquoted."""
    text = ins.value[ins.flag_end() :].strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return parsed
    return [unquote(text[s:e]) for s, e in words(text)]


def _context_path(source: str) -> str:
    """A source as a normalised context-relative path; ``.``, ``./`` and ``/`` are WHOLE."""
    path = posixpath.normpath(source.lstrip("/") or ".")
    return WHOLE if path in (".", "..") or path.startswith("../") else path


def _entry(doc: Dockerfile, stages: list[Stage], chain: tuple[int, ...]) -> tuple[str, ...]:
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    for index in reversed(chain):  # the root parent first: children override
        for ins in stages[index].body:
            if ins.keyword == "ENTRYPOINT":
                entrypoint, cmd = _command_words(ins), None
            elif ins.keyword == "CMD":
                cmd = _command_words(ins)
    return tuple((entrypoint or []) + (cmd or []))


def _command_words(ins: Instruction) -> list[str]:
    text = ins.value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return [str(p) for p in parsed]
        except ValueError:
            pass
    return [unquote(text[s:e]) for s, e in words(text)]


def program(words_: tuple[str, ...]) -> str | None:
    """The first word that names a program to run, past shells, init wrappers, options and
    ``sh -c "<script>"`` (whose own first command is read)."""
    queue = list(words_)
    while queue:
        word = queue.pop(0)
        if word == "-c" and queue:
            queue = queue[0].replace(";", " ").replace("&&", " ").split() + queue[1:]
            continue
        base = word.rsplit("/", 1)[-1]
        if base in ("gosu", "su-exec") and queue:
            queue.pop(0)  # the user to step down to
            continue
        if word.startswith("-") or word in _WRAPPERS or base in _WRAPPERS or "=" in word:
            continue
        return word
    return None


def image_candidates(word: str, workdir: str) -> list[str]:
    """Where in the image a command word may live (a bare name is looked up on PATH)."""
    if "/" not in word:
        return [*(posixpath.join(d, word) for d in _PATH_DIRS), posixpath.join(workdir, word)]
    return [posixpath.normpath(posixpath.join(workdir, word))]


def context_sources(
    analysis: Analysis, stage: int, image_path: str | None, is_dir: IsDir
) -> list[str]:
    """Context paths that end up at ``image_path`` in ``stage`` (None: anywhere in it).
    ``is_dir`` says whether a context-relative path is a folder (one stat, at query time)."""
    return _sources(analysis, stage, image_path, is_dir, 0)


def _sources(
    analysis: Analysis,
    stage: int,
    image_path: str | None,
    is_dir: IsDir,
    depth: int,
) -> list[str]:
    if depth > _MAX_DEPTH:
        return []
    found: list[str] = []
    chain = set(analysis.chains.get(stage, (stage,)))
    asked = image_path.rstrip("/") if image_path is not None else None
    for step in analysis.steps:
        if step.stage not in chain:
            continue
        if asked is not None and not _may_reach(step.dest, asked):
            continue  # lands beside the path asked for: no landing of it can match
        for source in step.sources:
            for landed in _landings(step, source, is_dir):
                matched = _match(source, landed, image_path)
                if matched is None:
                    continue
                if step.from_stage is None:
                    found.append(matched)
                    continue
                inner = posixpath.normpath(posixpath.join("/", matched))
                found.extend(_sources(analysis, step.from_stage, inner, is_dir, depth + 1))
    return list(dict.fromkeys(found))


def _may_reach(dest: str, asked: str) -> bool:
    """False only when no landing of a copy to ``dest`` can ``_match`` the path ``asked``
    (without its trailing slashes): a landing is ``dest`` or ``dest/<name>``, which
    ``_within`` relates to the path only when one of them is inside the other, and a glob
    ``dest/<pattern>`` only matches paths under ``dest``. Spares the landings (and their
    folder checks) of every copy elsewhere in the image: an entrypoint is looked for in
    seven places."""
    top = dest.rstrip("/")
    if not top or _is_glob(dest):
        return True  # the root holds every path; a glob destination is matched as one
    return asked == top or asked.startswith(top + "/") or top.startswith(asked + "/")


def _landings(step: CopyStep, source: str, is_dir: IsDir) -> list[str]:
    """Where ``source``'s content may land: a folder's (or the context's) content goes
    *into* ``dest``; a file goes to ``dest`` or, copying into a folder, ``dest/<name>``.
    A path in another stage may be either, so both are tried."""
    into = posixpath.join(step.dest, posixpath.basename(source))
    if step.from_stage is not None:
        return [step.dest, into] if step.into_dir else [step.dest]
    if source == WHOLE or is_dir(source) or not step.into_dir:
        return [step.dest]
    return [into]


def _match(source: str, landed: str, image_path: str | None) -> str | None:
    """The part of ``source`` found at ``image_path`` (the whole source for None or an
    enclosing folder), or None when the copy does not reach it."""
    if image_path is None:
        return source
    if _is_glob(landed):
        if fnmatch.fnmatchcase(image_path, landed):
            return posixpath.join(posixpath.dirname(source), posixpath.basename(image_path))
        return None
    rel = _within(landed, image_path)
    if rel is None:
        return None
    return _join(source, rel) if rel else source


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _within(landed: str, image_path: str) -> str | None:
    """``image_path`` relative to where content landed ("" when equal or when the whole
    landing is inside the asked folder), None when unrelated."""
    if image_path == landed or landed.startswith(image_path.rstrip("/") + "/"):
        return ""
    if image_path.startswith(landed.rstrip("/") + "/"):
        return image_path[len(landed.rstrip("/")) + 1 :]
    return None


def _join(source: str, rel: str) -> str:
    return rel if source == WHOLE else posixpath.join(source, rel)
