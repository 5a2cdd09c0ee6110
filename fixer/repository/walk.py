"""One walk over the repository: candidate files by name, size-capped reads.

Only names decide what is read, so a 30,000-file tree costs one walk (``fixer.tree``)
plus the reads of the few files that can hold evidence. Folders that are never source (``vendor/``,
``testdata/``) are not entered unless asked.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from fixer import tree
from fixer.filenames import SKIP_DIRS, is_dockerfile_name
from fixer.repository.sources import skip_folder

#: The file that marks a cache folder (https://bford.info/cachedir/).
CACHE_TAG = "CACHEDIR.TAG"
#: Larger files are not read: evidence files are small, and a huge YAML is a generated bundle.
MAX_BYTES = 2 * 1024 * 1024

DOCKERFILE = "dockerfile"
SKAFFOLD = "skaffold"
COMPOSE = "compose"
WORKFLOW = "workflow"
GITLAB = "gitlab"
MAKEFILE = "makefile"
SCRIPT = "script"
TILTFILE = "tiltfile"
KUSTOMIZATION = "kustomization"
GO_MAIN = "go-main"  # a Go program's main.go: where a binary's flag defaults are read
GO_GENERATOR = "go-generator"  # a Go program in a generate/ folder: the files it writes
#: Folders whose Go programs generate files (``cmd/k8s-operator/generate/main.go``).
_GO_GENERATOR_FOLDERS = frozenset({"generate", "gen", "codegen", "generator", "generators"})
DOCS = "docs"  # Markdown: its shell code blocks are commands people run
PACKAGE = "package"  # package.json: its npm scripts are shell commands
HELM_VALUES = "helm-values"  # a chart's values.yaml: the images it deploys, and how
JSONNET_MAIN = "jsonnet-main"  # a jsonnet/Tanka environment: its output folders are generated
YAML = "yaml"  # maybe a Kubernetes manifest: decided by apiVersion + kind once read

_YAML = (".yaml", ".yml")
_KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})


def kind_of(rel_parts: tuple[str, ...]) -> str | None:
    """The candidate kind of a file from its path relative to the root, or None."""
    name = rel_parts[-1]
    lower = name.lower()
    if is_dockerfile_name(name):
        return DOCKERFILE
    if name in _KUSTOMIZATION_NAMES:
        return KUSTOMIZATION
    if name == "Tiltfile" or name.startswith("Tiltfile."):
        return TILTFILE
    if name in ("Makefile", "makefile", "GNUmakefile") or lower.endswith(".mk"):
        return MAKEFILE
    if lower.endswith((".sh", ".bash")):
        return SCRIPT
    if name == ".gitlab-ci.yml":
        return GITLAB
    if lower.endswith((".md", ".markdown")):
        return DOCS
    if name == "package.json":
        return PACKAGE
    if lower.endswith(".go") and _GO_GENERATOR_FOLDERS.intersection(rel_parts[:-1]):
        return GO_GENERATOR
    if name == "main.go":
        return GO_MAIN
    if name == "main.jsonnet":
        return JSONNET_MAIN
    if not lower.endswith(_YAML):
        return None
    if name in ("values.yaml", "values.yml"):
        return HELM_VALUES
    if rel_parts[:2] == (".github", "workflows") and len(rel_parts) == 3:
        return WORKFLOW
    if fnmatch.fnmatchcase(lower, "skaffold*.y*ml"):
        return SKAFFOLD
    if fnmatch.fnmatchcase(lower, "docker-compose*.y*ml") or fnmatch.fnmatchcase(
        lower, "compose*.y*ml"
    ):
        return COMPOSE
    return YAML


def walk(
    root: Path, on_skipped: Callable[[tuple[str, ...]], None] | None = None
) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """Every file under ``root`` with its relative parts, in a stable order. Folders that
    are never source are not entered when ``on_skipped`` is given: it is told instead."""
    # Each folder's parts relative to the root, filed by its parent as it is kept: the walk
    # (top-down) reaches a folder only after its parent, and a relpath per folder cost more.
    parts_of: dict[str, tuple[str, ...]] = {}
    for folder, dirs, files, _ in tree.walk(root):
        if CACHE_TAG in files:  # a cache (ours: ``fixer.cache``) changes on every run
            dirs[:] = []
            continue
        parents = parts_of.pop(folder, None)
        if parents is None:  # the root
            rel = os.path.relpath(folder, root)
            parents = () if rel == "." else tuple(rel.split(os.sep))
        kept = []
        for d in sorted(dirs):
            if d in SKIP_DIRS:
                continue
            if on_skipped is not None and skip_folder(d, parents):
                on_skipped((*parents, d))
                continue
            kept.append(d)
            parts_of[os.path.join(folder, d)] = (*parents, d)
        dirs[:] = kept
        base = Path(folder)
        for name in sorted(files):
            yield base / name, (*parents, name)


def given(root: Path, files: Iterable[Path]) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """The listed files (``git ls-files``, discovered targets) with their relative parts."""
    for path in files:
        full = path if path.is_absolute() else root / path
        rel = os.path.relpath(full, root)
        if rel.startswith(".."):
            continue
        yield Path(os.path.normpath(full)), tuple(rel.split(os.sep))


def read_text(path: Path, limit: int = MAX_BYTES) -> str | None:
    """The file's text, or None when it is unreadable, binary, too large, not UTF-8 or not
    a regular file (a FIFO named ``pod.yaml`` must not block the scan)."""
    from fixer.readfile import read_regular

    try:
        data = read_regular(path, limit + 1)
    except OSError:
        return None
    if len(data) > limit or b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
