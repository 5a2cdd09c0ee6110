"""In-file suppression: pragmas in comments and annotations on Kubernetes objects.

Conventions of the peers are honoured for the checks a rule covers (its ``aliases``):
- ``# tighten ignore=DF001,DF003`` (or ``# hadolint ignore=DL3002``) on the line(s) directly
  above an instruction or YAML key, or at the end of the YAML line, silences it there;
- ``# tighten global ignore=DF003`` (or ``# hadolint global ignore=...``) anywhere silences a
  rule for the whole file; ``#checkov:skip=CKV_DOCKER_3`` likewise, as checkov reads it;
- annotations ``ignore-check.tighten.dev/K8S002``, ``ignore-check.kube-linter.io/<check>``
  and checkov's ``checkov.io/skip1: CKV_K8S_16=reason`` silence a rule for one object.

``own_codes`` lists what tighten's own pragmas and annotations name, so that TGT001 can
report a name that silences nothing (the peers' pragmas name the peers' checks: not ours
to judge).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fixer.kinds import kind_of_name
from fixer.model import Span

if TYPE_CHECKING:
    from fixer.model import Finding, Span
    from fixer.rule import Rule

_LOCAL = re.compile(r"#\s*(?:tighten|hadolint)\s+ignore\s*=\s*([A-Za-z0-9_,\- ]+)")
_GLOBAL = re.compile(
    r"#\s*(?:(?:tighten|hadolint)\s+global\s+ignore\s*=\s*|checkov:skip=)([A-Za-z0-9_,\- ]+)"
)
_OWN_ANNOTATION = "ignore-check.tighten.dev/"
_ANNOTATION_PREFIXES = (_OWN_ANNOTATION, "ignore-check.kube-linter.io/")
#: tighten's own pragmas, local and global (the codes group is the one the matchers read).
_OWN = re.compile(r"#\s*tighten\s+(?:global\s+)?ignore\s*=\s*([A-Za-z0-9_,\- ]+)")
_WORD = re.compile(r"[^,\s]+")


def _codes(text: str) -> set[str]:
    return {c.strip() for c in re.split(r"[,\s]+", text) if c.strip()}


@dataclass
class Suppressions:
    """What one document silences, computed once per detection pass."""

    kind: str
    doc: Any
    file_codes: set[str] = field(default_factory=set)
    _line_codes: dict[int, set[str]] = field(default_factory=dict)
    _objects: list[tuple[Span, set[str]]] = field(default_factory=list)

    @classmethod
    def of(cls, kind: str, doc: Any) -> Suppressions:
        self = cls(kind, doc)
        text: str = doc.text
        if "ignore" not in text and "checkov" not in text:
            return self
        for m in _GLOBAL.finditer(text):
            self.file_codes |= _codes(m.group(1))
        for number, line in enumerate(text.splitlines(), start=1):
            local = _LOCAL.search(line)
            if local:
                self._line_codes[number] = _codes(local.group(1))
        if kind_of_name(kind).annotated:
            self._objects = list(_object_codes(doc))
        return self

    def silences(self, rule: Rule[Any], finding: Finding) -> bool:
        names = {rule.id, rule.name, *rule.aliases}
        if names & self.file_codes:
            return True
        if self._line_codes and names & self._codes_at(finding.line):
            return True
        offset = finding.span.start
        return any(s.start <= offset < s.end and names & codes for s, codes in self._objects)

    def _codes_at(self, line: int) -> set[str]:
        codes = set(self._line_codes.get(line, ()))  # trailing comment on the line itself
        kind = kind_of_name(self.kind)
        probe = kind.first_line(self.doc, line) - 1
        while probe in self._line_codes or _is_comment(self.doc, probe, kind.comment):
            codes |= self._line_codes.get(probe, set())
            probe -= 1
        return codes


def _is_comment(doc: Any, line: int, comment: str) -> bool:
    if line < 1 or line > doc.lines.line_count:
        return False
    return bool(doc.lines.line_text(line).lstrip().startswith(comment))


def _object_codes(doc: Any) -> list[tuple[Span, set[str]]]:
    from fixer.documents import yaml as y
    from fixer.documents.yaml import kube

    out = []
    for obj in kube.objects(doc):
        annotations = y.get_path(obj.node, "metadata", "annotations")
        codes: set[str] = set()
        for k, v in y.pairs(annotations) if annotations is not None else ():
            key = y.scalar(k) or ""
            for prefix in _ANNOTATION_PREFIXES:
                if key.startswith(prefix):
                    codes.add(key[len(prefix) :])
            if key.startswith("checkov.io/skip"):
                codes.add((y.scalar(v) or "").split("=", 1)[0].strip())
        if codes:
            out.append((y.span(obj.node), codes))
    return out


@dataclass(frozen=True)
class NamedCode:
    """One code a tighten pragma or annotation names, where it is written."""

    code: str
    span: Span
    annotation: bool = False


def own_codes(doc: Any) -> Iterator[NamedCode]:
    """Every code in ``# tighten [global] ignore=`` comments and, in YAML, every
    ``ignore-check.tighten.dev/<code>`` annotation key."""
    text: str = doc.text
    if "tighten" not in text:
        return
    for m in _OWN.finditer(text):
        for word in _WORD.finditer(m.group(1)):
            start = m.start(1) + word.start()
            yield NamedCode(word.group(), Span(start, start + len(word.group())))
    if hasattr(doc, "documents") and _OWN_ANNOTATION in text:
        yield from _own_annotations(doc)


def _own_annotations(doc: Any) -> Iterator[NamedCode]:
    from fixer.documents import yaml as y
    from fixer.documents.yaml import kube

    seen: set[int] = set()  # a key merged in with `<<` is written once
    for obj in kube.objects(doc):
        annotations = y.get_path(obj.node, "metadata", "annotations")
        for k, _ in y.pairs(annotations) if annotations is not None else ():
            key = y.scalar(k) or ""
            if key.startswith(_OWN_ANNOTATION) and k.start_mark.index not in seen:
                seen.add(k.start_mark.index)
                # A plain key's code starts after the prefix; a quoted key is named whole.
                start = k.start_mark.index + len(_OWN_ANNOTATION) * (k.style is None)
                yield NamedCode(key[len(_OWN_ANNOTATION) :], Span(start, k.end_mark.index), True)
