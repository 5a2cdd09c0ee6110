"""Measure the secret detector on a corpus: every finding, by category, never a value.

Usage: ``PYTHONPATH=. python bench/secrets_fp.py [CORPUS] [--all]``

Candidates are Dockerfile ``ENV``/``ARG`` key-value pairs and Kubernetes container ``env``
``name``/``value`` pairs. Each finding is printed as ``name  file:line  category``; values are
never printed (``--all`` lists every candidate name with a masked value: 2 chars + ``***``).
Exit code 0 always (it is a measurement, not a gate).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from fixer.secrets import classify

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "corpus"
_ESCAPE_DIRECTIVE = re.compile(r"#\s*escape\s*=\s*([\\`])\s*$", re.IGNORECASE)
_DIRECTIVE = re.compile(r"#\s*[a-zA-Z][a-zA-Z0-9_-]*\s*=")
_HEREDOC = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")


@dataclass(frozen=True)
class Candidate:
    name: str
    value: str
    path: Path
    line: int


# ---------------------------------------------------------------- Dockerfile ENV / ARG


def _escape_char(lines: list[str]) -> str:
    """The ``# escape=`` parser directive (Windows images use a backtick)."""
    for line in lines:
        match = _ESCAPE_DIRECTIVE.match(line.strip())
        if match:
            return match.group(1)
        if not _DIRECTIVE.match(line.strip()):
            break
    return "\\"


def _logical_lines(text: str) -> Iterator[tuple[str, list[int]]]:
    """Instructions joined across continuations, with the physical line of each character.

    Comment lines inside a continuation are dropped (as BuildKit does); heredoc bodies are
    skipped so ``ENV`` text inside a ``RUN <<EOF`` script is not read as an instruction.
    """
    lines = text.splitlines()
    esc = _escape_char(lines)
    i = 0
    while i < len(lines):
        parts: list[str] = []
        where: list[int] = []
        while i < len(lines):
            raw, lineno = lines[i], i + 1
            i += 1
            if parts and raw.lstrip().startswith("#"):
                continue
            body = raw.rstrip()
            cont = body.endswith(esc)
            piece = body[:-1] if cont else raw
            parts.append(piece)
            where.extend([lineno] * len(piece))
            if not cont:
                break
        logical = "".join(parts)
        if not logical.lstrip().upper().startswith(("ENV", "ARG")):
            for heredoc in _HEREDOC.finditer(logical):
                while i < len(lines) and lines[i].strip() != heredoc.group(2):
                    i += 1
                i += 1
        yield logical, where


def _shell_words(text: str, esc: str) -> Iterator[tuple[str, int]]:
    """Words with quotes removed and escapes resolved, plus each word's start offset."""
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return
        start, out, quote = i, [], ""
        while i < n and (quote or not text[i].isspace()):
            ch = text[i]
            if ch == esc and quote != "'" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch in "\"'" and (not quote or quote == ch):
                quote = "" if quote else ch
            else:
                out.append(ch)
            i += 1
        yield "".join(out), start


def _unquote(text: str, esc: str) -> str:
    out, quote, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == esc and quote != "'" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch in "\"'" and (not quote or quote == ch):
            quote = "" if quote else ch
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _env_arg_pairs(rest: str, keyword: str, esc: str) -> Iterator[tuple[str, str | None, int]]:
    words = list(_shell_words(rest, esc))
    if not words:
        return
    first, _ = words[0]
    if keyword == "ENV" and "=" not in first:
        # Legacy form: ``ENV key the rest of the line``: one pair, quotes removed, spaces kept.
        after_key = rest.strip()[len(rest.strip().split(None, 1)[0]) :].strip()
        yield first, _unquote(after_key, esc), words[0][1]
        return
    for word, offset in words:
        key, sep, value = word.partition("=")
        yield key, (value if sep else None), offset


def dockerfile_candidates(path: Path) -> Iterator[Candidate]:
    text = path.read_text(encoding="utf-8", errors="replace")
    esc = _escape_char(text.splitlines())
    for logical, where in _logical_lines(text):
        match = re.match(r"\s*(ENV|ARG)\s+", logical, re.IGNORECASE)
        if not match:
            continue
        keyword, base = match.group(1).upper(), match.end()
        for name, value, offset in _env_arg_pairs(logical[base:], keyword, esc):
            if value is not None and name:
                line = where[min(base + offset, len(where) - 1)] if where else 0
                yield Candidate(name, value, path, line)


# ---------------------------------------------------------------- Kubernetes env


def _walk(node: yaml.Node) -> Iterator[yaml.MappingNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            yield current
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def _env_entries(mapping: yaml.MappingNode) -> Iterator[yaml.MappingNode]:
    for key, value in mapping.value:
        is_env = isinstance(key, yaml.ScalarNode) and key.value == "env"
        if is_env and isinstance(value, yaml.SequenceNode):
            yield from (v for v in value.value if isinstance(v, yaml.MappingNode))


def manifest_candidates(path: Path) -> Iterator[Candidate]:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return
    for document in documents:
        if document is None:
            continue
        for mapping in _walk(document):
            for entry in _env_entries(mapping):
                fields = {k.value: v for k, v in entry.value if isinstance(k, yaml.ScalarNode)}
                name, value = fields.get("name"), fields.get("value")
                if isinstance(name, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode):
                    line = value.start_mark.line + 1
                    yield Candidate(str(name.value), str(value.value), path, line)


# ---------------------------------------------------------------- driver


def corpus_files(corpus: Path) -> Iterator[tuple[str, Path]]:
    """(kind, path) from INDEX.tsv when present, else by file name."""
    index = corpus / "INDEX.tsv"
    if index.exists():
        for row in index.read_text(encoding="utf-8").splitlines()[1:]:
            kind, rel = row.split("\t")[:2]
            if kind in ("dockerfile", "k8s"):
                yield kind, corpus / rel
        return
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        if path.suffix in (".yaml", ".yml"):
            yield "k8s", path
        elif "dockerfile" in path.name.lower() or "containerfile" in path.name.lower():
            yield "dockerfile", path


def candidates(corpus: Path) -> Iterator[tuple[str, Candidate]]:
    for kind, path in corpus_files(corpus):
        reader = dockerfile_candidates if kind == "dockerfile" else manifest_candidates
        for candidate in reader(path):
            yield kind, candidate


def masked(value: str) -> str:
    return value[:2] + "***"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--all", action="store_true", help="list every candidate name")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    scanned: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    for kind, cand in candidates(args.corpus):
        scanned[kind] += 1
        match = classify(cand.name, cand.value)
        where = f"{cand.path.relative_to(args.corpus)}:{cand.line}"
        if args.all:
            print(f"  cand {kind:10} {cand.name:40} {masked(cand.value):8} {where}")
        if match:
            by_kind[match.kind] += 1
            print(f"{cand.name:40} {where}  {match.kind} ({match.reason})")
    elapsed = time.perf_counter() - started
    print(f"\ncandidates scanned: {sum(scanned.values())} ({dict(scanned)}) in {elapsed:.2f}s")
    print(f"findings: {sum(by_kind.values())}")
    for kind, count in by_kind.most_common():
        print(f"  {kind:24} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
