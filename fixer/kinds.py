"""The kinds of document tighten reads, each described once: how to parse it, whether a
file found while walking could hold one, what a fix must not change, and what the
suppressions read in it. The engine, the runner and ``fixer.suppress`` look a kind up here
instead of branching on its name.

The parsers are imported when first used: a run over Dockerfiles only never loads YAML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fixer.documents.text import SourceText
from fixer.model import Edit

DOCKERFILE = "dockerfile"
KUBERNETES = "kubernetes"


class Skipped(Exception):
    """The file is of this kind but not for tighten (a Helm template): skipped, with a
    ``reason`` for the counts and a ``notice`` for the user."""

    def __init__(self, reason: str, notice: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.notice = reason, notice


@dataclass(frozen=True)
class Kind:
    name: str
    #: Text to document; raises ``ValueError`` for a broken file, ``Skipped`` for one to pass.
    parse: Callable[[SourceText], Any]
    #: Whether a parsed document holds anything the rules look at.
    holds_objects: Callable[[Any], bool]
    #: What a fix must not change (the stages, or the documents and their kinds).
    shape: Callable[[Any], tuple[Any, ...]]
    #: Why a second parser refuses a pass's edits, or None (Dockerfiles only have one).
    second_opinion: Callable[[Any, tuple[Edit, ...]], str | None]
    #: The line a pragma comment above ``line`` must sit on top of: the first line of the
    #: construct holding it (a continued Dockerfile instruction starts above).
    first_line: Callable[[Any, int], int]
    #: Bytes a file found while walking must contain to be parsed at all (empty: any file).
    markers: tuple[bytes, ...] = ()
    #: Why a file that holds nothing of this kind is skipped (silently).
    absent: str = ""
    #: Objects carry annotations that silence rules for themselves (Kubernetes metadata).
    annotated: bool = False
    #: What starts a comment line, where suppression pragmas are written.
    comment: str = "#"

    def could_hold(self, data: bytes) -> bool:
        """A cheap test on a walked file's bytes: False means it cannot hold this kind."""
        return all(marker in data for marker in self.markers)


def _parse_dockerfile(source: SourceText) -> Any:
    from fixer.documents import dockerfile

    return dockerfile.parse(source)


def _parse_yaml(source: SourceText) -> Any:
    from fixer.documents import yaml

    try:
        return yaml.parse(source)
    except yaml.TemplateError as exc:
        raise Skipped("template", f"skipped: {exc}") from None


def _is_kube(doc: Any) -> bool:
    from fixer.documents.yaml.kube import is_kubernetes

    return is_kubernetes(doc)


def _stages(doc: Any) -> tuple[Any, ...]:
    return tuple((s.name or "").lower() for s in doc.stages)


def _documents(doc: Any) -> tuple[Any, ...]:
    from fixer.documents import yaml as y

    return tuple(y.scalar(y.get(d, "kind")) for d in doc.documents)


def _crosscheck(doc: Any, edits: tuple[Edit, ...]) -> str | None:
    from fixer.documents.dockerfile.crosscheck import disagreement

    found = disagreement(doc, edits)
    return None if found is None else str(found)


def _instruction_line(doc: Any, line: int) -> int:
    for ins in doc.instructions:
        if ins.line <= line <= ins.end_line:
            return int(ins.line)
    return line


KINDS: dict[str, Kind] = {
    DOCKERFILE: Kind(
        DOCKERFILE,
        parse=_parse_dockerfile,
        holds_objects=lambda doc: True,
        shape=_stages,
        second_opinion=_crosscheck,
        first_line=_instruction_line,
    ),
    KUBERNETES: Kind(
        KUBERNETES,
        parse=_parse_yaml,
        holds_objects=_is_kube,
        shape=_documents,
        second_opinion=lambda doc, edits: None,
        first_line=lambda doc, line: line,
        markers=(b"apiVersion", b"kind"),
        absent="no Kubernetes objects",
        annotated=True,
    ),
}


def kind_of_name(name: str) -> Kind:
    """The kind named ``name``; anything but a Dockerfile is read as YAML, as before."""
    return KINDS[DOCKERFILE] if name == DOCKERFILE else KINDS[KUBERNETES]
