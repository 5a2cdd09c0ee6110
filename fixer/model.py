"""Pure values shared by the engine and the rules: spans, edits, fixes and findings.

Offsets are ``str`` indexes into the decoded text of a file (BOM removed, newlines kept as
they are in the file), end exclusive. Nothing here touches files, the network or git.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")


def evolve(obj: _T, **changes: Any) -> _T:
    """``dataclasses.replace`` for the engine's hot paths: a shallow copy with ``changes``
    set, without running ``__init__`` (a tenth of the cost; ``replace`` was 5% of a
    ``check``'s CPU). Only for dataclasses without ``__slots__`` and for changes that no
    ``__post_init__`` would alter or check (``Fix.built``, which sorts new edits, keeps
    ``replace``)."""
    assert changes.keys() <= obj.__dataclass_fields__.keys(), changes.keys()  # type: ignore[attr-defined]
    new = object.__new__(obj.__class__)
    state = new.__dict__
    state.update(obj.__dict__)
    state.update(changes)
    return new


@dataclass(frozen=True, order=True)
class Span:
    """A half-open range ``[start, end)`` of character offsets into a text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad span {self.start}..{self.end}")

    @classmethod
    def at(cls, offset: int) -> Span:
        """An empty span: the point where an insertion goes."""
        return cls(offset, offset)

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        """True when the two ranges share a character, or both are the same insertion point.

        Two insertions at the same offset conflict because their order would be arbitrary;
        an insertion strictly inside a replaced range conflicts too.
        """
        if self.start == self.end and other.start == other.end:
            return self.start == other.start
        if self.start == self.end:
            return other.start < self.start < other.end
        if other.start == other.end:
            return self.start < other.start < self.end
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``span`` with ``content``. An empty span inserts; empty content deletes."""

    span: Span
    content: str = ""

    @classmethod
    def replace(cls, start: int, end: int, content: str) -> Edit:
        return cls(Span(start, end), content)

    @classmethod
    def insert(cls, offset: int, content: str) -> Edit:
        return cls(Span.at(offset), content)

    @classmethod
    def delete(cls, start: int, end: int) -> Edit:
        return cls(Span(start, end), "")


class Safety(Enum):
    """How sure a fix is to keep the workload working.

    ``tighten fix`` applies SAFE and PROVEN fixes; ``--unsafe-fixes`` adds UNPROVEN ones;
    ``--safe-only`` applies SAFE ones only.
    """

    #: Cannot change behaviour (a digest pin of the same image).
    SAFE = "safe"
    #: Changes behaviour; the evidence (file, repository, registry, known images) says the
    #: workload still starts and the build still finishes. ``Fix.evidence`` says what.
    PROVEN = "proven"
    #: Changes behaviour without that evidence: offered, withheld unless ``--unsafe-fixes``.
    #: ``Fix.needs`` says what is missing and what a person can do about it.
    UNPROVEN = "unproven"

    # Members are singletons compared by identity: hashing by identity (a C slot) instead
    # of Enum's ``hash(self._name_)`` (a Python call) keeps the per-container safety maps
    # of K8S002 cheap (about 100,000 look-ups over the corpus).
    __hash__ = object.__hash__


@dataclass(frozen=True)
class Moved:
    """Where a fix moved one secret value, for the ``tighten pr`` body (never the value)."""

    key: str  # the Secret (or env file) key that now holds it
    destination: str  # "Secret web-secrets in namespace shop (k8s/web.secrets.yaml)"
    #: What a person runs to put the rotated value there, Markdown (commands in backticks,
    #: placeholders for values); "": nothing to run.
    command: str = ""
    file: str = ""  # the file that now holds it (encrypted or git-ignored), if any


@dataclass(frozen=True)
class Fix:
    """A titled, all-or-nothing group of edits against one text."""

    title: str
    edits: tuple[Edit, ...]
    safety: Safety = Safety.SAFE
    #: Files other than the one being fixed that the fix writes (generated Secret manifests).
    #: The engine writes them only when the edits of this fix were applied.
    side_files: tuple[SideFile, ...] = ()
    #: UNPROVEN: the evidence that is missing, as what a person can do
    #: ("the image's numeric user; set runAsUser, or build the image with `USER 10001`").
    needs: str = field(default="", compare=False)
    #: PROVEN: what proved it ("image config User=10001 (registry)").
    evidence: tuple[str, ...] = field(default=(), compare=False)
    #: Secret-moving fixes: where each value went (the PR body lists them).
    moved: tuple[Moved, ...] = field(default=(), compare=False)
    #: A deferred fix (``deferred``): what computes its edits, until ``built`` is called.
    build: Callable[[], Iterable[Edit]] | None = field(default=None, compare=False, repr=False)
    #: The edits were never computed: a ``check`` whose output shows no edit (text, JSON)
    #: leaves them out (``unbuilt``). Such a fix can be reported, never applied.
    omitted: bool = field(default=False, compare=False)

    @classmethod
    def deferred(
        cls,
        title: str,
        build: Callable[[], Iterable[Edit]],
        safety: Safety = Safety.SAFE,
        *,
        needs: str = "",
        evidence: tuple[str, ...] = (),
    ) -> Fix:
        """A fix whose edits are computed only when someone needs them (``built``): the
        engine builds every fix before applying or showing edits, and a ``check`` that
        prints no edit skips the work (``build`` must yield at least one edit)."""
        return cls(title, (), safety, needs=needs, evidence=evidence, build=build)

    def built(self) -> Fix:
        """This fix with its edits computed (itself when they are)."""
        if self.build is None:
            return self
        return replace(self, edits=tuple(self.build()), build=None)

    def unbuilt(self) -> Fix:
        """This fix without its edits, for a run that shows none (text, JSON): what crosses
        to the parent process and the cache holds no closure, and no edit or side file that
        nobody reads (a tenth of a ``check``'s results by size, and their unpickling in the
        parent, which competes with the workers for the cores)."""
        if self.omitted:
            return self
        return evolve(self, edits=(), side_files=(), build=None, omitted=True)

    @property
    def withheld_note(self) -> str:
        """How outputs say that this fix is offered but not applied."""
        return f"fix withheld: needs {self.needs}" if self.needs else "fix withheld: unproven"

    def __post_init__(self) -> None:
        if self.build is not None:
            return  # checked when built
        ordered = tuple(sorted(set(self.edits)))
        for a, b in itertools.pairwise(ordered):
            if a.span.overlaps(b.span):
                raise ValueError(f"fix {self.title!r} has overlapping edits {a} and {b}")
        object.__setattr__(self, "edits", ordered)


@dataclass(frozen=True)
class SideFile:
    """A file other than the one being fixed that a fix writes (a generated Secret).

    ``merge`` turns the file's current text (None when absent) into the new text;
    ``masked_merge`` does the same with secret values replaced, for anything displayed.
    With ``gitignore`` the engine adds the file to the nearest ``.gitignore`` of its repo.
    ``publishable``: the written text holds no value in clear (a SOPS-encrypted or sealed
    Secret, a Kustomization's ``resources:`` line, an ExternalSecret entry), so ``tighten
    pr`` commits it as written instead of its masked form.
    """

    path: Path
    merge: Callable[[str | None], str] = field(compare=False)
    masked_merge: Callable[[str | None], str] | None = field(default=None, compare=False)
    gitignore: bool = False
    key: str = ""  # identifies the content, so equal side files of equal fixes compare equal
    publishable: bool = False


@dataclass(frozen=True)
class Finding:
    """One problem a rule found, with the fix when one exists.

    ``line`` is 1-based. ``reason`` explains why there is no fix when ``fix`` is None and the
    rule knows why (for example a tool still used at run time).
    """

    rule: str
    path: Path
    line: int
    message: str
    span: Span = field(default=Span(0, 0), compare=False)
    fix: Fix | None = None
    reason: str = ""
    column: int = 1
    #: Literal values (secrets) that must never be displayed; outputs replace them by ***.
    masks: tuple[str, ...] = field(default=(), compare=False, repr=False)
    #: A fix exists but needs registry answers that only ``tighten fix`` fetches.
    pending: bool = False

    @property
    def fixable(self) -> bool:
        return self.fix is not None or self.pending
