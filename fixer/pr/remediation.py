"""What ``tighten pr`` commits: the ``fix`` engine run inside the worktree, made safe to publish.

The run is an ordinary ``fix`` session (same rules, settings, registry look-ups and side
files), pointed at the temporary worktree. Before anything is staged, generated side files
are settled so that no secret value can be committed:

* a side file whose fix asked for it to be git-ignored, or that has no masked form, is not
  committed at all: the worktree copy is put back as it was on the base branch (and the
  ``.gitignore`` line is added, so a later local ``tighten fix`` cannot commit it either);
* every other side file is committed in its masked/placeholder form (``masked_merge``).

After staging, a last check refuses the commit when a distinctive secret value occurs more
often in a changed file than it did on the base branch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Finding, Moved, Safety
from fixer.output.text import withheld
from fixer.pr import git
from fixer.ruleset import RuleSet
from fixer.settings import Settings
from fixer.sidefiles import SideFiles


class RemediationError(Exception):
    """The changes cannot be committed safely; one line, no secret value."""


@dataclass(frozen=True)
class Item:
    """One finding as the PR body lists it (``path`` relative to the repository root)."""

    rule: str
    path: str
    line: int
    text: str  # fixed and withheld: the fix's title; not fixed: the finding's message
    why: str = ""  # not fixed: the reason; withheld: what the fix needs
    evidence: str = ""  # fixed with a PROVEN fix: what proved it (not in the fingerprint)
    #: Fixed by moving secret values: where each went and what a person runs (no values).
    moved: tuple[Moved, ...] = ()


@dataclass(frozen=True)
class SecretRef:
    name: str
    namespace: str | None
    keys: tuple[str, ...]


@dataclass(frozen=True)
class SecretFile:
    """A generated Secret manifest: committed as placeholders, or kept out of git."""

    path: str
    committed: bool
    secrets: tuple[SecretRef, ...]
    #: Committed as written: encrypted or sealed for the cluster, or holding no value.
    publishable: bool = False


@dataclass(frozen=True)
class Remediation:
    tree: str
    fixed: tuple[Item, ...]
    unfixed: tuple[Item, ...]
    errors: tuple[str, ...]
    review: frozenset[str]  # rules whose applied fixes need review
    secret_files: tuple[SecretFile, ...]
    moved_secrets: bool
    masks: frozenset[str] = field(repr=False)
    #: Fixes offered but not applied: they change behaviour and the evidence that the
    #: workload still works is missing (``why`` says what they need).
    withheld: tuple[Item, ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(sorted({item.rule for item in self.fixed}))


@dataclass
class _Collector:
    """Receives every file result of the session and keeps only what the PR body needs."""

    root: Path
    safe_only: bool
    #: The folder the run was started from, in the worktree: rules name files in their
    #: texts by the absolute paths they were given, the PR names them from here.
    start: Path
    #: Rules that move secrets: their fixes always earn the "rotate the credential" warning.
    secret_rules: frozenset[str]
    unsafe_fixes: bool = False
    fixed: list[Item] = field(default_factory=list)
    unfixed: list[Item] = field(default_factory=list)
    withheld: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    review: set[str] = field(default_factory=set)
    masks: set[str] = field(default_factory=set)
    moved: bool = False

    def __call__(self, result: FileResult) -> None:
        path = relative(result.path, self.root)
        for finding in [*result.found, *result.remaining, *result.fixed]:
            self.masks.update(finding.masks)
        if result.error:
            self.errors.append(f"{path}: {self._shown(result.error)}")
        for finding in result.fixed:
            fix = finding.fix
            assert fix is not None
            title, proof = self._shown(fix.title), self._shown("; ".join(fix.evidence))
            moved = tuple(self._moved(m) for m in fix.moved)
            item = Item(finding.rule, path, finding.line, title, evidence=proof, moved=moved)
            self.fixed.append(item)
            if fix.safety is Safety.PROVEN:
                self.review.add(finding.rule)
            self.moved |= finding.rule in self.secret_rules or bool(fix.side_files)
        for finding in result.remaining:
            if finding.fix is not None and withheld(finding, unsafe_fixes=self.unsafe_fixes):
                needs = self._shown(finding.fix.needs or "evidence that the workload still works")
                item = Item(finding.rule, path, finding.line, self._shown(finding.fix.title), needs)
                self.withheld.append(item)
                continue
            self.unfixed.append(
                Item(
                    finding.rule,
                    path,
                    finding.line,
                    self._shown(finding.message),
                    self._shown(self._why(finding, result)),
                )
            )

    def _moved(self, moved: Moved) -> Moved:
        shown = self._shown
        return Moved(moved.key, shown(moved.destination), shown(moved.command), shown(moved.file))

    def _shown(self, text: str) -> str:
        """``text`` with the paths below ``start`` relative to it, as the user named them."""
        return text.replace(f"{self.start}{os.sep}", "")

    def _why(self, finding: Finding, result: FileResult) -> str:
        if finding.fix is None:
            return finding.reason or "no automatic fix"
        if finding.fix.safety is Safety.UNPROVEN:
            return finding.fix.withheld_note
        if self.safe_only and finding.fix.safety is Safety.PROVEN:
            return "the fix needs review and --safe-only was given"
        return (
            f"the fix was not applied: {result.error}"
            if result.error
            else "the fix was not applied"
        )


def relative(path: Path, root: Path) -> str:
    """``path`` (relative to the current folder, or absolute) relative to ``root``, posix."""
    return Path(os.path.relpath(os.path.abspath(path), root)).as_posix()


def remediate(
    wt: git.Git,
    base: str,
    start: Path,
    paths: Sequence[str],
    settings: Settings,
    *,
    rules: RuleSet,
    err: TextIO,
) -> Remediation:
    """Fix ``paths`` (relative to ``start``, a folder of the worktree ``wt``) and stage."""
    from fixer.session import Session

    root = wt.cwd.resolve()
    secret_rules = frozenset(r.id for r in rules if r.moves_secrets)
    collector = _Collector(
        root,
        settings.fixes.safe_only,
        start.resolve(),
        secret_rules,
        unsafe_fixes=settings.fixes.unsafe_fixes,
    )
    # Quiet: "wrote k8s/x.yaml" would read as a change to the user's own files. Findings that
    # remain (and errors) are still printed; ``tighten pr`` prints its own summary.
    # Absolute paths, shown relative to ``start``: the process's current folder (the
    # user's, outside the worktree) is never changed.
    named = [os.path.normpath(start.resolve() / path) for path in paths]
    if settings.selection.config_root is not None:
        # ``per-file-ignores`` globs matched these paths as named from ``start`` (the config
        # file's folder is in the user's checkout, not in the worktree): keep that meaning.
        settings = settings.with_values({"selection.config_root": start.resolve()})
    session = Session(
        settings,
        mode=Mode.FIX,
        quiet=True,
        out=err,
        err=err,
        observe=collector,
        base=start.resolve(),
        rules=rules,
    )
    session.execute(named)
    settled = _settle_side_files(wt, root, session.side_files, base)
    tree = git.stage_all(wt)
    _refuse_leaks(wt, base, tree, collector.masks)
    notes = tuple(
        SecretFile(path, git.blob(wt, tree, path) is not None, refs, publishable)
        for path, refs, publishable in settled
    )
    return Remediation(
        tree=tree,
        fixed=tuple(collector.fixed),
        unfixed=tuple(collector.unfixed),
        errors=tuple(collector.errors),
        review=frozenset(collector.review),
        secret_files=notes,
        moved_secrets=collector.moved or bool(notes),
        masks=frozenset(collector.masks),
        withheld=tuple(collector.withheld),
    )


def _settle_side_files(
    wt: git.Git, root: Path, sides: SideFiles, base: str
) -> list[tuple[str, tuple[SecretRef, ...], bool]]:
    """Put masked side files in place, keep private ones out; return what each holds."""
    settled = []
    for path, pending in sides.pending.items():
        full = Path(os.path.abspath(path))
        rel = relative(full, root)
        if rel == os.pardir or rel.startswith(os.pardir + "/"):
            # Never restore, delete or git-ignore a file the commit cannot hold.
            raise RemediationError(f"refusing to touch {rel}: it is outside the repository")
        if all(side.publishable for side in pending):
            # Encrypted, sealed or value-free: the file the fix wrote is what the cluster
            # needs (its masked preview would commit "***" as the value).
            settled.append((rel, secret_refs(full.read_text("utf-8", "replace")), True))
            continue
        original_bytes = git.blob(wt, base, rel)
        original = None if original_bytes is None else original_bytes.decode("utf-8", "replace")
        maskable = all(side.masked_merge is not None for side in pending)
        shown = sides.render(path, original, masked=True) if maskable else ""
        if not maskable or any(side.gitignore for side in pending):
            _restore(full, original_bytes)
            _ignore(full)
        else:
            full.write_bytes(shown.encode("utf-8"))
        settled.append((rel, secret_refs(shown), False))
    return settled


def _restore(path: Path, data: bytes | None) -> None:
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(data)


def _ignore(path: Path) -> None:
    """Add the file to its ``.gitignore`` (as ``tighten fix`` does for a private file)."""
    from fixer.secrets import add_gitignore_line, gitignore_entry

    entry = gitignore_entry(path)
    if entry is None:
        return
    gitignore, line = entry
    existing = gitignore.read_text("utf-8") if gitignore.exists() else None
    gitignore.write_text(add_gitignore_line(existing, line), "utf-8", newline="")


def secret_refs(text: str) -> tuple[SecretRef, ...]:
    """Name, namespace and keys of every Secret in a (placeholder) manifest."""
    import yaml

    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return ()
    refs = []
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "Secret":
            continue
        meta = doc.get("metadata") or {}
        keys = {*(doc.get("stringData") or {}), *(doc.get("data") or {})}
        namespace = meta.get("namespace")
        refs.append(
            SecretRef(
                str(meta.get("name", "")),
                namespace and str(namespace),
                tuple(sorted(map(str, keys))),
            )
        )
    return tuple(refs)


def _distinctive(value: str) -> bool:
    """Worth checking: short or dictionary-like values also occur in names by chance."""
    return len(value) >= 8 and not value.isalpha()


def _refuse_leaks(wt: git.Git, base: str, tree: str, masks: set[str]) -> None:
    values = [v.encode("utf-8") for v in masks if _distinctive(v)]
    if not values:
        return
    for rel in git.changed_paths(wt, base, tree):
        new = git.blob(wt, tree, rel)
        old = git.blob(wt, base, rel) or b""
        if new is not None and any(new.count(v) > old.count(v) for v in values):
            raise RemediationError(
                f"refusing to commit {rel}: it would contain a secret value tighten moved "
                "out of a file (please report this)"
            )
