"""YAML files read for the model's questions, parsed once however many ask.

A manifest the index parses on first question (``Index.runs_for``) is asked about again
right after: ``usage`` reads its container's settings from the same file. One cache per
model, keyed by path, size and modification time (a file changed since, a fix written, is
read again), serves both; it keeps the files last asked about, so memory stays flat.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from fixer.documents import yaml as y
from fixer.documents.text import SourceText
from fixer.documents.yaml import Node, YamlFile
from fixer.repository import walk

#: Parsed files kept: the same few answer every question of one Dockerfile (over the
#: corpus no file is read twice with 32 kept, as with 256; each kept file is its whole
#: node tree, so 256 of them were 16 MB of each worker over a 30,000-file tree).
MAX_KEPT = 32


class YamlFiles:
    """Parsed YAML files by path, size and modification time, the last ``MAX_KEPT`` kept."""

    def __init__(self, parse: Callable[[str], list[Node]]) -> None:
        self._parse = parse
        self._kept: OrderedDict[tuple[Path, int, int], YamlFile | None] = OrderedDict()

    def read(self, path: Path) -> YamlFile | None:
        """``path`` parsed (every document), or None when it is unreadable or does not parse."""
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (path, stat.st_size, stat.st_mtime_ns)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        text = walk.read_text(path)
        docs = self._parse(text) if text is not None else []
        found = YamlFile(SourceText(text), docs) if text is not None and docs else None
        self._kept[key] = found
        if len(self._kept) > MAX_KEPT:
            self._kept.popitem(last=False)
        return found


def documents(text: str) -> list[Node]:
    """All documents of a YAML file, or none when it does not parse. Unlike
    ``documents.yaml.parse`` this accepts ``${{ }}`` (GitHub Actions expressions are not
    templates); the alias-bomb guard stays. Composed as the files tighten checks are
    (``documents.yaml.compose_all``: libyaml with the memoised tag resolver)."""
    try:
        docs = y.compose_all(text)
    except Exception:  # a bad file is skipped, whatever the parser raised
        return []
    if y.may_alias(text) and any(y.expanded_size(d) > y.MAX_EXPANDED_NODES for d in docs):
        return []
    return docs
