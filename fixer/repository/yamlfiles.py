"""YAML files read for the model's questions, parsed once however many ask.

A manifest the index parses on first question (``Index.runs_for``) is asked about again
right after: ``usage`` reads its container's settings from the same file. One cache, keyed
by path, size and modification time, serves both, so a file changed since (a fix written)
is read again.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fixer.documents import yaml as y
from fixer.documents.text import SourceText
from fixer.documents.yaml import Node, YamlFile
from fixer.repository import walk


def read(path: Path) -> YamlFile | None:
    """``path`` parsed (every document), or None when it is unreadable or does not parse."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _read(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _read(path: Path, size: int, mtime: int) -> YamlFile | None:
    text = walk.read_text(path)
    if text is None:
        return None
    docs = documents(text)
    return YamlFile(SourceText(text), docs) if docs else None


def documents(text: str) -> list[Node]:
    """All documents of a YAML file, or none when it does not parse. Unlike
    ``documents.yaml.parse`` this accepts ``${{ }}`` (GitHub Actions expressions are not
    templates); the alias-bomb guard stays."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = [d for d in yaml.compose_all(text, Loader=loader) if d is not None]
    except Exception:  # a bad file is skipped, whatever the parser raised
        return []
    if "&" in text and "*" in text and any(y.expanded_size(d) > y.MAX_EXPANDED_NODES for d in docs):
        return []
    return docs
