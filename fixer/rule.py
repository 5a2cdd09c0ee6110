"""What a rule is, and the context it runs in.

A rule is a small class whose docstring is its documentation (sections *What it does*,
*Why is this bad?*, *Example*, *Fix safety*). ``check`` yields findings with their fixes
attached; rules never apply edits themselves and never need to know about each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from fixer.evidence.images import Evidence
from fixer.evidence.resolution import Resolution as Resolution  # the rules read it here
from fixer.model import Edit, Finding, Fix, Safety, Span
from fixer.readfile import read_regular
from fixer.settings import Settings

if TYPE_CHECKING:
    from fixer.documents.yaml.edit import Style

D = TypeVar("D")


class Severity(Enum):
    """How loudly a finding is reported: the SARIF ``level`` of the rule's results."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class ReferenceAt:
    """An image reference (as written) a rule wants pinned, and where its finding would be,
    so the engine can leave a suppressed finding's image unasked."""

    reference: str
    span: Span


@dataclass
class Context(Generic[D]):
    """Per-file facts a rule may use: the document, path, settings and registry answers."""

    doc: D
    path: Path
    settings: Settings
    resolutions: Mapping[str, Resolution] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    #: True when this run asked the registry (``fix``); ``check`` never does, so pinning
    #: rules report their findings as fixable-later instead of failing.
    pinning: bool = False
    _style: Any = None
    #: Run-level evidence (repository model, image facts); built from ``resolutions``
    #: when the caller gave none.
    evidence: Evidence = field(default=None)  # type: ignore[assignment]
    #: ``style_at`` answers, by the id of the document root they are for.
    _document_styles: dict[int, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.evidence is None:
            self.evidence = Evidence(self.resolutions)

    @property
    def text(self) -> str:
        return self.doc.text  # type: ignore[attr-defined, no-any-return]

    @property
    def style(self) -> Style:
        """The YAML file's formatting conventions, surveyed once per document."""
        if self._style is None:
            from fixer.documents.yaml.edit import Style

            self._style = Style.of(self.doc)  # type: ignore[arg-type]
        return self._style  # type: ignore[no-any-return]

    def style_at(self, node: Any) -> Any:
        """The formatting conventions of the YAML document holding ``node``: a file that
        concatenates documents from several sources (a rendered bundle) keeps each one's
        own, as the source it was rendered from was edited. The file's ``style`` where the
        document alone says nothing (no nested block collection)."""
        from fixer.documents.yaml.edit import Style

        documents = self.doc.documents  # type: ignore[attr-defined]
        at = node.start_mark.index
        root = next((r for r in documents if r.start_mark.index <= at < r.end_mark.index), None)
        if len(documents) < 2 or root is None:
            return self.style
        styles = self._document_styles
        if id(root) not in styles:
            styles[id(root)] = Style.of(self.doc, roots=[root], fallback=self.style)  # type: ignore[arg-type]
        return styles[id(root)]

    def context_text(
        self, relative: str, *, limit: int = 256 * 1024, documents: bool = False
    ) -> str | None:
        """Text of a file (or of the files in a folder, up to ``limit`` characters) in the
        build context next to the document, for rules that must know what a ``COPY``
        brings in. None when it does not exist, leaves the folder, or cannot be read.
        Documents (``.txt``, ``.md``, manifests) are left out, their mention of a program
        being no use of it, unless ``documents`` (a requirements file read as such).

        This is the one place a rule reads another file; it never writes.
        """
        import glob
        import os

        root = os.path.realpath(self.path.parent)
        matches = glob.glob(os.path.join(glob.escape(root), relative.lstrip("/")), recursive=False)
        texts: list[str] = []
        size = 0
        for match in sorted(matches)[:200]:
            real = os.path.realpath(match)
            if os.path.commonpath([root, real]) != root:
                continue  # outside the build context
            for file in _files_under(real, 200):
                if not documents and _not_a_program(file):
                    continue
                try:  # a FIFO or device in the build context must not block or flood
                    data = read_regular(file, limit - size)
                except OSError:
                    continue
                if b"\x00" in data[:1024]:
                    continue  # a binary: nothing to read
                texts.append(data.decode("utf-8", "replace"))
                size += len(data)
                if size >= limit:
                    return "\n".join(texts)
        return "\n".join(texts) if texts else None

    def finding(
        self,
        rule: Rule[Any],
        span: Span,
        message: str,
        *,
        edits: Iterable[Edit] = (),
        title: str = "",
        safety: Safety | None = None,
        reason: str = "",
        fix: Fix | None = None,
        pending: bool = False,
        masks: tuple[str, ...] = (),
    ) -> Finding:
        """A finding located at ``span``, with a fix when ``edits`` (or ``fix``) are given."""
        edits = tuple(edits)
        if fix is None and edits:
            fix = Fix(title or message, edits, safety or rule.safety)
        lines = self.doc.lines  # type: ignore[attr-defined]
        return Finding(
            rule=rule.id,
            path=self.path,
            line=lines.line_of(span.start),
            column=lines.column_of(span.start),
            message=message,
            span=span,
            fix=fix,
            reason=reason,
            pending=pending,
            masks=masks,
        )


class Rule(Generic[D]):
    """Base class. Subclasses set the class attributes and implement ``check``.

    Everything tighten says about a rule lives here, so adding a rule touches the rule, the
    list in ``rules/__init__.py`` and its fixtures only.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    target: ClassVar[str]  # "dockerfile" or "kubernetes"
    summary: ClassVar[str]
    safety: ClassVar[Safety] = Safety.SAFE
    #: Peer check ids this rule covers (hadolint DLxxxx, checkov CKV_K8S_x, kube-linter names);
    #: their suppression comments and annotations are honoured.
    aliases: ClassVar[tuple[str, ...]] = ()
    #: The rule asks ``ctx.evidence.repository`` (which Dockerfile builds an image, what a
    #: build copies in, which manifests run it). The run scans the repository once, before
    #: any file is processed, only when an enabled rule sets this.
    needs_repository: ClassVar[bool] = False
    #: The rule fixes a Dockerfile's last stage as the image that ships (DF001, DF003):
    #: its fixes are withheld where the repository builds only earlier stages.
    judges_shipped_stage: ClassVar[bool] = False
    #: The rule judges rendered Kustomize overlays: the session hands it each patch file of a
    #: rendered overlay, with ``ctx.evidence.rendered`` set (``fixer.repository.render``).
    judges_renders: ClassVar[bool] = False
    #: The SARIF level of its results, and the CVSS-like score GitHub code scanning turns
    #: into critical/high/medium/low (``security-severity``); error means 7.0 or more.
    severity: ClassVar[Severity] = Severity.WARNING
    security_severity: ClassVar[float] = 5.0
    #: What a reviewer must know before merging its fixes (the "Before you merge" notes of
    #: a pull request); empty: the *Fix safety* section of the docs says it.
    risk: ClassVar[str] = ""
    #: Its fixes move secret values out of files: a pull request then asks for rotation.
    moves_secrets: ClassVar[bool] = False
    #: Runs only when ``--select`` (or the config's ``select``) names its id or name: for
    #: rules whose fix changes behaviour too often to be on for everyone.
    opt_in: ClassVar[bool] = False

    def check(self, ctx: Context[D]) -> Iterator[Finding]:
        raise NotImplementedError

    def references(self, ctx: Context[D]) -> Iterable[ReferenceAt]:
        """Image references this rule wants pinned to digests before fixing, each with the
        span its finding would have (a suppressed finding's image is not looked up)."""
        return ()

    def image_users(self, ctx: Context[D]) -> Iterable[str]:
        """Image references whose config ``User`` this rule wants read before fixing."""
        return ()


def _files_under(path: str, most: int) -> list[str]:
    import os

    if os.path.isfile(path):
        return [path]
    found: list[str] = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(folder, f) for f in sorted(files))
        if len(found) >= most:
            return found[:most]
    return found


_DOC_SUFFIXES = (".md", ".rst", ".txt", ".adoc", ".yaml", ".yml", ".json", ".toml", ".lock")


def _not_a_program(path: str) -> bool:
    """Files whose mention of a tool is not a use: docs, manifests, Dockerfiles."""
    from fixer.filenames import is_dockerfile_name

    name = path.rsplit("/", 1)[-1]
    return name.lower().endswith(_DOC_SUFFIXES) or is_dockerfile_name(name)
