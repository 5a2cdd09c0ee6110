"""Judging Kustomize overlays on their rendered output, after the base files are done.

A patch in an overlay can undo what ``fix`` wrote in the base (issue 13, class 12), so the
patch files of overlays that touch judged fields are held back from the run's parallel pass
and processed last: each top-level Kustomization is rendered once (on disk, where ``fix``
has written; in a copy with the fixed texts for a dry-run), and the rules that set
``judges_renders`` read each patch with the renders in ``Evidence.rendered``. Without such
patches nothing is rendered; without kubectl/kustomize one notice says so and the patches
are what they were (skipped as patches).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fixer.discover import Target
from fixer.engine import FileResult, process_text
from fixer.evidence.images import Evidence
from fixer.readfile import read_capped
from fixer.repository import render
from fixer.rule import Resolution
from fixer.ruleset import RuleSet
from fixer.settings import Settings


@dataclass
class Overlays:
    """The overlays of one run worth rendering, and the patch files they hold back."""

    model: Any
    judged: list[tuple[Path, list[render.PatchUse]]]
    rules: RuleSet
    files: set[Path] = field(default_factory=set)
    #: How many renders ran (tests assert none happens where no patch asks for one).
    renders: int = 0

    @classmethod
    def of(
        cls, model: Any, rules: RuleSet, settings: Settings, paths: Sequence[str] = (".",)
    ) -> Overlays | None:
        """None (no render, no held file) unless an enabled rule judges renders and some
        top-level Kustomization under ``paths`` (what the run checks: an overlay elsewhere
        is not this run's to judge) has a patch touching a judged field."""
        selection = settings.selection
        judges = tuple(r for r in rules.rules if r.judges_renders and selection.rule_enabled(r.id))
        if model is None or not judges:
            return None
        wanted = [os.path.abspath(p) for p in paths]
        judged = [
            (top, uses)
            for top, uses in render.judged(model.kustomizations)
            if any(_under(top, folder) for folder in wanted)
        ]
        if not judged:
            return None
        files = {Path(os.path.abspath(u.file)) for _, uses in judged for u in uses if u.file}
        return cls(model, judged, RuleSet(judges), files)

    def holds(self, target: Target) -> bool:
        return Path(os.path.abspath(target.where)) in self.files

    def results(
        self,
        held: Sequence[Target],
        settings: Settings,
        *,
        fix: bool,
        resolutions: Mapping[str, Resolution],
        overrides: Mapping[Path, str],
        default: Callable[[Target], FileResult],
        notice: Callable[[str], None],
    ) -> Iterator[tuple[Target, FileResult]]:
        """Each held patch file's result, judged on the renders (``default`` when no render
        speaks about it)."""
        rendered = self._render(overrides, notice) if held else {}
        evidence = Evidence(resolutions, self.model, rendered)
        for target in held:
            result = None
            if rendered.get(Path(os.path.abspath(target.where))):
                result = self._judge(target, settings, fix, resolutions, evidence)
            yield target, result if result is not None else default(target)

    def _render(
        self, overrides: Mapping[Path, str], notice: Callable[[str], None]
    ) -> dict[Path, list[tuple[render.PatchUse, render.Render]]]:
        program = render.command()
        if program is None:
            notice(
                "Kustomize overlays patch securityContext/host settings but neither kubectl "
                "nor kustomize is on PATH: overlays are not rendered, the base is judged alone"
            )
            return {}
        root = Path(self.model.root)
        wanted: list[tuple[Path, list[render.PatchUse], str, list[str]]] = []
        for top, uses in self.judged:
            where = os.path.relpath(top.parent, root)
            problem = render.offline_problem(top)
            flags = render.load_flags(top, self.model.kustomizations, root)
            if flags is None:
                problem = "it lists files outside the repository"
            if problem is not None or flags is None:
                notice(f"not rendering the Kustomization in {where}: {problem}")
                continue
            wanted.append((top, uses, where, [*program, *flags]))
        by_patch: dict[Path, list[tuple[render.PatchUse, render.Render]]] = {}
        shown: list[str] = []
        for (_, uses, where, _), done in zip(
            wanted, self._renders(wanted, root, overrides), strict=True
        ):
            self.renders += 1
            if done.text is None:
                notice(f"cannot render the Kustomization in {where}: {done.notice}")
                continue
            shown.append(where)
            for use in uses:
                if use.file is not None:
                    by_patch.setdefault(Path(os.path.abspath(use.file)), []).append((use, done))
        if shown:
            many = "s" * (len(shown) != 1)
            notice(
                f"rendered {len(shown)} Kustomization{many} with `{' '.join(program)}`: "
                f"{', '.join(shown)}"
            )
        return by_patch

    @staticmethod
    def _renders(
        wanted: Sequence[tuple[Path, list[render.PatchUse], str, list[str]]],
        root: Path,
        overrides: Mapping[Path, str],
    ) -> list[render.Render]:
        """Each Kustomization rendered, in order; as many at once as there are CPUs: a
        renderer is another process, and an operator's overlays each take seconds (KServe's
        seven, 2 to 6 s each with their CRDs)."""
        if len(wanted) < 2:
            return [render.render(top, root, overrides, argv) for top, _, _, argv in wanted]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(wanted), os.cpu_count() or 1)) as pool:
            futures = [
                pool.submit(render.render, top, root, overrides, argv) for top, _, _, argv in wanted
            ]
            return [future.result() for future in futures]

    def _judge(
        self,
        target: Target,
        settings: Settings,
        fix: bool,
        resolutions: Mapping[str, Resolution],
        evidence: Evidence,
    ) -> FileResult | None:
        from fixer.documents.text import DecodeError, SourceText

        path = target.path
        try:
            source = SourceText.decode(read_capped(path))
        except (OSError, DecodeError):
            return None
        result = process_text(
            path,
            target.kind,
            source,
            settings,
            rules=self.rules,
            fix=fix,
            resolutions=resolutions,
            evidence=evidence,
        )
        return result if result.found or result.error else None


def _under(path: Path, folder: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), folder]) == folder
