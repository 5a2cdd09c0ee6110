"""Documents and edits: spans, the Dockerfile lexer, YAML positions and style, applying."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from hypothesis import given
from hypothesis import strategies as st

from fixer.apply import apply_fixes, splice
from fixer.documents import dockerfile
from fixer.documents import yaml as y
from fixer.documents.text import DecodeError, LineIndex, SourceText, newline_of
from fixer.documents.yaml import kube
from fixer.documents.yaml.edit import Style, insert_into_mapping, render_scalar, set_value
from fixer.model import Edit, Fix, Span

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"


def test_span_overlap_rules() -> None:
    assert Span(0, 3).overlaps(Span(2, 5))
    assert not Span(0, 3).overlaps(Span(3, 5))
    assert Span.at(3).overlaps(Span.at(3))
    assert not Span.at(3).overlaps(Span(0, 3))
    assert Span.at(2).overlaps(Span(0, 3))
    with pytest.raises(ValueError):
        Span(3, 1)


def test_fix_rejects_overlapping_edits() -> None:
    with pytest.raises(ValueError):
        Fix("x", (Edit.replace(0, 3, "a"), Edit.replace(2, 4, "b")))


def test_apply_defers_overlaps_and_dedupes_identical_edits() -> None:
    a = Fix("a", (Edit.replace(0, 1, "X"),))
    b = Fix("b", (Edit.replace(0, 2, "YY"),))
    same = Fix("same", (Edit.replace(0, 1, "X"),))
    out = apply_fixes("abc", [b, a, same])
    assert out.text in ("Xbc", "YYc")
    assert len(out.deferred) == 1
    assert splice("abcdef", [Edit.insert(3, "-"), Edit.delete(0, 1)]) == "bc-def"


@given(st.text(alphabet="ab\r\n", max_size=40))
def test_line_index_round_trip(text: str) -> None:
    lines = LineIndex(text)
    for offset in range(len(text) + 1):
        line = lines.line_of(offset)
        assert lines.line_start(line) <= offset <= lines.line_end(line, with_newline=True)


def test_decode() -> None:
    assert SourceText.decode(b"\xef\xbb\xbfa").bom
    assert SourceText.decode(b"\xef\xbb\xbfa").encode() == b"\xef\xbb\xbfa"
    with pytest.raises(DecodeError, match="not UTF-8"):
        SourceText.decode(b"\xff\xfe")
    with pytest.raises(DecodeError, match="binary"):
        SourceText.decode(b"a\x00b")
    assert newline_of("a\r\nb\r\n") == "\r\n"
    assert newline_of("a\nb\r\n") == "\r\n"  # a tie keeps CRLF: the file's author used it
    assert newline_of("a\nb\nc\r\n") == "\n"


def test_dockerfile_lexer_spans_continuations_heredocs() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "FROM --platform=$BUILDPLATFORM alpine:3 AS b\r\n"
        "RUN apk add \\\r\n  # inner comment\r\n  curl \\\r\n  wget\r\n"
        "RUN <<EOF\nFROM x\napt-get install curl\nEOF\n"
        'ENV A=1 B="2 3"\nENV LEGACY some value\n'
        "USER root"
    )
    doc = dockerfile.parse(SourceText(text))
    kinds = [(i.keyword, i.line, i.end_line) for i in doc.instructions]
    assert kinds == [
        ("FROM", 2, 2),
        ("RUN", 3, 6),
        ("RUN", 7, 10),
        ("ENV", 11, 11),
        ("ENV", 12, 12),
        ("USER", 13, 13),
    ]
    run = doc.instructions[1]
    assert run.value == "apk add   curl   wget"
    start = run.value.index("curl")
    span = run.logical.span_of(start, start + 4)
    assert text[span.start : span.end] == "curl"
    heredoc = doc.instructions[2].heredocs[0]
    assert text[heredoc.body.start : heredoc.body.end] == "FROM x\napt-get install curl"
    stage = doc.stages[0]
    assert (stage.image, stage.name, stage.platform) == ("alpine:3", "b", "$BUILDPLATFORM")
    pairs = dockerfile.key_values(doc.instructions[3])
    assert [(p.key, p.value) for p in pairs] == [("A", "1"), ("B", "2 3")]
    assert text[pairs[1].pair.start : pairs[1].pair.end] == 'B="2 3"'
    legacy = dockerfile.key_values(doc.instructions[4])
    assert [(p.key, p.value, p.legacy) for p in legacy] == [("LEGACY", "some value", True)]


def test_escape_directive() -> None:
    doc = dockerfile.parse(SourceText("# escape=`\nFROM x\nRUN a `\n  b\n"))
    assert doc.escape == "`"
    assert doc.instructions[1].value == "a   b"


@pytest.mark.corpus
@pytest.mark.slow
def test_lexer_agrees_with_dockerfile_parse_on_the_corpus() -> None:
    """Line ranges match dockerfile-parse wherever it is right (no heredocs, LF files)."""
    checked = 0
    for path in sorted(CORPUS.rglob("*")):
        if not path.is_file() or ("ockerfile" not in path.name and "ontainerfile" not in path.name):
            continue
        text = path.read_text("utf-8")
        if "<<" in text or "\r" in text:
            continue
        ours = [
            (i.keyword, i.line - 1, i.end_line - 1)
            for i in dockerfile.parse(SourceText(text)).instructions
        ]
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
        theirs = [
            (i["instruction"], i["startline"], i["endline"])
            for i in parser.structure
            if i["instruction"] != "COMMENT"
        ]
        assert ours == theirs, path
        checked += 1
    assert checked > 1000


def _yaml(text: str) -> y.YamlFile:
    return y.parse(SourceText(text))


def test_yaml_spans_are_character_offsets() -> None:
    text = 'a: "é"\r\nb: [x, y]\n'
    doc = _yaml(text)
    b = y.get(doc.documents[0], "b")
    assert b is not None
    assert text[b.start_mark.index : b.end_mark.index] == "[x, y]"


def test_yaml_errors_and_templates() -> None:
    with pytest.raises(y.YamlError, match="invalid YAML: line 2"):
        _yaml("a: 1\n b: [\n")
    with pytest.raises(y.TemplateError):
        _yaml("a: {{ .Values.x }}\n")


def test_a_placeholder_a_script_fills_is_a_template_not_an_error() -> None:
    """cert-manager's e2e bind Service: ``sed`` fills ``{SERVICE_IP_PREFIX}`` before
    ``kubectl apply``; YAML stops on that line. Elsewhere the same braces stay an error."""
    text = "spec:\n  type: ClusterIP\n  clusterIP: {SERVICE_IP_PREFIX}.16\n  ports: []\n"
    with pytest.raises(y.TemplateError, match=r"\{SERVICE_IP_PREFIX\} placeholders"):
        _yaml(text)
    with pytest.raises(y.YamlError, match="invalid YAML: line 4") as bad:
        _yaml("# {NAME} is filled in\nspec:\n  a: [\n")
    assert not isinstance(bad.value, y.TemplateError)
    assert _yaml('image: "{IMAGE}"\n').documents  # valid YAML stays YAML
    # KServe's samples: a lower-case placeholder the reader fills in.
    sample = "spec:\n  containers:\n    - image: {docker_username}/iris-classifier\n"
    with pytest.raises(y.TemplateError, match=r"\{docker_username\} placeholders"):
        _yaml(sample)


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(y.YamlError, match="alias bomb"):
        _yaml("\n".join(lines) + "\n")


def test_style_survey() -> None:
    four = _yaml("a:\n    b:\n        c: 1\n    d:\n        - x\n")
    assert Style.of(four).indent == 4 and Style.of(four).seq_indented
    two = _yaml("a:\n  b:\n    c: 1\n  d:\n  - x\n")
    assert Style.of(two).indent == 2 and not Style.of(two).seq_indented


def test_render_scalar_quotes_what_yaml_would_misread() -> None:
    assert render_scalar("ALL") == "ALL"
    assert render_scalar("true") == '"true"'
    assert render_scalar("10001") == '"10001"'
    assert render_scalar("a: b") == '"a: b"'
    assert render_scalar("it's", "'") == "'it''s'"
    assert render_scalar(True) == "true"


POD = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a   # first
    image: x
    securityContext:   # why
  - {name: b, image: y}
"""


def test_insert_block_and_flow_and_empty_value() -> None:
    doc = _yaml(POD)
    style = Style.of(doc)
    a, b = (c.node for c in kube.all_containers(doc))
    edits = [
        insert_into_mapping(doc, a, {"ports": [{"containerPort": 80}]}, style),
        insert_into_mapping(doc, b, {"securityContext": {"privileged": False}}, style),
        set_value(
            doc,
            y.key_node(a, "securityContext"),
            y.get(a, "securityContext"),
            {"runAsNonRoot": True},
            style,
        ),
    ]
    out = splice(POD, edits)
    assert yaml.safe_load(out)["spec"]["containers"] == [
        {
            "name": "a",
            "image": "x",
            "securityContext": {"runAsNonRoot": True},
            "ports": [{"containerPort": 80}],
        },
        {"name": "b", "image": "y", "securityContext": {"privileged": False}},
    ]
    assert "    securityContext:   # why\n      runAsNonRoot: true\n" in out
    assert "  - {name: b, image: y, securityContext: {privileged: false}}\n" in out
    assert "    ports:\n    - containerPort: 80\n" in out
