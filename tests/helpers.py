"""Shared test helpers: run the engine on a text, and prove zero collateral change."""

from __future__ import annotations

import difflib
import re
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fixer.documents.text import LineIndex, SourceText
from fixer.engine import FileResult, process_text
from fixer.model import Edit
from fixer.output.diff import split_lines
from fixer.rule import Resolution
from fixer.ruleset import RuleSet, installed
from fixer.settings import Settings

#: The installed rules, loaded the way the CLI loads them (the ``tighten.rules`` entry point).
RULES: RuleSet = installed()


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """Each text at its path below ``root``, folders made as needed."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def kind_for(path: Path) -> str:
    return "kubernetes" if path.suffix in (".yaml", ".yml") else "dockerfile"


def fix_bytes(
    data: bytes,
    kind: str,
    settings: Settings | None = None,
    path: Path | None = None,
    *,
    resolutions: Mapping[str, Resolution] | None = None,
    pinning: bool = False,
) -> FileResult:
    """Fix ``data``; ``resolutions`` with ``pinning`` stand in for the registry answers."""
    source = SourceText.decode(data)
    return process_text(
        path or Path("input"),
        kind,
        source,
        settings or Settings(),
        rules=RULES,
        fix=True,
        resolutions=resolutions or {},
        pinning=pinning,
    )


def covered_lines(text: str, edits: tuple[Edit, ...]) -> set[int]:
    """Old lines an edit may change: the lines a replacement spans, and the line an insertion
    lands in when it does not start a line."""
    lines = LineIndex(text)
    covered: set[int] = set()
    for edit in edits:
        start, end = edit.span.start, edit.span.end
        if start == end:
            if start == len(text) or lines.column_of(start) != 1:
                covered.add(lines.line_of(start))
            continue
        covered.update(range(lines.line_of(start), lines.line_of(end - 1) + 1))
        if lines.column_of(end) == 1 and end < len(text):
            covered.add(lines.line_of(end))  # deleting up to a line start joins lines
    return covered


def changed_old_lines(old: str, new: str) -> set[int]:
    """1-based lines of ``old`` that a line diff marks as removed or replaced."""
    changed: set[int] = set()
    matcher = difflib.SequenceMatcher(None, split_lines(old), split_lines(new), autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            changed.update(range(i1 + 1, i2 + 1))
    return changed


def spliced(text: str, edits: tuple[Edit, ...]) -> str | None:
    """``text`` with ``edits`` applied (an independent re-implementation of the engine's
    splice), or None when two edits overlap."""
    out: list[str] = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.span.start, e.span.end)):
        if edit.span.start < pos:
            return None
        out.append(text[pos : edit.span.start])
        out.append(edit.content)
        pos = edit.span.end
    out.append(text[pos:])
    return "".join(out)


def collateral(result: FileResult) -> list[tuple[int, Any]]:
    """Lines a pass changed that none of its edits covered (must be empty).

    When a pass's text is exactly its edits applied to the text before, every changed byte
    lies inside an edit, so nothing is collateral. Otherwise a line diff names the lines
    (a line diff alone misaligns on repetitive text such as similar YAML documents)."""
    problems: list[tuple[int, Any]] = []
    texts = [t for t, _ in result.passes] + [result.text]
    for index, (before, edits) in enumerate(result.passes):
        after = texts[index + 1]
        if spliced(before, edits) == after:
            continue
        lines = sorted(changed_old_lines(before, after) - covered_lines(before, edits))
        problems.extend((line, split_lines(before)[line - 1]) for line in lines)
        if not lines:
            problems.append((0, f"pass {index + 1}: the text is not its edits applied"))
    return problems


# --- semantic checks: what a fix may change ------------------------------------------------

#: Keys of a pod spec that hold containers.
CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})
HOST_NAMESPACES = frozenset({"hostPID", "hostIPC", "hostNetwork"})
JsonPath = tuple[str | int, ...]


def yaml_documents(text: str) -> list[Any]:
    """The data of every non-empty document (PyYAML's libyaml-backed safe loader)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [d for d in yaml.load_all(text, Loader=loader) if d is not None]


def changed_paths(old: Any, new: Any, path: JsonPath = ()) -> list[JsonPath]:
    """JSON paths where ``new`` differs from ``old``: keys added, removed or changed, list
    items changed in place; a list whose length changed is reported as a whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[JsonPath] = []
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in old or key not in new:
                out.append((*path, key))
            else:
                out.extend(changed_paths(old[key], new[key], (*path, key)))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            out.extend(changed_paths(a, b, (*path, index)))
        return out
    if old == new or (old != old and new != new):  # NaN equals itself here
        return []
    return [path]


def _in_container(path: JsonPath, i: int) -> bool:
    """``path[i]`` is a key of a container (``...containers/<n>/<key>``)."""
    return i >= 2 and path[i - 2] in CONTAINER_LISTS and isinstance(path[i - 1], int)


def _in_pod_spec(path: JsonPath, i: int) -> bool:
    return i >= 1 and path[i - 1] == "spec"


def rule_may_change(path: JsonPath, doc: Any, *, profile: str = "restricted") -> bool:
    """Whether a changed JSON path lies where some rule is meant to edit: container and pod
    ``securityContext``, container ``image``, ``env[*].value``/``valueFrom``, the pod's host
    namespaces, ``volumes``/``volumeMounts`` (strict profile), a Kustomization's ``images``."""
    if isinstance(doc, dict) and doc.get("kind") == "Kustomization" and path[:1] == ("images",):
        return True
    for i, key in enumerate(path):
        last = i == len(path) - 1
        if key == "securityContext" and (_in_container(path, i) or _in_pod_spec(path, i)):
            return True
        if key == "image" and last and _in_container(path, i):
            return True
        if (
            key == "env"
            and _in_container(path, i)
            and len(path) == i + 3
            and isinstance(path[i + 1], int)
            and path[i + 2] in ("value", "valueFrom")
        ):
            return True
        if key in HOST_NAMESPACES and last and _in_pod_spec(path, i):
            return True
        if profile == "strict" and (
            (key == "volumes" and _in_pod_spec(path, i))
            or (key == "volumeMounts" and _in_container(path, i))
        ):
            return True
    return False


def yaml_problems(old_text: str, new_text: str, *, profile: str = "restricted") -> list[str]:
    """Why the fixed YAML is not the old data plus changes the rules meant (empty: fine)."""
    try:
        new_docs = yaml_documents(new_text)
    except Exception as exc:
        return [f"fixed text does not load: {type(exc).__name__}: {exc}"]
    old_docs = yaml_documents(old_text)
    if len(old_docs) != len(new_docs):
        return [f"{len(old_docs)} documents became {len(new_docs)}"]
    problems: list[str] = []
    for index, (old, new) in enumerate(zip(old_docs, new_docs, strict=True)):
        for path in changed_paths(old, new):
            if not rule_may_change(path, old, profile=profile):
                shown = "/".join(map(str, path)) or "<document>"
                problems.append(f"document {index + 1}: unexpected change at {shown}")
    return problems


Instruction = tuple[str, str]  # (KEYWORD, value)

KEYWORDS = frozenset(
    [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ]
)
DELETABLE = frozenset({"RUN", "ENV", "ARG"})
INSERTABLE = frozenset({"RUN", "USER"})
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}")
_ROOT_USER = re.compile(r"(root|0)(:.*)?", re.IGNORECASE)


def lexer_instructions(text: str) -> list[Instruction]:
    """Instructions as tighten's own lexer reads them (heredoc bodies are not instructions)."""
    from fixer.documents import dockerfile

    doc = dockerfile.parse(SourceText(text))
    return [(i.keyword, " ".join(i.value.split())) for i in doc.instructions]


def dockerfile_parse_instructions(text: str) -> list[Instruction]:
    """Instructions as the dockerfile-parse library reads them."""
    import io

    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
    return [
        (i["instruction"].upper(), " ".join(i["value"].split()))
        for i in parser.structure
        # Comment lines are the collateral check's job; dockerfile-parse reads heredoc body
        # lines as instructions with made-up keywords.
        if i["instruction"].upper() in KEYWORDS
    ]


def _modification_ok(old: Instruction, new: Instruction) -> bool:
    keyword, before = old
    after = new[1]
    if keyword == "RUN":  # DF003 edits installs; a RUN may change (delete + insert)
        return True
    if keyword in ("ENV", "ARG"):  # DF004 removes pairs / defaults, nothing else
        words = before.split()
        names = {w.split("=", 1)[0] for w in words}
        if all(w in words or w in names for w in after.split()):
            return True
    if keyword == "ARG":  # DF002 pins the default of an ARG a FROM uses
        return _pinned(
            before.split(), after.split(), lambda w: (w.partition("=")[0], w.partition("=")[2])
        )
    if keyword == "USER":  # DF001 replaces a root user only
        return bool(_ROOT_USER.fullmatch(before.strip())) and not _ROOT_USER.fullmatch(after)
    if keyword == "FROM":  # DF002 pins: same image, gains a digest (and maybe a version tag)
        return _pinned(before.split(), after.split(), lambda w: ("", w))
    return False


def _pinned(old: list[str], new: list[str], split: Callable[[str], tuple[str, str]]) -> bool:
    """One word changed, to the same repository with a digest (``split``: word -> (name of
    an ARG or "", image))."""
    if len(old) != len(new):
        return False
    changed = [(split(a), split(b)) for a, b in zip(old, new, strict=True) if a != b]
    if len(changed) != 1:
        return False
    (name_a, image_a), (name_b, image_b) = changed[0]
    return (
        name_a == name_b
        and bool(_DIGEST.search(image_b))
        and _repository(image_a) == _repository(image_b)
    )


def _repository(image: str) -> str:
    """``name`` of ``name:tag@digest`` (a registry port's colon is kept)."""
    name = _DIGEST.sub("", image)
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def instruction_problems(old: list[Instruction], new: list[Instruction]) -> list[str]:
    """Why ``new`` is not ``old`` with RUN/ENV/ARG removed, RUN/USER added, RUN edited, ENV
    and ARG trimmed, a root USER made non-root or a FROM pinned (empty: fine)."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    olds, news = old[head : len(old) - tail], new[head : len(new) - tail]
    kept_old, kept_new = _pairs(olds, news)
    problems = [f"removed {k} {v!r}" for n, (k, v) in enumerate(olds) if n not in kept_old and k not in DELETABLE]  # fmt: skip
    problems += [f"added {k} {v!r}" for n, (k, v) in enumerate(news) if n not in kept_new and k not in INSERTABLE]  # fmt: skip
    return problems


def _pairs(olds: list[Instruction], news: list[Instruction]) -> tuple[set[int], set[int]]:
    """Indexes of the old and new instructions in the best in-order pairing, where a pair is
    an unchanged instruction (worth 2) or an allowed modification (worth 1); the rest were
    removed or added."""

    def worth(a: Instruction, b: Instruction) -> int:
        if a == b:
            return 2
        return 1 if a[0] == b[0] and _modification_ok(a, b) else 0

    rows, cols = len(olds), len(news)
    best = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            w = worth(olds[i], news[j])
            best[i][j] = max(best[i + 1][j], best[i][j + 1], best[i + 1][j + 1] + w if w else 0)
    kept_old, kept_new = set(), set()
    i = j = 0
    while i < rows and j < cols:
        w = worth(olds[i], news[j])
        if w and best[i][j] == best[i + 1][j + 1] + w:
            kept_old.add(i)
            kept_new.add(j)
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return kept_old, kept_new


def dockerfile_problems(old_text: str, new_text: str) -> list[str]:
    """Instruction-level check of a fixed Dockerfile with both parsers (empty: fine)."""
    problems = instruction_problems(lexer_instructions(old_text), lexer_instructions(new_text))
    try:
        theirs_new = dockerfile_parse_instructions(new_text)
    except Exception as exc:
        return [*problems, f"dockerfile-parse fails: {type(exc).__name__}: {exc}"]
    theirs = instruction_problems(dockerfile_parse_instructions(old_text), theirs_new)
    problems.extend(f"dockerfile-parse: {p}" for p in theirs)
    return problems


def scan_get(mapping: Any, key: str) -> Any:
    """``nodes.get`` without its index: the first of ``pairs`` (own keys, then merged ones),
    what the index must answer."""
    from fixer.documents.yaml import nodes as y

    for k, v in y.pairs(mapping):
        if y.is_scalar(k) and k.value == key:
            return v
    return None


def terminal_job() -> None:
    """``preexec_fn`` of a child the tests stop with SIGINT: SIGINT as a terminal's
    foreground job has it. A suite started in the background by a non-interactive shell
    (``cmd &``) inherits SIGINT ignored, and tighten keeps an inherited ignore (as Python
    does), so without this such a child would never see the Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
