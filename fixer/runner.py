"""A run over many files: discovery, registry look-ups batched up front, one file at a time.

Results stream out one by one so memory stays flat in the number of files (the session
gathers the generated side files, ``fixer.sidefiles.SideFiles``, as they come).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fixer.cache import ResultCache, file_key, stored
from fixer.discover import GENERATED, VENDORED, Target
from fixer.documents.text import SourceText
from fixer.engine import (
    FileResult,
    Queries,
    _revert,  # the engine's own way to give up on a file's fixes
    collect_queries,
    process_file,
)
from fixer.evidence.images import Evidence
from fixer.kinds import KUBERNETES, kind_of_name
from fixer.model import evolve
from fixer.output.diff import PatchError, checked_diff, diff_path
from fixer.parallel import ordered_map, workers_for
from fixer.readfile import read_capped
from fixer.repository.sources import UPSTREAM_BYTES
from fixer.rule import Resolution
from fixer.ruleset import RuleSet
from fixer.settings import Settings


def run(
    targets: Sequence[Target],
    settings: Settings,
    *,
    rules: RuleSet,
    fix: bool,
    resolutions: Mapping[str, Resolution] | None = None,
    pinning: bool = False,
    diff: bool = False,
    repository: Any = None,
    source_only: bool = False,
    cache: ResultCache | None = None,
    edits: bool = True,
) -> Iterator[FileResult]:
    """Results in the order of ``targets``; processed on every core when there are many
    (see ``fixer.parallel``). With ``diff``, each changed file's result carries its
    unified diff (unmasked), which is costly enough to be worth computing there too.

    ``repository`` (a ``RepositoryModel``, built once by the caller) reaches the workers
    when they fork, inside the run's ``Evidence``. With ``source_only``, a file found while
    walking whose head marks it generated is skipped (``skipped`` is ``GENERATED``, the
    marker is its ``notice``).

    With ``cache`` (``check`` only), a file whose key matches its entry is answered from
    it; the workers return what they computed and the entries are added here.

    Without ``edits`` (a ``check`` whose output shows no edit) deferred fixes are reported
    without computing their edits (``Fix.unbuilt``)."""
    resolutions = resolutions or {}
    evidence = Evidence(resolutions, repository)
    job = _Job(
        settings, rules, fix, resolutions, pinning, diff, evidence, source_only, cache, edits
    )
    workers = _workers(len(targets))
    for result, entry in ordered_map(_process, targets, job, workers=workers):
        if cache is not None:
            if entry is None:
                cache.hits += 1
            elif entry[1] is not None:
                cache.put(result.path, entry[0], entry[1])
        yield result


@dataclass(frozen=True)
class _Job:
    """What every file of a run is processed with (handed to each worker once)."""

    settings: Settings
    rules: RuleSet
    fix: bool
    resolutions: Mapping[str, Resolution]
    pinning: bool
    diff: bool
    evidence: Evidence | None = None
    source_only: bool = False
    cache: ResultCache | None = None
    edits: bool = True

    def lean(self, result: FileResult) -> bool:
        """``result`` goes back without the file's text: no output of this run shows an
        edit, and the file stays as it is (every file of a ``check``; a file ``fix`` does
        not change)."""
        return not self.edits and not result.changed


#: What a worker hands back besides a result: (file key, entry or None when it must not be
#: stored); None for a cache hit or a run without a cache.
_Entry = tuple[str, dict[str, Any] | None] | None


def _process(job: _Job, targets: list[Target]) -> list[tuple[FileResult, _Entry]]:
    results: list[tuple[FileResult, _Entry]] = []
    for target in targets:
        data, key = _cache_key(job.cache, target)
        if job.cache is not None and data is not None and key is not None:
            hit = job.cache.get(target.path, key, data)
            if hit is not None:
                results.append((hit, None))
                continue
        result = process_target(
            target,
            job.settings,
            rules=job.rules,
            fix=job.fix,
            resolutions=job.resolutions,
            pinning=job.pinning,
            evidence=job.evidence,
            source_only=job.source_only,
            data=data,
            edits=job.edits,
        )
        if job.diff and result.changed and result.source is not None:
            result = _with_diff(result, result.source)
        entry = (key, stored(result)) if key is not None else None
        results.append((_without_text(result) if job.lean(result) else result, entry))
    return results


def _without_text(result: FileResult) -> FileResult:
    """``result`` without the file's text, for a ``check`` whose output shows no edit, and
    for a file ``fix`` leaves as it is: its findings carry their lines already, and the text
    was most of what crossed back from the workers (a ``fix --dry-run`` of the corpus sent
    7.9 MB, 3.1 MB of it the texts of unchanged files). The empty source still says the
    file was read (``Report.add``)."""
    source = result.source
    if source is None or not source.text:
        return result
    return evolve(result, source=SourceText("", source.bom, source.cr), text="")


def _with_diff(result: FileResult, source: SourceText) -> FileResult:
    """The file's diff, checked by unidiff (``checked_diff``). A diff that does not
    reproduce the fix is withheld with the fix itself: the file is an error, nothing of it
    is printed, and what is printed still applies."""
    try:
        diff = checked_diff(diff_path(result.path), source.raw(), source.raw(result.text))
    except PatchError as exc:
        return _revert(result, f"internal error: {exc}; diff not printed (please report this)")
    return replace(result, diff=diff)


def _cache_key(cache: ResultCache | None, target: Target) -> tuple[bytes | None, str | None]:
    """The file's bytes (read once, also for processing) and its cache key, when the run
    has a cache and the file is one it can answer for."""
    if cache is None or target.error or target.not_source is not None:
        return None, None
    path = target.path
    try:
        data = read_capped(path)
    except OSError:
        return None, None  # process_target reads it again and reports why it cannot
    return data, file_key(path, target.kind, target.explicit, data, cache.model)


def process_target(
    target: Target,
    settings: Settings,
    *,
    rules: RuleSet,
    fix: bool,
    resolutions: Mapping[str, Resolution],
    pinning: bool = False,
    evidence: Evidence | None = None,
    source_only: bool = False,
    data: bytes | None = None,
    edits: bool = True,
) -> FileResult:
    """One file, read here unless ``data`` holds its bytes already."""
    path = target.path
    if target.error:
        return FileResult(path, target.kind, error=target.error)
    if target.not_source is not None:  # the session groups these into one notice per place
        found = target.not_source
        return FileResult(path, target.kind, skipped=found.kind, notice=found.where)
    kind = kind_of_name(target.kind)
    if not target.explicit and kind.markers:  # a walked file is parsed only if it could hold one
        if data is None:
            try:
                data = read_capped(path)  # capped: a walked file is no more trusted
            except OSError:
                data = None  # process_file reports it
        if data is not None and not kind.could_hold(data):
            return FileResult(path, target.kind, skipped=kind.absent)
    if source_only and not target.explicit:
        if data is None:  # read once, for the marker and for processing
            try:
                data = read_capped(path)
            except OSError:
                data = None  # process_file reports it
        marker = _generated(target, data)
        if marker is not None:
            return FileResult(path, target.kind, skipped=GENERATED, notice=marker)
        upstream = _upstream(target, data, evidence)
        if upstream is not None:
            return FileResult(path, target.kind, skipped=VENDORED, notice=upstream)
    result = process_file(
        path,
        target.kind,
        settings,
        rules=rules,
        fix=fix,
        resolutions=resolutions,
        data=data,
        pinning=pinning,
        evidence=evidence,
        edits=edits,
        whole_only=source_only and not target.explicit,
    )
    if target.explicit and result.skipped and path.suffix.lower() == ".json":
        # Named by the user, so not skipped silently: say why nothing happened.
        notice = "not a Kubernetes manifest (no object with apiVersion and kind); unchanged"
        result = replace(result, notice=notice)
    if not target.explicit and result.error and result.error.startswith("invalid YAML"):
        # A broken YAML file found while walking is only our business if it looks like a
        # manifest; a broken CI workflow is not.
        text = data.decode("utf-8", "replace") if data else ""
        if "apiVersion:" not in text or "kind:" not in text:
            return FileResult(path, target.kind, skipped="not Kubernetes (invalid YAML)")
    return result


def _generated(target: Target, data: bytes | None) -> str | None:
    """The generator marker (``# Code generated ... DO NOT EDIT.``) in the file's head:
    its generator would undo a fix, and its CI diffs it against a regenerated copy."""
    from fixer.readfile import read_regular
    from fixer.repository.sources import HEAD_BYTES, generated_marker

    if data is None:  # refused whole (too large, ...): its head still says
        try:  # read_regular never blocks on a FIFO or a device
            data = read_regular(target.path, HEAD_BYTES)
        except OSError:
            return None
    return generated_marker(data[:HEAD_BYTES].decode("utf-8", "replace"))


def _upstream(target: Target, data: bytes | None, evidence: Evidence | None) -> str | None:
    """Where a walked manifest says it is another project's published release, copied in
    (``sources.upstream_copy``): its project fixes it, and the next copy replaces it."""
    if (
        data is None
        or target.kind != KUBERNETES
        or b"releases/download" not in data[:UPSTREAM_BYTES]
    ):
        return None
    from fixer.repository.sources import own_names, upstream_copy

    root = getattr(evidence.repository, "root", None) if evidence is not None else None
    own = own_names(Path(root)) if root is not None else frozenset()
    found = upstream_copy(data[:UPSTREAM_BYTES].decode("utf-8", "replace"), own)
    if found is None:
        return None
    from fixer.output.text import shown_path

    return f"{shown_path(target.path)} (a copy of another project's published file: {found})"


def queries(
    targets: Sequence[Target], settings: Settings, rules: RuleSet, repository: Any = None
) -> Queries:
    """Every registry question the enabled rules have, over the files (on every core when
    there are many; each file is parsed and let go)."""
    wanted = [t for t in targets if not t.error]
    found = Queries()
    job = (settings, rules, Evidence({}, repository))
    for part in ordered_map(_queries, wanted, job, workers=_workers(len(wanted))):
        found.digests |= part.digests
        found.users |= part.users
    return found


def _queries(job: tuple[Settings, RuleSet, Evidence], targets: list[Target]) -> list[Queries]:
    settings, rules, evidence = job
    return [collect_queries(((t.path, t.kind) for t in targets), settings, rules, evidence)]


def _workers(files: int) -> int:
    """Worker processes for a pass over ``files``; with any, the modules that process
    files are imported here first, so that the forked workers share them instead of each
    importing them (again for the second pass of ``fix``). The rules were imported when
    the run's ``RuleSet`` was loaded."""
    workers = workers_for(files)
    if workers:
        from fixer.documents import dockerfile, shell, yaml  # noqa: F401
        from fixer.documents.yaml import kube  # noqa: F401
    return workers
