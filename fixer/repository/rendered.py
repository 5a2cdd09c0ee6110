"""Copies of an object in other YAML files: generated bundles (``install.yaml`` built by
``kustomize build`` and marked ``DO NOT EDIT``) and concatenations of sources.

A fix to a source manifest whose object is also in such a bundle leaves the bundle stale:
the project's "generated files are up to date" check (``make codegen`` then ``git diff
--exit-code``) fails on the pull request, and tighten cannot run the generator. The bundles
are skipped as generated, so they are only scanned here, with the repository's other YAML
files, by lines (kind and ``metadata.name`` of each document, no YAML parse: bundles of
CRDs run to megabytes), and only when a fix asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from fixer.repository import walk

_SEPARATOR = re.compile(r"(?m)^---[ \t]*(?:#.*)?$")
_KIND = re.compile(r"(?m)^kind:[ \t]*[\"']?([A-Za-z][\w.-]*)")
_NAME = re.compile(r"^([ \t]+)name:[ \t]*[\"']?([\w.:-]+)")


def identities(text: str) -> Iterator[tuple[str, str]]:
    """(kind, metadata.name) of each top-level object of a YAML text, by lines."""
    for document in _SEPARATOR.split(text):
        kind = _KIND.search(document)
        name = _metadata_name(document)
        if kind and name:
            yield kind.group(1), name


def _metadata_name(document: str) -> str | None:
    lines = iter(document.splitlines())
    for line in lines:
        if line.rstrip() == "metadata:":
            break
    else:
        return None
    depth: int | None = None
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if indent == 0:
            return None
        if depth is None:
            depth = indent
        if indent == depth:
            m = _NAME.match(line)
            if m:
                return m.group(2)
    return None


class Holders:
    """Which YAML files hold an object of a given kind and name, and which objects each
    file holds: every file is read once, by lines, on the first question."""

    def __init__(self, files: Iterable[Path]) -> None:
        self._files = [p for p in files if p.suffix.lower() in (".yaml", ".yml")]
        self._holding: dict[tuple[str, str], list[Path]] = {}
        self._objects: dict[Path, list[tuple[str, str]]] | None = None

    def _read(self) -> dict[Path, list[tuple[str, str]]]:
        if self._objects is None:
            objects: dict[Path, list[tuple[str, str]]] = {}
            for path in self._files:
                found = objects[path] = list(dict.fromkeys(identities(walk.read_text(path) or "")))
                for identity in found:
                    self._holding.setdefault(identity, []).append(path)
            self._objects = objects
        return self._objects

    def holding(self, kind: str, name: str) -> list[Path]:
        self._read()
        return list(self._holding.get((kind, name), ()))

    def objects_of(self, path: Path) -> list[tuple[str, str]] | None:
        """The objects of ``path``; None when it is not one of the files read."""
        return self._read().get(path)
