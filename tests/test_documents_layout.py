"""documents/ by language (issue 12.5): one model per language, what a stage runs with
computed once, Span for ranges, and DF003's analysis in rules/tools/."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from fixer.apply import merge_ranges
from fixer.documents import dockerfile
from fixer.documents import yaml as y
from fixer.documents.text import SourceText
from fixer.model import Span

ROOT = Path(__file__).resolve().parent.parent

BUILD = """\
FROM debian:bookworm AS base
USER app
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN echo base
FROM base
RUN echo final
USER root
SHELL ["pwsh", "-c"]
RUN echo last
FROM alpine AS other
RUN echo other
"""


def _doc(text: str) -> dockerfile.Dockerfile:
    return dockerfile.parse(SourceText(text))


def test_user_and_shell_in_effect_are_inherited_through_from() -> None:
    doc = _doc(BUILD)
    base, final, other = doc.stages
    user_app, shell_bash = base.body[0], base.body[1]
    assert doc.in_effect(base) == dockerfile.InEffect(user_app, shell_bash)
    at = doc.in_effect_at(final)
    assert [ins.value for ins in final.body] == [
        "echo final",
        "root",
        '["pwsh", "-c"]',
        "echo last",
    ]
    assert at[0] == dockerfile.InEffect(user_app, shell_bash)  # inherited from `base`
    assert at[3].user is final.body[1] and at[3].shell is final.body[2]
    assert doc.in_effect(final) == at[3]
    assert doc.in_effect(other) == dockerfile.InEffect()  # built on an image: nothing known
    assert doc.in_effect_at(other) == (dockerfile.InEffect(),)


def test_a_stage_is_not_built_on_a_later_one_of_the_same_name() -> None:
    doc = _doc("FROM scratch AS a\nUSER 1\nFROM a\nFROM busybox AS a\n")
    assert doc.in_effect(doc.stages[1]) == dockerfile.InEffect()


def test_yaml_span_is_the_text_of_the_node() -> None:
    text = "a: &x [1, 2]\nb: 'q'\n"
    doc = y.parse(SourceText(text))
    root = doc.documents[0]
    assert text[y.span(y.get(root, "b")).start : y.span(y.get(root, "b")).end] == "'q'"
    assert y.span(root) == Span(0, len(text))


def test_merge_ranges_merges_touching_and_overlapping_spans() -> None:
    got = merge_ranges([Span(5, 7), Span(0, 2), Span(2, 3), Span(6, 9), Span(12, 12)])
    assert got == [Span(0, 3), Span(5, 9), Span(12, 12)]


def test_modules_by_language_and_df003_in_a_package() -> None:
    for name in (
        "fixer.documents.dockerfile.lexer",
        "fixer.documents.dockerfile.model",
        "fixer.documents.dockerfile.words",
        "fixer.documents.dockerfile.images",
        "fixer.documents.shell.script",
        "fixer.documents.shell.lists",
        "fixer.documents.yaml.nodes",
        "fixer.documents.yaml.edit",
        "fixer.documents.yaml.patch",
        "fixer.documents.yaml.kube",
        "rules.tools.rule",
        "rules.tools.plan",
        "rules.tools.fix",
        "rules.tools.steps",
        "rules.tools.run_script",
        "rules.tools.packages",
    ):
        importlib.import_module(name)
    from rules.tools import NetworkTools

    assert NetworkTools().id == "DF003"


def test_documents_import_nothing_above_them() -> None:
    """fixer/documents/ sits under the rules and the engine: it imports only itself,
    fixer.model and libraries."""
    allowed = ("fixer.documents", "fixer.model")
    for path in sorted((ROOT / "fixer" / "documents").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith(("fixer", "rules")):
                    assert name.startswith(allowed), f"{path.relative_to(ROOT)} imports {name}"
