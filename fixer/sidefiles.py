"""Generated side files (Secret manifests) at the edge: checks, .gitignore lines, display.

The session writes side files after every source file was handled, so three things are
settled here, once: a source file only loses its secret values when their new home can take
them (``preflight``); the ``.gitignore`` lines that keep the values out of git are worked out
before any value is written (``gitignore_updates``); and what ``--dry-run`` shows of a file
that already holds real values has them masked (``mask_stored_values``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fixer.write import WriteError, check_target

if TYPE_CHECKING:
    import yaml

    from fixer.engine import FileResult
    from fixer.roots import Roots

MASK = '"***"'
#: What ``--dry-run`` shows instead of an existing side file it cannot read as YAML.
UNREADABLE = "# (existing content not shown: it is not valid YAML)\n"


def read_text(path: Path) -> str | None:
    """The file's text, None when it does not exist (other errors propagate)."""
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        return None


def preflight(result: FileResult) -> None:
    """Raise ``WriteError`` when a side file of an applied fix could not be written.

    Checked before the source file is rewritten: a Secret of the same name that tighten does
    not manage, an unreadable target or a read-only folder would otherwise leave the values
    neither in the source nor in the Secret.
    """
    for fix in result.applied:
        for side in fix.side_files:
            try:
                side.merge(read_text(side.path))
            except (OSError, ValueError) as exc:
                raise WriteError(f"not modified: cannot update {side.path}: {exc}") from None
            folder = _existing_ancestor(side.path.parent)
            if not os.access(folder, os.W_OK):
                raise WriteError(f"not modified: cannot write {side.path}: folder is read-only")


def _existing_ancestor(folder: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def guard_side_files(result: FileResult, roots: Roots) -> list[Path]:
    """Before the source loses its values: every side file of an applied fix can be written
    below a root without following a link, and each private one is git-ignored by a
    ``.gitignore`` git reads (the line is added now). Returns the ``.gitignore`` files
    written; ``WriteError`` (nothing of the source written) when a side file cannot be."""
    from fixer.secrets.gitignore import ensure_ignored

    written: list[Path] = []
    for fix in result.applied:
        for side in fix.side_files:
            try:
                check_target(side.path, root=roots.root_of(side.path))
            except WriteError as exc:
                raise WriteError(f"not modified: cannot write {side.path}: {exc}") from None
            try:
                ignore = ensure_ignored(side.path) if side.gitignore else None
            except WriteError as exc:
                raise WriteError(f"not modified: {exc}") from None
            if ignore is not None and ignore not in written:
                written.append(ignore)
    return written


def gitignore_updates(paths: Iterable[Path]) -> dict[Path, tuple[str | None, str]]:
    """For each ``.gitignore`` that must change so ``paths`` stay out of git: its current
    text (None: to be created) and the new text. Paths outside a git work tree need none."""
    from fixer.secrets import add_gitignore_line, gitignore_entry

    updates: dict[Path, tuple[str | None, str]] = {}
    for path in paths:
        entry = gitignore_entry(path)
        if entry is None:
            continue
        gitignore, line = entry
        if gitignore not in updates:
            current = read_text(gitignore)
            updates[gitignore] = (current, current or "")
        current, new = updates[gitignore]
        updates[gitignore] = (current, add_gitignore_line(new, line))
    return {path: (old, new) for path, (old, new) in updates.items() if old != new}


def mask_stored_values(text: str) -> str:
    """``text`` with every value under ``data``/``stringData`` of every ``Secret`` document
    replaced by ``"***"``: what may be displayed of a file that holds real values."""
    import yaml

    try:
        documents = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return UNREADABLE
    spans = [span for doc in documents for span in _value_spans(doc, text)]
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:  # an alias to a value already masked
            continue
        out += [text[pos:start], MASK]
        pos = end
    return "".join([*out, text[pos:]])


def _value_spans(document: yaml.Node | None, text: str) -> Iterable[tuple[int, int]]:
    import yaml

    if not isinstance(document, yaml.MappingNode):
        return
    fields = {k.value: v for k, v in document.value if isinstance(k, yaml.ScalarNode)}
    kind = fields.get("kind")
    if not isinstance(kind, yaml.ScalarNode) or kind.value != "Secret":
        return
    for name in ("data", "stringData"):
        values = fields.get(name)
        if not isinstance(values, yaml.MappingNode):
            continue
        for _, value in values.value:
            start, end = value.start_mark.index, value.end_mark.index
            if getattr(value, "style", None) in ("|", ">"):  # block scalars end after newlines
                end = start + len(text[start:end].rstrip())
            yield start, end
