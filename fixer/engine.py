"""The fixed-point loop: detect, apply, re-parse, until nothing changes.

``process_text`` is pure (text in, result out); ``process_file`` adds reading bytes at the
edge. Neither raises for a bad file: problems come back as ``FileResult.error``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fixer.apply import apply_fixes
from fixer.documents.text import DecodeError, SourceText
from fixer.evidence.images import Evidence
from fixer.kinds import Skipped, kind_of_name
from fixer.model import Edit, Finding, Fix, Safety, evolve
from fixer.readfile import read_capped
from fixer.rule import Context, Resolution, Rule
from fixer.ruleset import RuleSet
from fixer.settings import Settings
from fixer.suppress import Suppressions

MAX_PASSES = 10


@dataclass(frozen=True)
class FileResult:
    """What happened to one file. ``text`` is the new text (equal to the old when unchanged).

    Frozen: a result crosses process boundaries, the cache and the session's writers; each
    step that learns more (a diff, a write that failed) builds a new one with ``replace``."""

    path: Path
    kind: str = ""
    source: SourceText | None = None
    text: str = ""
    found: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    applied: list[Fix] = field(default_factory=list)
    error: str | None = None
    notice: str | None = None
    #: What rules want the user to know without it being a finding (a RUN left untouched).
    notices: list[str] = field(default_factory=list)
    skipped: str | None = None  # reason a file was skipped silently (not Kubernetes, ...)

    #: Findings whose fix was applied (in any pass).
    fixed: list[Finding] = field(default_factory=list)
    #: Each applied pass: the text it started from and the edits made to it.
    passes: list[tuple[str, tuple[Edit, ...]]] = field(default_factory=list)
    #: The unified diff of the change (unmasked), when the run asked for it.
    diff: str | None = None

    @property
    def changed(self) -> bool:
        return self.source is not None and self.text != self.source.text


def _crash_message(rule: str, exc: BaseException) -> str:
    """A rule raised: this file's error names it; the run and the other rules go on."""
    return f"internal error in rule {rule}: {type(exc).__name__}: {exc} (please report this)"


class _Invalid(Exception):
    """A pass produced text that no longer parses the way it did."""


def process_file(
    path: Path,
    kind: str,
    settings: Settings,
    *,
    rules: RuleSet,
    fix: bool,
    resolutions: Mapping[str, Resolution] | None = None,
    data: bytes | None = None,
    pinning: bool = False,
    evidence: Evidence | None = None,
    edits: bool = True,
    whole_only: bool = False,
) -> FileResult:
    """Read ``path`` (or use ``data``), detect and, with ``fix``, fix. Never raises.

    ``evidence`` is the run's (repository model, registry answers); without it the rules
    see the registry answers only. Without ``edits`` (a ``check`` whose output shows no
    edit) deferred fixes are reported without computing their edits (``Fix.unbuilt``).
    With ``whole_only`` (a manifest found while walking), a workload that is a part of an
    object (``kube.partial_objects``) is left alone, with a notice."""
    try:
        if data is None:
            data = read_capped(path)
        source = SourceText.decode(data)
    except (OSError, DecodeError) as exc:
        return FileResult(path, kind, error=_os_reason(exc))
    return process_text(
        path,
        kind,
        source,
        settings,
        rules=rules,
        fix=fix,
        resolutions=resolutions or {},
        pinning=pinning,
        evidence=evidence,
        edits=edits,
        whole_only=whole_only,
    )


def process_text(
    path: Path,
    kind: str,
    source: SourceText,
    settings: Settings,
    *,
    rules: RuleSet,
    fix: bool,
    resolutions: Mapping[str, Resolution],
    pinning: bool = False,
    evidence: Evidence | None = None,
    edits: bool = True,
    whole_only: bool = False,
) -> FileResult:
    result = FileResult(path, kind, source, source.text)
    if not source.text.strip():
        return replace(result, error="empty file")
    enabled = rules.enabled(kind, settings, path)
    try:
        doc = _parse(kind, source)
    except Skipped as skip:
        return replace(result, notice=skip.notice, skipped=skip.reason)
    except ValueError as exc:
        return replace(result, error=str(exc))
    except Exception as exc:  # a parser bug must not stop the run
        return replace(
            result,
            error=f"internal error while parsing: {type(exc).__name__}: {exc} (please report this)",
        )
    evidence = evidence if evidence is not None else Evidence(resolutions)
    # A Kustomize patch of a rendered overlay holds no whole object; the render is judged.
    if not kind_of_name(kind).holds_objects(doc) and evidence.rendered is None:
        return replace(result, skipped=kind_of_name(kind).absent)
    run = _Detector(path, kind, source, settings, enabled, resolutions, pinning, evidence=evidence)
    run.build = fix or edits
    run.build_withheld = edits
    run.whole_only = whole_only and kind == "kubernetes" and evidence.rendered is None
    found = run.detect(doc)
    result = evolve(result, found=found, remaining=found)
    if fix:
        result = _fix_loop(run, doc, result)
        if (kept := _kept_json(result)) is not result:
            result = kept
            run.notices.append("fixes not applied: the file would no longer be valid JSON")
    error = result.error
    if run.crashes:
        # The other rules' findings and fixes stand: a crashed rule contributed nothing.
        errors = [result.error] if result.error else []
        error = "; ".join(dict.fromkeys(errors + run.crashes))
    return evolve(result, error=error, notices=list(dict.fromkeys(run.notices)))


def _parse(kind: str, source: SourceText) -> Any:
    """The document (``fixer.kinds``): ``ValueError`` when broken, ``Skipped`` to pass."""
    return kind_of_name(kind).parse(source)


@dataclass
class _Detector:
    path: Path
    kind: str
    source: SourceText
    settings: Settings
    rules: Sequence[Rule[Any]]
    resolutions: Mapping[str, Resolution]
    pinning: bool = False
    notices: list[str] = field(default_factory=list)
    #: One line per rule that raised (in any pass); its findings of that pass are dropped.
    crashes: list[str] = field(default_factory=list)
    #: Built once per run, shared by every file (and every pass) of it.
    evidence: Evidence = field(default=None)  # type: ignore[assignment]
    #: Compute the edits of deferred fixes (to apply or show them); else leave them out.
    build: bool = True
    #: Also of the fixes that will not be applied (withheld): the output shows their edits.
    build_withheld: bool = True
    #: Leave parts of objects alone (``kube.partial_objects``), with a notice.
    whole_only: bool = False

    def __post_init__(self) -> None:
        if self.evidence is None:
            self.evidence = Evidence(self.resolutions)

    def detect(self, doc: Any) -> list[Finding]:
        ctx: Context[Any] = Context(
            doc,
            self.path,
            self.settings,
            self.resolutions,
            self.notices,
            pinning=self.pinning,
            evidence=self.evidence,
        )
        suppress = Suppressions.of(self.kind, doc)
        if self.whole_only:
            from fixer.documents.yaml import kube

            doc.cache[kube.WHOLE_ONLY] = True
            self.notices.extend(kube.partial_objects(doc))
        found: list[Finding] = []
        applies = None if self.build_withheld else self.allowed
        for rule in self.rules:
            try:  # collected whole first: a rule that fails halfway contributes nothing
                mine = [f for f in rule.check(ctx) if not suppress.silences(rule, f)]
                mine = _settled(mine, build=self.build, applies=applies)
            except Exception as exc:  # RecursionError included: one rule fails alone
                self.crashes.append(_crash_message(rule.id, exc))
                continue
            found.extend(mine)
        found.sort(key=lambda f: (f.line, f.column, f.rule))
        found = self._unbuilt_last_stage(doc, found)
        return self._shown_in_docs(self._rendered_copies(doc, self._generated_copies(doc, found)))

    def _unbuilt_last_stage(self, doc: Any, found: list[Finding]) -> list[Finding]:
        """A Dockerfile the repository builds only as earlier stages (``--target``) ships
        those, not its last stage (a CI upload, a test stage): fixes made to the last stage
        as the shipped image (DF001, DF003) are withheld, with the builds that say so."""
        repository = self.evidence.repository
        if self.kind != "dockerfile" or repository is None:
            return found
        judged = {r.id for r in self.rules if r.judges_shipped_stage}
        if not any(
            f.rule in judged and f.fix is not None and f.fix.safety is not Safety.UNPROVEN
            for f in found
        ):
            return found
        final = doc.final_stage
        names = doc.stage_names()
        why = repository.unbuilt_last_stage(
            Path(os.path.abspath(self.path)), final.name if final is not None else None, names
        )
        if not why:
            return found
        needs = (
            f"a look at which stage ships ({why}; these fixes change the last stage): "
            "apply with --unsafe-fixes if it ships too"
        )
        mine = [f for f in found if f.rule in judged]
        withheld = iter(_withheld_all(mine, needs))
        return [next(withheld) if f.rule in judged else f for f in found]

    def _shown_in_docs(self, found: list[Finding]) -> list[Finding]:
        """A file that documentation shows verbatim (slides that include the manifest,
        the Kubernetes website's code samples) keeps its fixes offered, withheld: applied,
        they change what every page showing it says, which its maintainers review as
        documentation. ``--unsafe-fixes`` applies them."""
        repository = self.evidence.repository
        if repository is None or not any(
            f.fix is not None and f.fix.safety is not Safety.UNPROVEN for f in found
        ):
            return found
        where = repository.shown_in_docs(self.path)
        if where is None:
            return found
        needs = (
            f"the pages that show this file verbatim updated with it ({where} includes it): "
            "apply with --unsafe-fixes if they may change"
        )
        return _withheld_all(found, needs)

    def _generated_copies(self, doc: Any, found: list[Finding]) -> list[Finding]:
        """A manifest whose objects a generated bundle of the repository also holds (a
        ``kustomize build`` output marked DO NOT EDIT) keeps its fixes offered, withheld:
        applied alone they leave the bundle stale and the project's check that generated
        files are up to date fails. ``--unsafe-fixes`` applies them (then regenerate)."""
        repository = self.evidence.repository
        offered = [f for f in found if f.fix is not None and f.fix.safety is not Safety.UNPROVEN]
        if self.kind != "kubernetes" or repository is None or not offered:
            return found
        from fixer.documents.yaml import kube

        objects = [(o.kind, o.name) for o in kube.objects(doc) if o.name]
        copies = repository.generated_copies(self.path, objects)
        if not copies:
            return found
        needs = (
            f"the generated copy regenerated with it ({'; '.join(copies[:2])}): apply with "
            "--unsafe-fixes, then run the generator"
        )
        return _withheld_all(found, needs)

    def _rendered_copies(self, doc: Any, found: list[Finding]) -> list[Finding]:
        """Fixes of a workload that a rendered copy cannot follow (``out_of_step``: a copy
        with other security settings, or a rendering's workload from outside the
        repository) stay offered, withheld: the next render undoes them and a project's
        check that its renderings are up to date fails."""
        repository = self.evidence.repository
        if self.kind != "kubernetes" or repository is None:
            return found
        derived = repository.derived_rendering(self.path)
        if derived:
            needs = (
                f"the file {derived} writes from it regenerated with it: apply with "
                "--unsafe-fixes, then run that line"
            )
            return _withheld_all(found, needs)
        out = repository.out_of_step(self.path)
        if not out or not any(
            f.fix is not None and f.fix.safety is not Safety.UNPROVEN for f in found
        ):
            return found
        from fixer.documents.yaml import kube

        spans = [
            (pod.obj.node.start_mark.line + 1, pod.obj.node.end_mark.line + 1, out[key])
            for pod in kube.pod_specs(doc)
            if (key := (pod.obj.kind, pod.obj.name or "")) in out
        ]

        def held(finding: Finding) -> str:
            """What the fix of the workload holding ``finding`` needs; "" outside them."""
            return next((n for start, end, n in spans if start <= finding.line <= end), "")

        return _withheld_all(found, held)

    def allowed(self, fix: Fix | None) -> bool:
        if fix is None or (fix.side_files and not self.settings.fixes.side_files):
            return False
        if self.settings.fixes.safe_only:
            return fix.safety is Safety.SAFE
        return fix.safety is not Safety.UNPROVEN or self.settings.fixes.unsafe_fixes


def _withheld_all(found: list[Finding], needs: str | Callable[[Finding], str]) -> list[Finding]:
    """``found`` with every fix not yet withheld made UNPROVEN with ``needs`` (or with what
    ``needs`` says for each finding; "" leaves that finding's fix as it is)."""
    withheld: dict[tuple[int, str], Fix] = {}
    out = []
    for finding in found:
        fix = finding.fix
        said = needs if isinstance(needs, str) else needs(finding)
        if fix is not None and fix.safety is not Safety.UNPROVEN and said:
            key = (id(fix), said)
            if key not in withheld:  # findings that share a fix still share it
                withheld[key] = replace(fix, safety=Safety.UNPROVEN, needs=said)
            finding = replace(finding, fix=withheld[key])
        out.append(finding)
    return out


def _settled(
    findings: list[Finding], *, build: bool, applies: Callable[[Fix], bool] | None = None
) -> list[Finding]:
    """Deferred fixes built (or left unbuilt): findings that shared a fix still share it,
    so applying it fixes them all. With ``applies``, only the fixes it says will be applied
    are built: a ``fix`` whose output shows no edit of a withheld fix leaves those out."""
    done: dict[int, Fix] = {}
    out = []
    for finding in findings:
        fix = finding.fix
        if fix is not None and (fix.build is not None or not build):
            settled = done.get(id(fix))
            if settled is None:
                wanted = build and (applies is None or applies(fix))
                settled = done[id(fix)] = fix.built() if wanted else fix.unbuilt()
            finding = evolve(finding, fix=settled)
        out.append(finding)
    return out


def _fix_loop(run: _Detector, doc: Any, result: FileResult) -> FileResult:
    """Apply fixes pass by pass to a fixed point; on trouble keep the last good text."""
    text, findings = result.text, result.found
    passes: list[tuple[str, tuple[Edit, ...]]] = []
    applied_fixes: list[Fix] = []
    fixed: list[Finding] = []
    shape = _shape(run.kind, doc)
    for _ in range(MAX_PASSES):
        fixes = [f.fix for f in findings if f.fix is not None and run.allowed(f.fix)]
        if not fixes:
            break
        try:
            applied = apply_fixes(text, fixes)
            if applied.text == text:
                break
            if (refused := _second_opinion(run.kind, doc, applied.edits)) is not None:
                run.notices.append(f"fixes not applied: {refused}; file left unchanged")
                # The file is unusual, not broken: findings stay open, and no fix of this
                # file is offered as if it would apply.
                return replace(
                    _revert(result, None),
                    remaining=[
                        replace(f, fix=None, reason=refused) if f.fix is not None else f
                        for f in result.found
                    ],
                )
            new_doc = _parse(run.kind, SourceText(applied.text, run.source.bom))
            if _shape(run.kind, new_doc) != shape:
                raise _Invalid
        except Exception:  # unparsable, changed structure, or a parser bug: discard the pass
            tried = {id(f) for f in fixes}
            rules = sorted({f.rule for f in findings if id(f.fix) in tried})
            return _revert(
                result,
                f"internal error: fixes by {', '.join(rules)} broke the file's structure; "
                "file left unchanged (please report this)",
            )
        passes.append((text, applied.edits))
        text, doc = applied.text, new_doc
        applied_fixes.extend(applied.applied)
        # By identity: comparing each finding's fix with every applied one was quadratic.
        done = {id(f) for f in applied.applied}
        fixed.extend(f for f in findings if f.fix is not None and id(f.fix) in done)
        findings = run.detect(doc)
    else:
        return _revert(
            result, f"fixes did not settle after {MAX_PASSES} passes; file left unchanged"
        )
    return replace(
        result,
        text=text,
        remaining=findings,
        passes=passes,
        applied=applied_fixes,
        fixed=fixed,
    )


def _second_opinion(kind: str, doc: Any, edits: tuple[Edit, ...]) -> str | None:
    """Why a second parser refuses this pass's edits to a Dockerfile (it reads the
    boundaries of an instruction they touch differently), or None."""
    return kind_of_name(kind).second_opinion(doc, edits)


def _kept_json(result: FileResult) -> FileResult:
    """A ``.json`` manifest must stay JSON (kubectl reads a file starting with ``{`` as
    JSON), but fixes insert YAML flow syntax: such a file keeps its text and its findings
    (a new result; ``result`` itself when it stays valid)."""
    if result.path.suffix.lower() != ".json" or not result.changed:
        return result
    import json

    try:
        json.loads(result.text)
    except ValueError:
        return _revert(result, None)
    return result


def _revert(result: FileResult, error: str | None) -> FileResult:
    """Give up on fixing this file: the original text, every finding still open."""
    return replace(
        result,
        error=error,
        applied=[],
        fixed=[],
        passes=[],
        text=result.source.text if result.source else "",
        remaining=result.found,
    )


def _shape(kind: str, doc: Any) -> tuple[Any, ...]:
    """What a fix must not change: the number of stages, or of documents and their kinds."""
    return kind_of_name(kind).shape(doc)


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, DecodeError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


@dataclass
class Queries:
    """What the rules want from registries: digests to pin, image configs to read."""

    digests: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.digests or self.users)


def collect_queries(
    files: Iterable[tuple[Path, str]],
    settings: Settings,
    rules: RuleSet,
    evidence: Evidence | None = None,
) -> Queries:
    """Registry questions of every enabled rule, over all files (streamed, nothing kept)."""
    queries = Queries()
    for path, kind in files:
        try:
            source = SourceText.decode(read_capped(path))
        except (OSError, ValueError):
            continue  # the processing pass reports it
        found = text_queries(path, kind, source, settings, rules, evidence)
        queries.digests |= found.digests
        queries.users |= found.users
    return queries


def text_queries(
    path: Path,
    kind: str,
    source: SourceText,
    settings: Settings,
    rules: RuleSet,
    evidence: Evidence | None = None,
) -> Queries:
    """Registry questions the enabled rules have about one text. Suppressions apply first:
    a silenced image is never looked up, so a private registry behind a pragma cannot
    fail the run. ``evidence`` holds the repository model when the run built one (no
    registry answers yet: that is the point)."""
    queries = Queries()
    wanting = [
        r
        for r in rules.enabled(kind, settings, path)
        if type(r).references is not Rule.references or type(r).image_users is not Rule.image_users
    ]
    if not wanting:
        return queries
    try:
        doc = _parse(kind, source)
        suppress = Suppressions.of(kind, doc)
    except Exception:  # the processing pass reports it
        return queries
    ctx: Context[Any] = Context(doc, path, settings, evidence=evidence or Evidence())
    for rule in wanting:
        try:
            queries.digests.update(
                wanted.reference
                for wanted in rule.references(ctx)
                if not suppress.silences(rule, ctx.finding(rule, wanted.span, ""))
            )
            queries.users.update(rule.image_users(ctx))
        except Exception:  # the processing pass reports the crash
            continue
    return queries
