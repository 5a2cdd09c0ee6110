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

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, fields, is_dataclass, replace
from enum import Enum
from pathlib import Path
from typing import IO, Any, TextIO

from fixer.documents.text import SourceText
from fixer.engine import FileResult
from fixer.model import Edit, Finding, Fix, Safety, Span
from fixer.output.recorder import Journal
from fixer.ruleset import RuleSet
from fixer.settings import Settings
from fixer.spool import Spool

CACHE_DIR = ".tighten_cache"
#: Marks the folder as a cache (https://bford.info/cachedir/): backup tools skip it, and so
#: does the repository scan (its files change on every run).
TAG_NAME = "CACHEDIR.TAG"
TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# tighten's result cache\n"
_FORMAT = 2


def cache_folder(root: Path, settings: Settings) -> Path:
    """``--cache-dir``, else ``.tighten_cache`` at the project root."""
    chosen = settings.caching.cache_dir
    return Path(chosen) if chosen is not None else root / CACHE_DIR


def run_key(settings: Settings, rules: RuleSet | None, *, edits: bool = True) -> str:
    """Everything besides the file that decides a ``check`` result. ``edits``: the run
    shows the edits of the fixes it offers (SARIF); a run that does not stores fixes whose
    edits were never computed (``Fix.omitted``), so the two keep separate entries.

    ``rules`` None, or the installed set: the installed rules, by their entry points and
    the code of their modules, without loading them (a replayed run never does); any other
    set by its rules' ids and classes."""
    from fixer import __version__
    from fixer.ruleset import installed_identity

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{_FORMAT}\0{__version__}\0{sys.version_info[:2]}\0{edits}\0".encode())
    digest.update(_canonical(settings).encode())
    # Kustomize overlays are judged by rendering them when a renderer is installed: a
    # result made with one is not a result made without (``fixer.repository.render``).
    for tool in ("kubectl", "kustomize"):
        digest.update(f"{tool}\0{shutil.which(tool) or ''}\0".encode("utf-8", "surrogateescape"))
    identity = installed_identity() if rules is None else rules.identity
    if identity is not None:
        points, tops = identity
        digest.update(points.encode("utf-8", "surrogateescape"))
        modules = {"fixer", *tops}
    else:
        assert rules is not None  # a set of its own: no identity
        modules = {"fixer", *(type(r).__module__ for r in rules.rules)}
        for rule in rules.rules:
            line = f"{rule.id}\0{type(rule).__module__}.{type(rule).__qualname__}\0"
            digest.update(line.encode())
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
        path = _module_file(name.split(".")[0])
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


def _module_file(name: str) -> str | None:
    """The file of top-level module ``name``, found without importing it when it is not
    loaded yet (a replayed run never loads the rules)."""
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None)
    from importlib.util import find_spec

    try:
        spec = find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


def file_key(path: Path, kind: str, explicit: bool, data: bytes, model: str | None) -> str:
    """What a cached result of ``path`` must match: its bytes and how it was reached."""
    digest = hashlib.blake2b(data, digest_size=16)
    digest.update(f"\0{kind}\0{int(explicit)}\0{model or ''}".encode())
    return digest.hexdigest()


class ResultCache:
    """The entries of one run key: path -> (file key, stored result). Opened before the
    workers fork (they read it), added to in the parent from what the workers return.

    The file is JSON lines: a head line, then one line per file: its path (a JSON string),
    a tab, its file key, a tab, its stored result (JSON). Opening it reads only where each
    entry is; a hit reads its own line (``os.pread``: the workers share the descriptor,
    never its offset). New entries are spooled (``fixer.spool``) and the file is rewritten
    at the end, the kept old lines copied across: memory holds an index, never the
    entries, however large the tree."""

    def __init__(self, file: Path, model: str | None = None) -> None:
        self.file = file
        #: The repository model's digest when an enabled rule asks the model, else None.
        self.model = model
        #: path -> (file key, offset and length of its stored result in the file)
        self._index: dict[str, tuple[str, int, int]] = {}
        self._fd: int | None = None
        self._spool = Spool(file.parent, prepare_folder)
        self._new: set[bytes] = set()  # the JSON paths of the entries spooled this run
        self.added = 0
        self.hits = 0

    @classmethod
    def load(cls, folder: Path, key: str, model: str | None) -> ResultCache:
        cache = cls(folder / f"{key}{_ENTRIES}", model)
        try:
            fd = os.open(cache.file, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return cache  # no cache yet
        try:
            cache._index = _read_index(fd)
        except (OSError, ValueError):  # a corrupt file: start afresh
            os.close(fd)
            return cache
        cache._fd = fd
        return cache

    def __len__(self) -> int:
        return len(self._index)

    def get(self, path: Path, key: str, data: bytes) -> FileResult | None:
        """The stored result of ``path`` when its key matches; None for a miss (a malformed
        entry is a miss)."""
        entry = self._index.get(str(path))
        if entry is None or entry[0] != key or self._fd is None:
            return None
        try:
            text = os.pread(self._fd, entry[2], entry[1])
            return _result(path, json.loads(text), data)
        except (OSError, KeyError, TypeError, ValueError, IndexError, AttributeError):
            return None

    def put(self, path: Path, key: str, stored: dict[str, Any]) -> None:
        name = json.dumps(str(path)).encode()  # ASCII: non-ASCII is escaped
        value = json.dumps(stored, separators=(",", ":"))
        self._spool.write(b"%s\t%s\t%s\n" % (name, key.encode(), value.encode()))
        self._new.add(name)
        self.added += 1

    def save(self) -> str | None:
        """Write the entries atomically (temporary file, then rename): the old ones this
        run did not replace, then the new; the reason on failure."""
        try:
            if not self.added:
                return None
            folder = self.file.parent
            try:
                if self._spool.failed is not None:
                    raise self._spool.failed
                prepare_folder(folder)
                with _atomic(self.file) as out:
                    out.write(_ENTRIES_HEAD)
                    if self._fd is not None:
                        self._copy_kept(out)
                    self._spool.copy_to(out)
            except OSError as exc:
                return f"cannot write the cache in {folder}: {exc.strerror or exc}"
            return None
        finally:
            self.close()

    def _copy_kept(self, out: IO[bytes]) -> None:
        assert self._fd is not None
        with open(os.dup(self._fd), "rb", closefd=True) as old:
            old.seek(0)
            old.readline()  # the head
            for line in old:
                parts = line.split(b"\t", 2)
                if len(parts) == 3 and parts[0] not in self._new and line.endswith(b"\n"):
                    out.write(line)

    def close(self) -> None:
        self._spool.close()
        if self._fd is not None:
            with suppress(OSError):
                os.close(self._fd)
            self._fd = None


_ENTRIES = ".entries"
_ENTRIES_HEAD = b'{"format":%d,"lines":"path\\tkey\\tresult"}\n' % _FORMAT


def _read_index(fd: int) -> dict[str, tuple[str, int, int]]:
    """path -> (file key, offset, length of the stored result) of every well-formed line.
    ValueError when the head is not this format's."""
    index: dict[str, tuple[str, int, int]] = {}
    with open(os.dup(fd), "rb", closefd=True) as handle:
        head = handle.readline()
        if head != _ENTRIES_HEAD:
            raise ValueError("not this format")
        offset = len(head)
        for line in handle:
            start = offset
            offset += len(line)
            parts = line.split(b"\t", 2)
            if len(parts) != 3 or not line.endswith(b"\n"):
                continue
            name, key, value = parts
            try:
                path = json.loads(name)
            except ValueError:
                continue
            if isinstance(path, str):
                begin = start + len(name) + len(key) + 2
                index[path] = (key.decode("ascii", "replace"), begin, len(value) - 1)
    return index


def prepare_folder(folder: Path) -> None:
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
            "edits": None
            if fix.omitted
            else [[e.span.start, e.span.end, e.content] for e in fix.edits],
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
            edits=tuple(Edit(Span(int(s), int(e)), str(c)) for s, e, c in fix["edits"] or ()),
            safety=Safety(fix["safety"]),
            needs=str(fix["needs"]),
            evidence=tuple(str(e) for e in fix["evidence"]),
            omitted=fix["edits"] is None,
        ),
    )


# --- the run manifest: a whole unchanged run answered from one file ---------------------------

#: A file modified this recently can change again within the same timestamp tick and keep
#: its stamp (git's "racily clean" files): a run that saw one writes no manifest.
RACY_NS = 2_000_000_000
_MANIFEST = "{}.manifest"  # not *.json: the per-file entries are those


@dataclass(frozen=True)
class Stamp:
    """Path, size, mtime, ctime and inode of every file below the run's folders, as one
    digest; ``racy`` when one of them was modified too recently to trust its mtime."""

    digest: str
    racy: bool


def tree_stamp(
    folders: Iterable[Path], given: Iterable[str] = (), *, skip: Path | None = None
) -> Stamp:
    """One stat walk (no file is read) of ``folders``. Left out: folders holding a
    ``CACHEDIR.TAG`` (this cache), ``skip``, and the folders discovery and the repository
    scan never enter (``SKIP_DIRS``: ``node_modules``, ``.venv``, ...) unless a path of
    ``given`` lies in one; of ``.git`` only what decides which files git ignores counts
    (its index, ``info/exclude``, its config), plus the user's git configuration."""
    import time

    from fixer.filenames import SKIP_DIRS

    digest = hashlib.blake2b(digest_size=16)
    newest = 0
    inside = [Path(os.path.abspath(g)) for g in given]
    inside = [g for g in inside if SKIP_DIRS.intersection(g.parts)]
    for folder in [*folders, *inside]:
        digest.update(f"{folder}\0".encode("utf-8", "surrogateescape"))
        lines: list[str] = []
        newest = max(newest, _stat_walk(folder, skip, SKIP_DIRS, lines))
        digest.update("".join(lines).encode("utf-8", "surrogateescape"))
    for path in _git_files(folders):
        digest.update(_stat_of(path)[0])
    return Stamp(digest.hexdigest(), newest > time.time_ns() - RACY_NS)


#: Folders the stat walk lists alone; when many are still left to list after these, half
#: of them go to a second core (``parallel.Beside``): a large tree's cached run is mostly
#: this walk, a small one never forks.
_ALONE = 256
_SPLIT_FROM = 64


def _stat_walk(root: Path, skip: Path | None, unread: frozenset[str], lines: list[str]) -> int:
    """Append a line per file below ``root`` to ``lines`` (sorted, so the order of a
    folder's listing, and which core listed it, does not matter); the newest mtime (ns).
    Strings are joined and hashed once: per-file bytes and hash updates were most of the
    cost."""
    if not root.is_dir():
        line, mtime = _stat_of(root)
        lines.append(line.decode("utf-8", "surrogateescape"))
        return mtime
    skipped = str(skip) if skip is not None else None
    stack = [str(root)]
    found: list[str] = []
    newest = _stat_folders(stack, skipped, unread, found, _ALONE)
    if len(stack) >= _SPLIT_FROM:
        from fixer.parallel import Beside

        theirs = stack[1::2]
        del stack[1::2]

        def other_half() -> tuple[list[str], int]:
            listed: list[str] = []
            return listed, _stat_folders(theirs, skipped, unread, listed, None)

        with Beside(other_half) as beside:
            newest = max(newest, _stat_folders(stack, skipped, unread, found, None))
            listed, their_newest = beside.result()
        found += listed
        newest = max(newest, their_newest)
    else:
        newest = max(newest, _stat_folders(stack, skipped, unread, found, None))
    found.sort()
    lines += found
    return newest


def _stat_folders(
    stack: list[str],
    skipped: str | None,
    unread: frozenset[str],
    found: list[str],
    most: int | None,
) -> int:
    """List the folders of ``stack`` and those below them (``most`` of them at most, the
    rest left on ``stack``), a line per file into ``found``; the newest mtime (ns)."""
    newest = 0
    while stack and (most is None or most > 0):
        if most is not None:
            most -= 1
        folder = stack.pop()
        if folder == skipped:
            continue
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError as exc:
            found.append(f"{folder}\0!{exc.errno}\n")
            continue
        here: list[str] = []
        below: list[str] = []
        for entry in entries:
            name = entry.name
            if name == TAG_NAME:
                break  # a cache folder: none of it counts
            if entry.is_dir(follow_symlinks=False):
                if name not in unread:  # .git included: see _git_files
                    below.append(entry.path)
                continue
            try:
                st = entry.stat()  # a linked file counts with its target
            except OSError:
                line, mtime = _stat_of(Path(entry.path))
                here.append(line.decode("utf-8", "surrogateescape"))
                continue
            mtime = st.st_mtime_ns
            here.append(f"{entry.path}\0{st.st_size}\0{mtime}\0{st.st_ctime_ns}\0{st.st_ino}\n")
            if mtime > newest:
                newest = mtime
        else:
            found += here
            stack += below
    return newest


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _stat_of(path: Path) -> tuple[bytes, int]:
    try:
        st = os.stat(path)  # a linked file counts with its target
    except OSError:
        try:
            st = os.lstat(path)
        except OSError:
            return f"{path}\0-\n".encode("utf-8", "surrogateescape"), 0
    line = f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n"
    return line.encode("utf-8", "surrogateescape"), st.st_mtime_ns


def _git_files(folders: Iterable[Path]) -> list[Path]:
    """The files besides the tree that decide what git ignores (``fixer.gitignored``)."""
    home = Path(os.path.expanduser("~"))
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    found = [home / ".gitconfig", config / "git" / "config", config / "git" / "ignore"]
    for folder in folders:
        dot = folder / ".git"
        git = dot
        if dot.is_file():  # a linked work tree: "gitdir: <its folder in the main .git>"
            try:
                text = dot.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                continue
            git = (folder / text.removeprefix("gitdir:").strip()).resolve()
        common = git
        with suppress(OSError):
            common = (git / (git / "commondir").read_text(encoding="utf-8").strip()).resolve()
        found += [git / "index", common / "info" / "exclude", common / "config", git / "config"]
    return found


def manifest_file(folder: Path, key: str) -> Path:
    """The manifest of run key ``key``: the last run's results with this key."""
    return folder / _MANIFEST.format(key)


def entries_file(manifest: Path) -> Path:
    """The per-file entries (``ResultCache``) of the manifest's run key."""
    return manifest.with_suffix(_ENTRIES)


@dataclass(frozen=True)
class Recompute:
    """A file whose result the manifest must not hold whole (a secret value, an internal
    error): processed again on every run, as the per-file entries are. When only some
    rules found secret values, ``rules`` names them and ``partial`` holds the others'
    result: only those rules run again (they need the repository model's root at most,
    where the other rules would need the whole scan)."""

    path: Path
    kind: str
    explicit: bool
    rules: tuple[str, ...] | None = None
    partial: FileResult | None = None


def merged(partial: FileResult, fresh: FileResult) -> FileResult:
    """``fresh`` (the secret rules run again) with the stored findings of the other rules,
    in the engine's order: sorted by line, column and rule, each rule's own order kept."""
    found = sorted([*partial.found, *fresh.found], key=lambda f: (f.line, f.column, f.rule))
    notices = list(dict.fromkeys([*partial.notices, *fresh.notices]))
    return replace(fresh, found=found, remaining=found, notices=notices)


def _without_secrets(result: FileResult) -> tuple[dict[str, Any], list[str]] | None:
    """The stored form of ``result`` without the findings of the rules that found a secret
    value, and those rules; None when the rest cannot be stored either, or names a value."""
    if result.error or result.skipped or result.source is None:
        return None
    secret = {f.rule for f in result.found if f.masks or (f.fix is not None and f.fix.side_files)}
    kept = [f for f in result.found if f.rule not in secret]
    value = stored(replace(result, found=kept, remaining=kept))
    if value is None:
        return None
    text = json.dumps(value)
    if any(m and m in text for f in result.found for m in f.masks):
        return None  # another rule's message quotes the value: nothing of it is written
    return value, sorted(secret)


def replayed(
    file: Path, invocation: str, stamp: Stamp, read: Callable[[Path], bytes]
) -> list[FileResult | Recompute] | None:
    """The results of the last run when it was the same invocation over a tree with the
    same stamp, in its order; None otherwise (and for a malformed manifest). ``read`` gives
    the bytes a result's source text is rebuilt from."""
    if stamp.racy:
        return None
    try:
        with open(file, encoding="utf-8") as handle:
            stored = json.load(handle)
        if stored.get("invocation") != invocation or stored.get("stamp") != stamp.digest:
            return None
        if stored.get("entries") != _stat_of(entries_file(file))[0].decode(errors="replace"):
            return None  # the per-file entries were replaced or cleared since: so is this
        results: list[FileResult | Recompute] = []
        for path_text, value, *again in stored["results"]:
            path = Path(path_text)
            if value is None or again:
                kind, explicit = str(again[0]), bool(again[1])
                rules = tuple(str(r) for r in again[2]) if len(again) > 2 else None
                partial = _result(path, value, b"") if value is not None else None
                results.append(Recompute(path, kind, explicit, rules, partial))
            else:
                results.append(_result(path, value, read(path) if value["source"] else b""))
        return results
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


class ManifestWriter:
    """Gathers a full run's results as they stream (spooled: ``fixer.spool``); written
    when the run said nothing besides its results and the tree was not racy."""

    def __init__(self, file: Path, invocation: str, stamp: Stamp) -> None:
        self.file = file
        self.invocation = invocation
        self.stamp = stamp
        self.complete = True
        self.count = 0
        self._spool = Spool(file.parent, prepare_folder)

    def add(self, result: FileResult, kind: str, explicit: bool) -> None:
        value = stored(result)
        entry: list[Any] = [str(result.path), value]
        if value is None:
            split = _without_secrets(result)
            entry = [str(result.path), split[0] if split else None, kind, explicit]
            entry += [split[1]] if split else []
        text = json.dumps(entry, separators=(",", ":"))  # ASCII: non-ASCII is escaped
        self._spool.write(("," + text if self.count else text).encode())
        self.count += 1

    def save(self) -> str | None:
        """Write the manifest atomically, or remove a stale one; the reason on failure."""
        try:
            if not self.complete or self.stamp.racy:
                with suppress(OSError):
                    os.unlink(self.file)
                return None
            entries = _stat_of(entries_file(self.file))[0].decode(errors="replace")
            head = json.dumps(
                {
                    "format": _FORMAT,
                    "invocation": self.invocation,
                    "stamp": self.stamp.digest,
                    "entries": entries,
                }
            )
            try:
                if self._spool.failed is not None:
                    raise self._spool.failed
                prepare_folder(self.file.parent)
                with _atomic(self.file) as out:
                    out.write((head[:-1] + ',"results":[').encode())
                    self._spool.copy_to(out)
                    out.write(b"]}")
            except OSError as exc:
                return f"cannot write the cache in {self.file.parent}: {exc.strerror or exc}"
            return None
        finally:
            self._spool.close()


@contextlib.contextmanager
def _atomic(file: Path) -> Iterator[IO[bytes]]:
    """A binary file to write ``file`` through: a temporary file beside it, renamed over
    ``file`` when the block ends (removed when it fails)."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=file.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, file)
    except BaseException:
        os.unlink(tmp)
        raise


# --- the printed output of a whole run ------------------------------------------------------

#: Output larger than this is not kept (a SARIF log of a huge tree): the per-file replay
#: still answers that run.
MAX_OUTPUT = 64 * 1024 * 1024


def output_file(manifest: Path, view: str) -> Path:
    """Where the printed output of the manifest's run is kept for one way of printing it
    (format, quiet, terminals and colour settings: ``view``)."""
    return manifest.with_name(f"{manifest.stem}-{view}.out")


def replay_output(
    file: Path, invocation: str, stamp: Stamp, streams: tuple[TextIO, TextIO], entries: Path
) -> int | None:
    """Print what the last run printed the same way over a tree with the same stamp, to
    stdout (0) and stderr (1) interleaved as it was, and give its exit code; None (nothing
    printed) otherwise. What was printed had every secret value masked, so it holds none:
    this is what lets a run whose files hold secrets be answered too.

    The file is a JSON head line (key, stamp, exit code, the payload's size, each chunk's
    stream and length) followed by the chunks' text, copied out piece by piece: memory
    stays flat however much was printed."""
    if stamp.racy:
        return None
    try:
        with open(file, encoding="utf-8", newline="") as handle:
            head = json.loads(handle.readline())
            if head.get("format") != _FORMAT or head.get("invocation") != invocation:
                return None
            if head.get("stamp") != stamp.digest:
                return None
            if head.get("entries") != _stat_of(entries)[0].decode(errors="replace"):
                return None  # the per-file entries were replaced or cleared since: so is this
            chunks = [(int(n), int(length)) for n, length in head["chunks"]]
            code = int(head["exit"])
            if os.fstat(handle.fileno()).st_size != len(_head_line(head)) + int(head["bytes"]):
                return None  # cut short or grown: not what was printed
            if any(n not in (0, 1) or length < 0 for n, length in chunks):
                return None
            for number, length in chunks:
                while length > 0:
                    piece = handle.read(min(length, _PIECE))
                    if not piece:
                        return code  # the file changed under us: the rest is lost
                    streams[number].write(piece)
                    length -= len(piece)
        return code
    except (OSError, ValueError, TypeError, KeyError, AttributeError):  # UnicodeError is one
        return None


_PIECE = 1 << 20


def _head_line(head: dict[str, Any]) -> bytes:
    return (json.dumps(head, separators=(",", ":")) + "\n").encode()


def save_output(
    file: Path,
    invocation: str,
    stamp: Stamp,
    journal: Journal,
    code: int,
    entries: Path,
) -> None:
    """Keep a run's printed output (never when the tree was racy); a failure to write is
    not the user's problem: the next run computes again. The text is copied out of the
    journal's spool: memory stays flat however much was printed."""
    turns = journal.turns
    if stamp.racy or turns is None:
        return
    with suppress(OSError):
        head = {
            "format": _FORMAT,
            "invocation": invocation,
            "stamp": stamp.digest,
            "exit": code,
            "bytes": journal.size,
            "entries": _stat_of(entries)[0].decode(errors="replace"),
            "chunks": [[number, length] for number, length in turns],
        }
        prepare_folder(file.parent)
        with _atomic(file) as out:
            out.write(_head_line(head))
            journal.copy_to(out)
