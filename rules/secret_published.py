"""Manifests the repository publishes for others to apply as they are.

A sample or quickstart repository tells its users ``kubectl apply -f
https://raw.githubusercontent.com/org/repo/main/all-in-one.yaml`` and a release workflow
rewrites the image tags in that file. Moving a literal out of such a file into a git-ignored
Secret breaks every one of those applies: the Secret exists on nobody's cluster. The
repository's documentation and workflows are the evidence.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from fixer import tree
from fixer.filenames import SKIP_DIRS
from fixer.readfile import read_regular

#: Where a repository tells people which files to apply.
_DOC_SUFFIXES = (".md", ".markdown", ".rst", ".adoc", ".txt")
_MAX_BYTES = 1 << 20
_MENTION = re.compile(r"[\w./:@%~+*-]*\.ya?ml\b")
_APPLIES = re.compile(r"\b(?:apply|create|replace)\b[^\n]*\s-f\b|https?://", re.IGNORECASE)
#: What every ``_MENTION`` ends with: only lines holding one can name a manifest.
_YAML_NAME = re.compile(r"\.ya?ml\b")


@lru_cache(maxsize=8192)
def published(root: Path, manifest: Path) -> str | None:
    """``path:line`` of the first document or workflow line naming ``manifest`` by its path
    from the repository root (a raw URL ending in it counts), else None. Remembered: a
    file asked about as the copy of others (a monorepo's many objects of one name) is
    resolved once, not once for each of them."""
    try:
        rel = manifest.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    exact, globs = _mentions(root.resolve())
    found = exact.get(rel)
    if found is None:
        # ``kubectl apply $(ls *-grafana-*.yaml | ...)`` in a folder's README (sock-shop).
        found = next((w for pattern, w in globs if fnmatch.fnmatchcase(rel, pattern)), None)
    return found


@lru_cache(maxsize=4)
def _mentions(root: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Every path-like ``*.yaml`` mention, keyed by each path suffix it ends with
    (``a/b/c.yaml`` is also ``b/c.yaml`` and ``c.yaml``), first place wins: each line of a
    workflow, and the lines of documents, Makefiles and scripts that apply a file or link
    its raw URL. Read once per repository, and only when a secret move is about to be
    offered."""
    found: dict[str, str] = {}
    globs: list[tuple[str, str]] = []
    # Makefiles and scripts too: tempo-operator's ``make deploy-minio`` runs ``kubectl apply
    # -f minio.yaml`` in CI and on every developer's machine, where no git-ignored Secret is.
    for path, text in _texts(root, automation=True):
        if ".yaml" not in text and ".yml" not in text:
            continue
        where = path.relative_to(root).as_posix()
        workflow = path.suffix in (".yml", ".yaml") and ".github" in path.parts
        # In prose only a line that applies the file (or links its raw URL) publishes it;
        # a release workflow that names it ships it.
        for number, line in _naming_lines(text):
            if not workflow and not _APPLIES.search(line):
                continue
            for mention in _MENTION.findall(line):
                if "*" in mention:  # a glob, relative to the document's folder
                    base = path.parent.relative_to(root).as_posix()
                    pattern = mention if base == "." else f"{base}/{mention.lstrip('./')}"
                    if pattern.rsplit("/", 1)[-1] not in ("*.yaml", "*.yml"):
                        globs.append((pattern, f"{where}:{number}"))
                    continue
                parts = mention.split("/")
                for start in range(len(parts)):
                    found.setdefault("/".join(parts[start:]), f"{where}:{number}")
                if "://" not in mention and not mention.startswith("/"):
                    # Relative to the file's own folder (``kubectl apply -f minio.yaml`` in
                    # a Makefile beside it).
                    base = path.parent.relative_to(root).as_posix()
                    joined = posixpath.normpath(f"{base}/{mention}")
                    found.setdefault(joined, f"{where}:{number}")
    return found, globs


#: Line breaks ``str.splitlines`` honours besides ``\n`` (and ``\r\n``).
_OTHER_BREAKS = re.compile("\r(?!\n)|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _naming_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number, line) of each line of ``text`` that names a ``.yaml``/``.yml`` file, found
    by one search of the whole text: a documentation site's Markdown and its install
    scripts (KServe's, a megabyte of manifests each) are mostly lines that name none, and
    matching every line against ``_APPLIES`` was most of K8S004's time there."""
    if _OTHER_BREAKS.search(text):  # line numbers as ``splitlines`` counts them
        yield from ((n, ln) for n, ln in enumerate(text.splitlines(), 1) if _YAML_NAME.search(ln))
        return
    number, counted, last = 1, 0, -1
    for match in _YAML_NAME.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        if start == last:
            continue  # another name on the same line
        number += text.count("\n", counted, start)
        counted, last = start, start
        end = text.find("\n", start)
        yield number, text[start : len(text) if end < 0 else end].rstrip("\r")


def _texts(root: Path, *, automation: bool) -> Iterator[tuple[Path, str]]:
    """The text of each documentation file and GitHub workflow (with ``automation``,
    Makefiles, shell scripts and skaffold configs too), unreadable ones left out."""
    for path, is_document in _sources(root):
        if not (is_document or automation):
            continue
        try:
            text = read_regular(path, _MAX_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        yield path, text


@lru_cache(maxsize=4)
def _sources(root: Path) -> tuple[tuple[Path, bool], ...]:
    """Documentation files anywhere (not in tooling folders), GitHub workflows and the
    automation files (``_automation``), each with whether it is a document or workflow:
    one walk serves ``published`` and ``kustomize_applied``."""
    found: list[tuple[Path, bool]] = []
    # ``fixer.tree.walk``: ``os.walk``'s folders and files, without a system call per
    # folder (each worker that asks walks the tree once for this: 0.1 to 0.5 s at 29,630
    # files, by the machine). Sorted: the first place that names a file is the one cited,
    # and a folder's listing order is the file system's (ext4 and tmpfs gave two different
    # citations of one repository).
    for folder, dirs, files, _ in tree.walk(root):
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_DIRS and (d == ".github" or not d.startswith("."))
        )
        in_workflows = os.path.basename(folder) == "workflows" and ".github" in folder
        for name in sorted(files):
            is_document = name.lower().endswith(_DOC_SUFFIXES) or (
                in_workflows and name.endswith((".yml", ".yaml"))
            )
            if is_document or _automation(name):
                found.append((Path(folder) / name, is_document))
    return tuple(found)


#: ``kubectl apply -k DIR``, ``kubectl kustomize DIR``, ``kustomize build DIR`` (and ``oc``);
#: the tool also through a Makefile or shell variable (KubeRay's ``$(KUSTOMIZE) build
#: deploy/local/secure | kubectl create -f -``).
_KUBECTL = r"(?:\$[({](?i:kubectl|oc)[)}]|\b(?:kubectl|oc)\b)"
_KUSTOMIZE_TOOL = r"(?:\$[({](?i:kustomize)[)}]|\bkustomize\b)"
_KUSTOMIZE = re.compile(
    rf"(?:{_KUBECTL}[^\n|;&]*?\s(?:-k|--kustomize)(?:=|\s+)"
    rf"|{_KUBECTL}\s+kustomize\s+(?:--?[\w-]+(?:=\S+)?\s+)*"
    rf"|{_KUSTOMIZE_TOOL}\s+build\s+(?:--?[\w-]+(?:=\S+)?\s+)*)((?:\$\([^)\s]*\)|[^\s|;&)])+)"
)
_VARIABLE = re.compile(r"\$\([^)]*\)|\$\{[^}]*\}|\$\w+")


def kustomize_applied(root: Path, folders: list[Path]) -> str | None:
    """``path:line`` of the first line of the repository's documents, workflows, Makefiles
    or shell scripts that renders or applies one of the Kustomization ``folders``
    (``kubectl apply -k``, ``kubectl kustomize``, ``kustomize build``; a variable in the
    folder matches any name: ``test/e2e/manifests/$(PROFILE)``), else None."""
    wanted = []
    for folder in folders:
        try:
            wanted.append(folder.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            continue
    if not wanted:
        return None
    targets, literal, globs = _kustomize_index(root.resolve())
    # The first target in the documents' order that names a wanted folder: the literal
    # ones are looked up (a monorepo's README applies every service's overlay: comparing
    # each asked folder with all of them was quadratic), the patterns tried in order.
    first = min((literal[w] for w in wanted if w in literal), default=len(targets))
    for n, pattern in globs:
        if n >= first:
            break
        if any(w == pattern or fnmatch.fnmatchcase(w, pattern) for w in wanted):
            first = n
            break
    return targets[first][1] if first < len(targets) else None


@lru_cache(maxsize=4)
def _kustomize_index(
    root: Path,
) -> tuple[list[tuple[str, str]], dict[str, int], list[tuple[int, str]]]:
    """``_kustomize_targets``, with the first position of each literal folder and the
    positions of the patterns (a folder with ``*``, ``?`` or ``[``)."""
    targets = _kustomize_targets(root)
    literal: dict[str, int] = {}
    globs: list[tuple[int, str]] = []
    for n, (pattern, _) in enumerate(targets):
        if any(c in pattern for c in "*?["):
            globs.append((n, pattern))
        else:
            literal.setdefault(pattern, n)
    return targets, literal, globs


@lru_cache(maxsize=4)
def _kustomize_targets(root: Path) -> list[tuple[str, str]]:
    """(folder pattern from the root, ``path:line``) of every Kustomize render or apply the
    repository's automation runs; a relative folder is tried from the root and from the
    file's own folder. Read once per repository, when a move is about to be offered."""
    found: list[tuple[str, str]] = []
    for path, text in _texts(root, automation=True):
        if "kustomiz" not in text and "KUSTOMIZ" not in text and "-k" not in text:
            continue
        where = path.relative_to(root).as_posix()
        base = path.parent.relative_to(root).as_posix()
        if _skaffold(path.name):
            found += _skaffold_paths(text, base, where)
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for m in _KUSTOMIZE.finditer(line):
                target = m.group(1).strip("\"'")
                if "://" in target or target.startswith(("github.com/", "-")):
                    continue  # a remote base, or an option
                target = _VARIABLE.sub("*", target).rstrip("/") or "."
                for start in {".", base}:
                    pattern = os.path.normpath(os.path.join(start, target))
                    if not pattern.startswith(".."):
                        found.append((Path(pattern).as_posix(), f"{where}:{number}"))
    return found


def _automation(name: str) -> bool:
    lower = name.lower()
    return (
        name in ("Makefile", "makefile", "GNUmakefile")
        or lower.endswith((".mk", ".sh"))
        or _skaffold(name)
    )


def _skaffold(name: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), "skaffold*.y*ml")


def _skaffold_paths(text: str, base: str, where: str) -> list[tuple[str, str]]:
    """The folders a skaffold config renders with Kustomize (``manifests.kustomize.paths``,
    v2's ``deploy.kustomize.paths``), relative to the config's folder, with their lines."""
    import yaml

    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return []
    lines = text.splitlines()
    found: list[tuple[str, str]] = []
    stack: list[object] = list(documents)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            kustomize = node.get("kustomize")
            paths = kustomize.get("paths") if isinstance(kustomize, dict) else None
            for folder in paths if isinstance(paths, list) else ():
                if not isinstance(folder, str) or "://" in folder:
                    continue
                pattern = os.path.normpath(os.path.join(base, _VARIABLE.sub("*", folder)))
                number = next((n for n, ln in enumerate(lines, 1) if folder in ln), 1)
                if not pattern.startswith(".."):
                    found.append((Path(pattern).as_posix(), f"{where}:{number}"))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
