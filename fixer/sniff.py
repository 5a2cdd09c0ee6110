"""What a text is: for stdin without a file name (``kind_of_text``), and whether a file the
user named is a Dockerfile or a Kubernetes manifest at all (``judge_named``).

``kind_of_text`` decides from the first line that is neither blank nor a comment: a
Dockerfile starts with an instruction (``FROM``/``ARG`` first by the grammar; any keyword is
accepted, for fragments), a YAML manifest with a key, a document marker, a directive, a
sequence item or JSON.

``judge_named`` is stricter, because a name is weak evidence (``dockerfile.py`` is a Python
module, ``Dockerfile.j2`` a template) and editing the wrong file appends ``USER`` to a
script: a Dockerfile is lexed as BuildKit lexes it and every instruction must be a known one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKERFILE = "dockerfile"
KUBERNETES = "kubernetes"

#: Every instruction BuildKit knows (case-insensitive in a Dockerfile).
KEYWORDS = frozenset(
    {
        "FROM",
        "ARG",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    }
)
_INSTRUCTION = re.compile(rf"(?:{'|'.join(sorted(KEYWORDS))})(?:\s|$)", re.IGNORECASE)
_YAML = re.compile(r"---|\.\.\.|%YAML|%TAG|[{\[]|-(?:\s|$)|[^\s#][^#]*?:(?:\s|$)")

#: Jinja syntax: a statement, a comment, or an expression that starts with a name
#: (``{{ base_image }}``). Go templates (``docker inspect -f '{{.Id}}'``) start with a dot.
_JINJA = re.compile(r"\{%-?\s|\{#-?\s|\{\{-?\s*[A-Za-z_][\w.]*\s*(?:\|[^}\n]*)?-?\}\}")
#: A key of a Kubernetes object, in YAML or JSON.
_API_VERSION = re.compile(r"(?:^|[{,\s])[\"']?apiVersion[\"']?\s*:", re.MULTILINE)
_KIND = re.compile(r"(?:^|[{,\s])[\"']?kind[\"']?\s*:", re.MULTILINE)

NOT_MANIFEST = "not a Kubernetes manifest (no object with apiVersion and kind); unchanged"


def kind_of_text(text: str) -> str:
    """``dockerfile`` or ``kubernetes``; a text that looks like neither is read as a
    Dockerfile (what stdin meant before this guess existed)."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _INSTRUCTION.match(stripped):
            return DOCKERFILE
        return KUBERNETES if _YAML.match(stripped) else DOCKERFILE
    return DOCKERFILE


@dataclass(frozen=True)
class Content:
    """What a named file is processed as (``kind``), or ``refused``: the one-line notice
    that says why it is left alone."""

    kind: str
    refused: str | None = None


def judge_named(name_kind: str | None, text: str) -> Content:
    """A file the user named, by its content. ``name_kind`` is what its name says (None:
    nothing), ``text`` its decoded head. An empty text is not judged: the engine says so."""
    if not text.strip():
        return Content(name_kind or DOCKERFILE)
    if name_kind == KUBERNETES:
        return Content(KUBERNETES, None if is_manifest_text(text) else NOT_MANIFEST)
    problem = dockerfile_problem(text)
    if problem is None:
        return Content(DOCKERFILE)
    if name_kind is None and is_manifest_text(text):
        return Content(KUBERNETES)
    what = "a Dockerfile" if name_kind else "a Dockerfile or a Kubernetes manifest"
    return Content(name_kind or DOCKERFILE, f"not {what} by its content ({problem}); unchanged")


def is_manifest_text(text: str) -> bool:
    """Whether the text has the two keys every Kubernetes object has (the engine decides
    the rest: a Kustomization, a template, invalid YAML)."""
    return bool(_API_VERSION.search(text) and _KIND.search(text))


def dockerfile_problem(text: str) -> str | None:
    """Why ``text`` is not a Dockerfile, or None when it is one: every instruction (parser
    directives, comments, continuations and heredoc bodies as BuildKit reads them) has a
    known keyword, and there is a FROM of the form ``FROM [--flag] image [AS name]``."""
    from fixer.documents.dockerfile.lexer import parse
    from fixer.documents.text import SourceText

    template = _JINJA.search(text)
    if template is not None:
        line = text.count("\n", 0, template.start()) + 1
        return f"line {line}: template syntax; render it first"
    froms = 0
    for ins in parse(SourceText(text)).instructions:
        if ins.keyword not in KEYWORDS:
            word = text[ins.keyword_span.start : ins.keyword_span.end][:20]
            return f"line {ins.line}: {word!r} is not an instruction"
        if ins.keyword == "FROM":
            if not _is_from(ins.value[ins.flag_end() :]):
                return f"line {ins.line}: not a FROM instruction"
            froms += 1
    return None if froms else "no FROM instruction"


def _is_from(args: str) -> bool:
    """``image`` or ``image AS name`` (``from os import path`` is Python). The image is
    not checked further: real Dockerfiles quote it or hold placeholders (``<project>``)."""
    words = args.split()
    return len(words) == 1 or (len(words) == 3 and words[1].upper() == "AS")
