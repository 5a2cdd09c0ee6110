"""A run over many files: discovery, registry look-ups batched up front, one file at a time.

Results stream out one by one so memory stays flat in the number of files; only generated
side files (Secret manifests) are gathered, because several source files may feed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fixer.discover import Target
from fixer.engine import KUBERNETES, FileResult, Queries, collect_queries, process_file
from fixer.model import SideFile
from fixer.rule import Resolution
from fixer.settings import Settings

#: Discovered YAML files are only parsed when they can hold Kubernetes objects.
_KUBE_MARKERS = ("apiVersion", "kind")


def run(
    targets: Iterable[Target],
    settings: Settings,
    *,
    fix: bool,
    resolutions: Mapping[str, Resolution] | None = None,
    pinning: bool = False,
) -> Iterator[FileResult]:
    for target in targets:
        yield process_target(
            target, settings, fix=fix, resolutions=resolutions or {}, pinning=pinning
        )


def process_target(
    target: Target,
    settings: Settings,
    *,
    fix: bool,
    resolutions: Mapping[str, Resolution],
    pinning: bool = False,
) -> FileResult:
    if target.error:
        return FileResult(target.path, target.kind, error=target.error)
    data: bytes | None = None
    if not target.explicit and target.kind == KUBERNETES:
        try:
            data = target.path.read_bytes()
        except OSError:
            data = None  # process_file reports it
        else:
            if not all(m.encode() in data for m in _KUBE_MARKERS):
                return FileResult(target.path, target.kind, skipped="no Kubernetes objects")
    result = process_file(
        target.path,
        target.kind,
        settings,
        fix=fix,
        resolutions=resolutions,
        data=data,
        pinning=pinning,
    )
    if not target.explicit and result.error and result.error.startswith("invalid YAML"):
        # A broken YAML file found while walking is only our business if it looks like a
        # manifest; a broken CI workflow is not.
        text = data.decode("utf-8", "replace") if data else ""
        if "apiVersion:" not in text or "kind:" not in text:
            return FileResult(target.path, target.kind, skipped="not Kubernetes (invalid YAML)")
    return result


def queries(targets: Iterable[Target], settings: Settings) -> Queries:
    """Every registry question the enabled rules have, streamed over the files."""
    return collect_queries(((t.path, t.kind) for t in targets if not t.error), settings)


@dataclass
class SideFiles:
    """Generated files, merged in the order fixes produced them."""

    pending: dict[Path, list[SideFile]] = field(default_factory=dict)

    def add(self, result: FileResult) -> None:
        for fix in result.applied:
            for side in fix.side_files:
                bucket = self.pending.setdefault(side.path, [])
                if side not in bucket:
                    bucket.append(side)

    def render(self, path: Path, existing: str | None, *, masked: bool) -> str:
        text = existing
        for side in self.pending[path]:
            merge = side.masked_merge if masked and side.masked_merge else side.merge
            text = merge(text)
        return text or ""
