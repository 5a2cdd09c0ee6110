"""dockerfile-parse as a second opinion on instruction boundaries before an edit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from fixer.documents import dockerfile
from fixer.documents.dockerfile.crosscheck import disagreement
from fixer.documents.text import DecodeError, SourceText
from fixer.filenames import kind_of
from fixer.mode import Mode
from fixer.model import Edit, Span
from fixer.session import Session
from fixer.settings import Settings
from tests.helpers import RULES

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
#: The last line continues into nothing: BuildKit joins whatever is appended to the RUN.
DANGLING = 'FROM alpine:3.19\nCMD ["app"]\nRUN true \\\n'


def doc_of(text: str) -> dockerfile.Dockerfile:
    return dockerfile.parse(SourceText(text))


def test_an_insertion_after_a_dangling_continuation_is_refused() -> None:
    found = disagreement(doc_of(DANGLING), [Edit(Span(len(DANGLING), len(DANGLING)), "USER 1\n")])
    assert found is not None and found.line == 3
    assert str(found) == (
        "dockerfile-parse reads line 3 differently (no instruction; tighten: RUN on lines 3-3)"
    )


def test_a_blank_line_inside_a_continuation_is_read_two_ways() -> None:
    text = "FROM a\nRUN apt-get update \\\n\n  && apt-get install -y curl\nUSER root\n"
    doc = doc_of(text)
    at = text.index("curl")
    found = disagreement(doc, [Edit(Span(at, at + 4), "")])
    assert found is not None
    assert (found.line, found.ours, found.theirs) == (4, ("RUN", 2, 4), ("&&", 4, 4))
    # An edit elsewhere is not refused: only the instructions an edit touches are compared.
    assert disagreement(doc, [Edit(Span(0, 4), "FROM")]) is None


def test_heredoc_bodies_are_not_read_as_instructions() -> None:
    text = "FROM a\nRUN <<EOF\nset -e \\\necho hi\nEOF\nUSER root\n"
    at = text.index("root")
    assert disagreement(doc_of(text), [Edit(Span(at, at + 4), "10001")]) is None


def test_crlf_and_escape_directive_agree() -> None:
    text = "# escape=`\r\nFROM a\r\nRUN echo a `\r\n  b\r\nUSER root\r\n"
    at = text.index("root")
    assert disagreement(doc_of(text), [Edit(Span(at, at + 4), "10001")]) is None


def test_fix_leaves_the_file_untouched_and_says_where(tmp_path: Path) -> None:
    """Today the USER lines are appended to the RUN's continuation (BuildKit reads them as
    arguments of ``RUN true``); the second opinion refuses the edit instead."""
    path = tmp_path / "Dockerfile"
    path.write_text(DANGLING)
    out, err = io.StringIO(), io.StringIO()
    settings = Settings.of(select=["DF001"], offline=True)
    code = Session(settings, Mode.FIX, out=out, err=err, rules=RULES).execute([str(tmp_path)])
    assert path.read_text() == DANGLING
    assert code == 1  # the finding stays open
    assert "fixes not applied: dockerfile-parse reads line 3 differently" in err.getvalue()
    assert "1 not fixable" in err.getvalue()


@pytest.mark.slow
def test_every_corpus_dockerfile_agrees_with_dockerfile_parse() -> None:
    """Whole files (every instruction touched), heredocs and CRLF included."""
    checked = 0
    for path in sorted(CORPUS.rglob("*")):
        if not path.is_file() or kind_of(path.name) != "dockerfile":
            continue
        try:
            source = SourceText.decode(path.read_bytes())
        except DecodeError:
            continue
        everything = Edit(Span(0, len(source.text)), "")
        assert disagreement(dockerfile.parse(source), [everything]) is None, path
        checked += 1
    assert checked > 1000
