"""Generated side files (Secret manifests) at the edge: durable writes, .gitignore lines, display.

A value moved out of a file must exist, at every instant, in at least one durable file. So
``tighten fix`` writes the side files of each fixed file before the file itself, in this
order: the ``.gitignore`` lines that keep them out of git (``gitignore_updates``), then each
Secret, merged into what the file holds now, fsync'ed with its folder (``write_durably``);
only then is the source rewritten. Everything that can fail is tried before anything is
written (``changes_for``), and any failure leaves the source untouched. What ``--dry-run``
shows of a file that already holds real values has them masked (``mask_stored_values``).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fixer.write import WriteError, check_target, write_atomic

if TYPE_CHECKING:
    import yaml

    from fixer.engine import FileResult
    from fixer.model import SideFile
    from fixer.roots import Roots

MASK = '"***"'
#: What ``--dry-run`` shows instead of an existing side file it cannot read as YAML.
UNREADABLE = "# (existing content not shown: it is not valid YAML)\n"
#: Errors of ``fsync`` on a folder that mean the file system cannot do it (not a failure).
_NO_FOLDER_SYNC = {errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES, errno.EISDIR}


def merge_all(sides: Iterable[SideFile], text: str) -> str:
    """``text`` with ``sides`` merged into it, in order."""
    for side in sides:
        text = side.merge(text)
    return text


def read_text(path: Path) -> str | None:
    """The file's text as it is on disk (CRLF stays CRLF: merges keep the file's own line
    ends), None when it does not exist (other errors propagate)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class Change:
    """One side file to write: its text now (None: absent) and its new text."""

    path: Path
    old: str | None
    new: str
    private: bool  # readable by its owner only when created (it holds values)


def changes_for(sides: Mapping[Path, Sequence[SideFile]]) -> list[Change]:
    """The writes that put ``sides`` on disk, computed before anything is written. Raises
    ``WriteError`` (nothing written) when one is impossible: a Secret of the same name that
    tighten does not manage, a key that already holds another value, an unreadable file...

    Each file's new text is its current text merged with its side files in order, so
    merging fixed file after fixed file gives the same bytes as merging them all at once.
    The ``.gitignore`` lines come from ``guard_side_files``, which runs first.
    """
    changes = []
    for path, group in sides.items():
        try:
            old = text = read_text(path)
            for side in group:
                text = side.merge(text)
        except (OSError, ValueError) as exc:  # SecretManifestError: never holds values
            raise WriteError(f"not modified: cannot update {path}: {exc}") from None
        # A committed side file (an ExternalSecret that gains a key) holds no value: its
        # mode stays as it is.
        private = any(side.gitignore for side in group)
        changes.append(Change(path, old, text or "", private=private))
    return changes


def write_durably(change: Change, root: Path) -> list[str]:
    """Write ``change`` below ``root`` so that it survives a crash from the moment this
    returns: the file (by ``write_atomic``, never through a link) and the folder entries
    that name it are fsync'ed. The write's notices. Raises ``WriteError``."""
    if change.new == change.old:
        return []
    folder = change.path.parent
    created = list(_missing(folder))
    expected = None if change.old is None else change.old.encode("utf-8")
    try:
        written = write_atomic(
            change.path,
            change.new.encode("utf-8"),
            root=root,
            expected=expected,
            private=change.private,
            make_parents=True,
        )
    except WriteError as exc:  # said of the file being fixed: name the one that failed
        reason = str(exc).removeprefix("cannot write: ").removesuffix("; not modified")
        raise WriteError(f"not modified: cannot write {change.path}: {reason}") from None
    for entry in [folder, *(f.parent for f in created)]:
        _fsync_folder(entry)
    return list(written.notices)


def _missing(folder: Path) -> Iterator[Path]:
    """The folders at and above ``folder`` that do not exist yet (deepest first)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return
        yield candidate


def _fsync_folder(folder: Path) -> None:
    """Make the entries of ``folder`` (a renamed or created file) durable."""
    if os.name == "nt":  # folders cannot be opened there; NTFS journals renames
        return
    fd = None
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_FOLDER_SYNC:  # EIO, ENOSPC: the write may not last
            raise WriteError(f"not modified: cannot sync {folder}: {exc.strerror or exc}") from None
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def guard_side_files(sides: Mapping[Path, Sequence[SideFile]], roots: Roots) -> list[Path]:
    """Before the source loses its values: every side file can be written below a root
    without following a link, and each private one is git-ignored by a ``.gitignore`` git
    reads (the line is added now, under a lock, and checked with git). Returns the
    ``.gitignore`` files written; ``WriteError`` (nothing of the source written) when a side
    file cannot be."""
    from fixer.secrets.gitignore import ensure_ignored

    written: list[Path] = []
    for path, group in sides.items():
        try:
            check_target(path, root=roots.root_of(path))
        except WriteError as exc:
            raise WriteError(f"not modified: cannot write {path}: {exc}") from None
        try:
            ignore = ensure_ignored(path) if any(s.gitignore for s in group) else None
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
    """``text`` with every value under ``data``/``stringData`` of every ``Secret`` replaced
    by ``"***"``, wherever the Secret sits (a document, the ``items`` of a ``kind: List``,
    Lists in Lists): what may be displayed of a file that holds real values."""
    import yaml

    try:
        documents = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return UNREADABLE
    if any(isinstance(doc, yaml.ScalarNode) for doc in documents):
        return _mask_env_lines(text)  # a kustomize env file (KEY=value lines) reads as one
    spans = [span for doc in documents for span in _value_spans(doc, text)]
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:  # an alias to a value already masked
            continue
        out += [text[pos:start], MASK]
        pos = end
    return "".join([*out, text[pos:]])


def _mask_env_lines(text: str) -> str:
    """``text`` with the value of every ``KEY=value`` line replaced by ``***`` (a
    secretGenerator's env file, where each value is a secret)."""
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        key, sep, _ = body.partition("=")
        if sep and not body.lstrip().startswith("#"):
            line = f"{key}=***{line[len(body) :]}"
        out.append(line)
    return "".join(out)


def _value_spans(document: yaml.Node | None, text: str) -> Iterator[tuple[int, int]]:
    """The values of every Secret in ``document``: at its top, or nested anywhere below
    (``kind: List`` items, Lists in Lists, templates); each node once, so that aliases
    cannot make the walk blow up."""
    import yaml

    seen: set[int] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            kind = fields.get("kind")
            if isinstance(kind, yaml.ScalarNode) and kind.value == "Secret":
                yield from _secret_spans(fields, text)
            stack.extend(value for _, value in node.value)


def _secret_spans(fields: dict[str, yaml.Node], text: str) -> Iterator[tuple[int, int]]:
    import yaml

    for name in ("data", "stringData"):
        values = fields.get(name)
        if not isinstance(values, yaml.MappingNode):
            continue
        for _, value in values.value:
            start, end = value.start_mark.index, value.end_mark.index
            if getattr(value, "style", None) in ("|", ">"):  # block scalars end after newlines
                end = start + len(text[start:end].rstrip())
            yield start, end


@dataclass
class SideFiles:
    """Generated files, merged in the order fixes produced them; a side file equal to one
    already merged (the same fix reached twice) is merged once."""

    pending: dict[Path, list[SideFile]] = field(default_factory=dict)

    def add(self, result: FileResult) -> None:
        self.record(self.fresh(result))

    def fresh(self, result: FileResult) -> dict[Path, list[SideFile]]:
        """The side files of ``result``'s applied fixes not merged yet, by path, in order
        (what ``tighten fix`` writes before it rewrites the file)."""
        found: dict[Path, list[SideFile]] = {}
        for fix in result.applied:
            for side in fix.side_files:
                bucket = found.setdefault(side.path, [])
                if side not in bucket and side not in self.pending.get(side.path, ()):
                    bucket.append(side)
        return {path: sides for path, sides in found.items() if sides}

    def record(self, sides: dict[Path, list[SideFile]]) -> None:
        """Count ``sides`` as merged (on disk, or in what ``--dry-run`` shows)."""
        for path, group in sides.items():
            self.pending.setdefault(path, []).extend(group)

    def merged_into(self, path: Path) -> list[SideFile]:
        """The side files already merged into ``path`` (however its name was spelled): a
        file the run also fixes itself (a manifest DF004 adds an ``env`` entry to)."""
        wanted = os.path.abspath(path)
        return [
            s for p, group in self.pending.items() if os.path.abspath(p) == wanted for s in group
        ]

    def render(self, path: Path, existing: str | None, *, masked: bool) -> str:
        text = existing
        for side in self.pending[path]:
            merge = side.masked_merge if masked and side.masked_merge else side.merge
            text = merge(text)
        return text or ""
