"""The result cache: a ``check`` of unchanged files answers from disk (ruff's cache is the model).

One JSON file per *run key* under ``.tighten_cache/`` at the project root (the git work tree,
else the folder named): the run key is a digest of tighten's version and code, the rules
(ids and the code that defines them) and every setting. Inside it, one entry per file path,
valid while the file key matches: a digest of the file's bytes, its kind, whether it was
named or found by walking, and, when an enabled rule asks the repository model, the model's
digest (every walked file's path, size and mtime: editing any file of the repository
invalidates those entries; sound and simple, see ``RepositoryModel.digest``).

Only ``check`` results are stored: findings, errors and notices. A result holding a secret
value (a finding with ``masks``, a fix that writes a Secret file) or an internal error is
never stored: it is recomputed on every run, so no secret ever reaches the cache. Entries are
read leniently (a malformed one is a miss) and the file is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from fixer.documents.text import SourceText
from fixer.engine import FileResult
from fixer.model import Edit, Finding, Fix, Safety, Span
from fixer.ruleset import RuleSet
from fixer.settings import Settings

CACHE_DIR = ".tighten_cache"
#: Marks the folder as a cache (https://bford.info/cachedir/): backup tools skip it, and so
#: does the repository scan (its files change on every run).
TAG_NAME = "CACHEDIR.TAG"
TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# tighten's result cache\n"
_FORMAT = 1


def cache_folder(root: Path, settings: Settings) -> Path:
    """``--cache-dir``, else ``.tighten_cache`` at the project root."""
    chosen = settings.caching.cache_dir
    return Path(chosen) if chosen is not None else root / CACHE_DIR


def run_key(settings: Settings, rules: RuleSet) -> str:
    """Everything besides the file that decides a ``check`` result."""
    from fixer import __version__

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{_FORMAT}\0{__version__}\0{sys.version_info[:2]}\0".encode())
    digest.update(_canonical(settings).encode())
    modules = {"fixer", *(type(r).__module__ for r in rules.rules)}
    for rule in rules.rules:
        digest.update(f"{rule.id}\0{type(rule).__module__}.{type(rule).__qualname__}\0".encode())
    for line in _code_stamps(modules):
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _canonical(value: Any) -> str:
    """A text for ``value`` that is the same in every process (sets are sorted)."""
    if is_dataclass(value) and not isinstance(value, type):
        inner = ",".join(f"{f.name}={_canonical(getattr(value, f.name))}" for f in fields(value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, Enum):
        return repr(value.value)
    return repr(str(value) if isinstance(value, Path) else value)


def _code_stamps(modules: Iterable[str]) -> Iterator[str]:
    """Size and mtime of every Python file of the packages the rules and the engine live
    in: an edited source tree (an editable install) never answers from an older cache."""
    folders = set()
    for name in modules:
        module = sys.modules.get(name.split(".")[0])
        path = getattr(module, "__file__", None)
        if path:
            folders.add(os.path.dirname(path))
    for folder in sorted(folders):
        for base, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    try:
                        st = os.stat(os.path.join(base, name))
                    except OSError:
                        continue
                    yield f"{base}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n"


def file_key(path: Path, kind: str, explicit: bool, data: bytes, model: str | None) -> str:
    """What a cached result of ``path`` must match: its bytes and how it was reached."""
    digest = hashlib.blake2b(data, digest_size=16)
    digest.update(f"\0{kind}\0{int(explicit)}\0{model or ''}".encode())
    return digest.hexdigest()


@dataclass
class ResultCache:
    """The entries of one run key: path -> (file key, stored result). Loaded before the
    workers fork (they read it), updated in the parent from what the workers return."""

    file: Path
    #: The repository model's digest when an enabled rule asks the model, else None.
    model: str | None = None
    entries: dict[str, list[Any]] = field(default_factory=dict)
    added: int = 0
    hits: int = 0

    @classmethod
    def load(cls, folder: Path, key: str, model: str | None) -> ResultCache:
        file = folder / f"{key}.json"
        try:
            with open(file, encoding="utf-8") as handle:
                stored = json.load(handle)
            entries = stored["entries"] if stored.get("format") == _FORMAT else {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            entries = {}  # no cache yet, or a corrupt one: start afresh
        if not isinstance(entries, dict):
            entries = {}
        return cls(file, model, entries)

    def get(self, path: Path, key: str, data: bytes) -> FileResult | None:
        """The stored result of ``path`` when its key matches; None for a miss (a malformed
        entry is a miss)."""
        entry = self.entries.get(str(path))
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] != key:
            return None
        try:
            return _result(path, json.loads(entry[1]), data)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            return None

    def put(self, path: Path, key: str, stored: dict[str, Any]) -> None:
        # Kept as JSON text until a hit needs it: a string is a fraction of the memory of
        # the objects it holds, and the workers share the entries of a large run.
        self.entries[str(path)] = [key, json.dumps(stored, separators=(",", ":"))]
        self.added += 1

    def save(self) -> str | None:
        """Write the entries atomically (temporary file, then rename); the reason on failure."""
        if not self.added:
            return None
        folder = self.file.parent
        try:
            _prepare(folder)
            text = json.dumps({"format": _FORMAT, "entries": self.entries}, separators=(",", ":"))
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(tmp, self.file)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            return f"cannot write the cache in {folder}: {exc.strerror or exc}"
        return None


def _prepare(folder: Path) -> None:
    """The cache folder, with a ``.gitignore`` that keeps all of it out of git."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ((".gitignore", "*\n"), (TAG_NAME, TAG)):
        marker = folder / name
        if not marker.exists():
            marker.write_text(text, encoding="utf-8")


# --- results as JSON ------------------------------------------------------------------------


def stored(result: FileResult) -> dict[str, Any] | None:
    """``result`` as a JSON value, or None when it must not be stored (secret values, an
    internal error, anything ``check`` does not produce)."""
    if result.applied or result.fixed or result.passes or result.diff is not None:
        return None
    if result.error and "internal error" in result.error:
        return None
    findings = []
    for finding in result.found:
        if finding.masks or (finding.fix is not None and finding.fix.side_files):
            return None  # holds a secret value: recomputed each run, never written down
        findings.append(_finding(finding))
    return {
        "kind": result.kind,
        "source": result.source is not None,
        "error": result.error,
        "notice": result.notice,
        "notices": list(result.notices),
        "skipped": result.skipped,
        "found": findings,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    fix = finding.fix
    return {
        "rule": finding.rule,
        "line": finding.line,
        "column": finding.column,
        "message": finding.message,
        "span": [finding.span.start, finding.span.end],
        "reason": finding.reason,
        "pending": finding.pending,
        "fix": None
        if fix is None
        else {
            "title": fix.title,
            "safety": fix.safety.value,
            "needs": fix.needs,
            "evidence": list(fix.evidence),
            "edits": [[e.span.start, e.span.end, e.content] for e in fix.edits],
        },
    }


def _result(path: Path, value: dict[str, Any], data: bytes) -> FileResult:
    source = SourceText.decode(data) if value["source"] else None
    found = [_read_finding(path, f) for f in value["found"]]
    return FileResult(
        path,
        str(value["kind"]),
        source,
        source.text if source is not None else "",
        found=found,
        remaining=found,  # as ``process_text`` leaves a result it did not fix
        error=value["error"],
        notice=value["notice"],
        notices=[str(n) for n in value["notices"]],
        skipped=value["skipped"],
    )


def _read_finding(path: Path, value: dict[str, Any]) -> Finding:
    fix = value["fix"]
    return Finding(
        rule=str(value["rule"]),
        path=path,
        line=int(value["line"]),
        column=int(value["column"]),
        message=str(value["message"]),
        span=Span(int(value["span"][0]), int(value["span"][1])),
        reason=str(value["reason"]),
        pending=bool(value["pending"]),
        fix=None
        if fix is None
        else Fix(
            title=str(fix["title"]),
            edits=tuple(Edit(Span(int(s), int(e)), str(c)) for s, e, c in fix["edits"]),
            safety=Safety(fix["safety"]),
            needs=str(fix["needs"]),
            evidence=tuple(str(e) for e in fix["evidence"]),
        ),
    )
