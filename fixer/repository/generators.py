"""Manifests the repository's own scripts write with a generator (``helm template``).

Longhorn's ``scripts/generate-longhorn-yaml.sh`` writes ``deploy/longhorn.yaml`` with
``helm template chart/ >> "$DEPLOY_YAML"``, and its workflow runs the script: an edit of
the output is gone at the next run (the change belongs in the chart). Such a manifest is
generated though no ``DO NOT EDIT`` line says so. A line of a shell script or Makefile
that runs a generator (``helm template``, ``jsonnet``, ``ytt``; ``kustomize build`` into a
versioned file) and sends its output to a file names the file literally or through a
variable; a variable's values are read from its assignments and ``for`` lists in the same
file (one level of indirection: ``for F in ${FILES[@]}``). A folder of outputs counts too
(``jsonnet -m manifests``).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

#: The generator, also when a Makefile or script names it through a variable
#: (``$(KUSTOMIZE) build``, ``${JSONNET} -J vendor -m manifests``).
_TOOL = r"(?:\$\{|\$\()?"
#: Generators whose sources tighten cannot fix (a Helm chart's templates, jsonnet, ytt),
#: and Kustomize. A ``kustomize build`` bundle of plain manifests is edited with its
#: sources, the same edit each (Reloader's ``deployments/kubernetes/reloader.yaml``), so it
#: still renders the same: only its versioned outputs count, one file per release that
#: nothing renders again (cloudnative-pg's ``releases/cnpg-${release_version}.yaml``).
_GENERATOR = re.compile(
    rf"(?i)(?<![\w-]){_TOOL}(helm[\}})]?[\"']?\s+template|kustomize[\}})]?[\"']?\s+build|"
    rf"(?:kubectl|oc)[\}})]?[\"']?\s+kustomize|jsonnet|ytt)(?![\w-])"
)
#: Where a command line sends its output: ``> F``, ``>> F``, ``| tee [-a] F``, ``-o F``;
#: or a folder of files: jsonnet's ``-m DIR``, helm's ``--output-dir DIR``.
_OUTPUT = re.compile(
    r"(?:>>?|\btee\s+(?:-a\s+)?|\s(-o|--output|--output-file|-m|--multi|--output-dir)"
    r"(?:=|\s+))[ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[^\s;&|)<>]+)"
)
_FOLDER_OPTIONS = ("-m", "--multi", "--output-dir")
_VARIABLE = re.compile(r"^\$(?:\{(\w+)(?:\[[@*]\])?\}|\((\w+)\)|(\w+))$")
_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Output:
    """A file a generator writes: ``pattern`` relative to the repository root or to the
    script's folder (variables left in it are ``*``), and what writes it."""

    pattern: str
    line: int
    generator: str


def outputs(text: str) -> list[Output]:
    """Every file ``text`` (a shell script or Makefile) writes with a generator."""
    if _GENERATOR.search(text) is None:
        return []
    lines = _logical_lines(text)
    found: list[Output] = []
    for number, line in lines:
        generator = _GENERATOR.search(line)
        if generator is None:
            continue
        name = " ".join(re.sub(r"[{}()$\"']", "", generator.group(1)).lower().split())
        for match in _OUTPUT.finditer(line, generator.end()):
            folder = match.group(1) in _FOLDER_OPTIONS
            for word in _values(match.group(2).strip("\"'"), lines):
                pattern = _pattern(word.rstrip("/") + "/*.yaml" if folder else word)
                if pattern is None or ("kustomize" in name and "*" not in pattern):
                    continue  # a bundle kept in step with its sources (above)
                found.append(Output(pattern, number, name))
    return found


def matches(output: Output, relative: str, *, ending: bool = False) -> bool:
    """Whether ``relative`` (a path from the root or from the script's folder, ``/``
    separated) is the file ``output`` writes. With ``ending``, a pattern with a folder
    may match the end of the path: the script may name the file from a root of its own
    (``$ROOT/deploy/app.yaml``) below the repository's."""
    pattern = output.pattern
    if relative == pattern or fnmatch.fnmatchcase(relative, pattern):
        return True
    return ending and "/" in pattern and fnmatch.fnmatchcase(relative, "*/" + pattern)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        out.append((start, " ".join(pending)))
        pending = []
    if pending:
        out.append((start, " ".join(pending)))
    return out


def _values(word: str, lines: list[tuple[int, str]], depth: int = 0) -> list[str]:
    """``word`` itself, or the values a variable ``word`` is given in the file."""
    m = _VARIABLE.match(word)
    if m is None:
        return [word]
    if depth > 1:
        return []
    name = m.group(1) or m.group(2) or m.group(3)
    assign = re.compile(
        rf"(?:^|[;\s])(?:export\s+|local\s+|readonly\s+)?{name}\s*[:?]?=\s*(.*)$"
        rf"|\bfor\s+{name}\s+in\s+(.*?)(?:;|\s+do\b|$)"
    )
    found: list[str] = []
    for _, line in lines:
        for hit in assign.finditer(line):
            value = hit.group(1) if hit.group(1) is not None else hit.group(2)
            for item in re.findall(r"\"[^\"]*\"|'[^']*'|[^\s()\"']+", value or ""):
                found += _values(item.strip("\"'"), lines, depth + 1)
    return found


def _pattern(word: str) -> str | None:
    """The path a word names, variables as ``*`` and a leading ``$ROOT/`` or ``./``
    dropped; None when it names no manifest file."""
    word = word.strip()
    if not word.endswith(_SUFFIXES) or "://" in word or "{}" in word:
        return None
    word = re.sub(r"^(?:\$\{\w+\}|\$\(\w+\)|\$\w+)/", "", word)
    while word.startswith("./"):
        word = word[2:]
    word = re.sub(r"\$\{[^}]*\}|\$\([^)]*\)|\$\w+", "*", word)
    if not word or word.startswith("/") or (word.startswith("*") and "/" not in word):
        return None  # an absolute path, or a name that could be any file
    return word


#: A Go program that writes a file: ``os.WriteFile(path, ...)``, ``os.Create(path)``,
#: ``os.OpenFile(path, ...)``.
_GO_WRITE = re.compile(r"\bos\.(?:WriteFile|Create|OpenFile)\(")
_GO_JOIN = re.compile(r"\b(?:filepath|path)\.Join\(([^()]*)\)")
_GO_STRING = re.compile(r'^"([^"\\]*)"$')
_GO_TAIL = re.compile(r'\+\s*"([^"\\]*)"$')


def go_outputs(text: str) -> list[Output]:
    """Manifests a Go generator writes (tailscale's ``cmd/k8s-operator/generate/main.go``
    writes ``cmd/k8s-operator/deploy/manifests/operator.yaml`` from its Helm chart, and a
    test checks the file is up to date): the path of each ``os.WriteFile``/``os.Create``
    call named by string literals, directly or joined (``filepath.Join(repoRoot,
    "deploy", "operator.yaml")``: a leading variable is the root, a later one any name)."""
    if _GO_WRITE.search(text) is None:
        return []
    found: list[Output] = []
    for number, line in enumerate(text.splitlines(), 1):
        call = _GO_WRITE.search(line)
        if call is None:
            continue
        rest = line[call.end() :]
        join = _GO_JOIN.match(rest.lstrip())
        parts = join.group(1).split(",") if join else [rest.split(",", 1)[0].rstrip(")")]
        words: list[str] = []
        for index, part in enumerate(p.strip() for p in parts):
            literal = _GO_STRING.match(part)
            if literal:
                words.append(literal.group(1))
            elif index or not join:
                tail = _GO_TAIL.search(part)  # ``kind + ".yaml"``
                words.append("*" + (tail.group(1) if tail else ""))
        pattern = "/".join(w.strip("/") for w in words if w)
        if pattern.endswith(_SUFFIXES) and pattern.strip("*/"):
            found.append(Output(pattern, number, "a Go generator"))
    return found
