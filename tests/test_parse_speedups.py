"""The fast paths of the Dockerfile lexer, the shell scanner and DF003 give the answers of
the slow ones: each test here targets an edge a too-eager shortcut would get wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixer.documents import dockerfile
from fixer.documents.dockerfile.lexer import _split_lines
from fixer.documents.shell import parse
from fixer.documents.text import SourceText
from fixer.rule import Context
from fixer.settings import Settings
from rules.tools import NetworkTools
from rules.tools.plan import _program_pattern, may_name_tool, tool_pattern
from rules.tools.run_script import _lines, run_script
from rules.tools.steps import analyse

# --- Dockerfile lines -------------------------------------------------------------------------


def _reference_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, one character at a time."""
    out = []
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        if nl == -1:
            out.append((pos, len(text)))
            break
        end = nl - 1 if nl > pos and text[nl - 1] == "\r" else nl
        out.append((pos, end))
        pos = nl + 1
    return out


@pytest.mark.parametrize(
    "text",
    ["", "\n", "\n\n", "a", "a\n", "a\nb", "a\r\nb\r\n", "a\r", "\r", "\r\n", "a\r\r\nb", "\n\r"],
)
def test_lines_split_as_one_character_at_a_time(text: str) -> None:
    spans, contents = _split_lines(text)
    assert spans == _reference_lines(text)
    assert contents == [text[a:b] for a, b in spans]


def test_continuation_with_trailing_blanks_and_inner_comment_in_a_crlf_file() -> None:
    text = "FROM x\r\nRUN a \\ \t\r\n# note\r\n\r\n    b`\r\nCMD c\r\n"
    doc = dockerfile.parse(SourceText(text))
    run, cmd = doc.instructions[1], doc.instructions[2]
    assert (run.value, run.line, run.end_line) == ("a     b`", 2, 5)
    assert [run.logical.offsets[i] for i in (0, 1, 2)] == [12, 13, 29]
    assert (cmd.keyword, cmd.line, cmd.value) == ("CMD", 6, "c")


def test_backtick_escape_continues_lines() -> None:
    doc = dockerfile.parse(SourceText("# escape=`\nFROM x\nRUN a `  \n  b \\\nCMD c\n"))
    assert [(i.keyword, i.value) for i in doc.instructions] == [
        ("FROM", "x"),
        ("RUN", "a   b \\"),
        ("CMD", "c"),
    ]


# --- shell words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("echo 12>out", ["echo", "12>", "out"]),  # digits then `>`: a redirection
        ("echo 1.2.3 x", ["echo", "1.2.3", "x"]),  # digits then a dot: a word
        ("echo \u00b2>x", ["echo", "\u00b2>", "x"]),  # `²` is a digit to str.isdigit
        ("echo 2&>x", ["echo", "2", "&>", "x"]),  # after a descriptor `&>` is no operator
        ("diff a<(b) c", ["diff", "a<(b)", "c"]),  # `<(` inside a word
        ("a>b", ["a", ">", "b"]),
        ("a|b;c&&d", ["a", "|", "b", ";", "c", "&&", "d"]),
        ("x#y #z", ["x#y"]),  # `#` starts a comment only at a word's start
        ("a\\\nb c", ["a\\\nb", "c"]),
        ("a=$(b c)d e", ["a=$(b c)d", "e"]),
    ],
)
def test_words_end_where_the_scanner_says(text: str, tokens: list[str]) -> None:
    assert [t.text for t in parse(text).tokens] == tokens


def test_tokens_and_commands_are_ordinary_values() -> None:
    script = parse("A=1 apt-get install -y curl 2>/dev/null")
    command = script.commands[0]
    assert [t.text for t in command.assignments] == ["A=1"]
    assert [t.text for t in command.words] == ["apt-get", "install", "-y", "curl"]
    assert command == parse("A=1 apt-get install -y curl 2>/dev/null").commands[0]
    assert hash(script.tokens[1]) == hash(parse("A=1 apt-get").tokens[1])
    assert script.tokens[4].value == "curl"
    assert "Token(kind='word', start=0, end=3, text='A=1')" in repr(script.tokens[0])


# --- DF003's tool prefilter -------------------------------------------------------------------

_TOOLS = ("curl", "netcat*", "tel?et", "openssh-client")


@pytest.mark.parametrize(
    "text",
    [
        "apt-get install -y curl",
        "apk add netcat-openbsd",
        "apk add telnet",
        "apt-get install openssh-client",
        "echo x;curl;y",
    ],
)
def test_prefilter_keeps_every_text_a_word_matches(text: str) -> None:
    tool = tool_pattern(_TOOLS)
    assert any(tool.match(w) for w in re.findall(r"[\w.+-]+", text))
    assert may_name_tool(text, _TOOLS)


@pytest.mark.parametrize("tools", [("[cw]url",), ("*",), ("?",), ("curl", "*")])
def test_prefilter_without_a_plain_run_reads_everything(tools: tuple[str, ...]) -> None:
    assert may_name_tool("wget x", tools)


def test_prefilter_skips_a_text_naming_no_tool() -> None:
    assert not may_name_tool("apt-get install -y git", _TOOLS)


def test_notice_for_an_upper_case_tool_in_an_unread_run() -> None:
    text = 'FROM debian\nSHELL ["/usr/bin/fish", "-c"]\nRUN apt-get install -y CURL\n'
    ctx = Context(dockerfile.parse(SourceText(text)), Path("Dockerfile"), Settings.of())
    assert list(NetworkTools().check(ctx)) == []
    assert ctx.notices == ["DF003: RUN at line 3 left unchanged: RUN runs in SHELL fish"]


# --- physical lines of a RUN script -----------------------------------------------------------


def test_lines_of_a_run_with_an_inner_comment_line() -> None:
    text = "FROM x\nRUN a && \\\n# note\n    b \\\n    c\n"
    doc = dockerfile.parse(SourceText(text))
    rs = run_script(doc, doc.instructions[1])
    got = [
        (ln.number, rs.text[ln.start : ln.end], ln.continued, ln.keyword) for ln in _lines(doc, rs)
    ]
    assert got == [(2, "a && ", True, True), (4, "    b ", True, False), (5, "    c", False, False)]
    assert _lines(doc, rs) == _lines(doc, rs)  # worked out once, same answer


def test_lines_of_a_heredoc_script_keep_newlines_out() -> None:
    text = "FROM x\nRUN <<EOF\napk add curl \\\n  wget\necho hi\nEOF\n"
    doc = dockerfile.parse(SourceText(text))
    rs = run_script(doc, doc.instructions[1])
    got = [(ln.number, rs.text[ln.start : ln.end], ln.continued) for ln in _lines(doc, rs)]
    assert got == [(3, "apk add curl ", True), (4, "  wget", False), (5, "echo hi", False)]


# --- mentions of a tool's programs in a read RUN ----------------------------------------------


@pytest.mark.parametrize("package", ["curl", "openssh-client", "netcat-openbsd"])
def test_mentions_are_those_of_each_word(package: str) -> None:
    text = (
        "FROM debian\nRUN apt-get install -y curl openssh-client netcat-openbsd\n"
        "RUN curl -o x y && git clone git@github.com:a/b && nc -z h 1;rsync a b\n"
        'RUN echo "use ssh://h" x.curl curl- /usr/bin/curl <<EOF\nnc\nEOF\n'
    )
    doc = dockerfile.parse(SourceText(text))
    build = analyse(doc, doc.stages)
    pattern = _program_pattern(package)
    for step in build.steps:
        expected = [
            (m.group(0), at + m.start()) for at, t in step.texts for m in pattern.finditer(t)
        ]
        assert [(m.name, m.at) for m in step.mentions(pattern)] == expected
        assert expected or step.order != 2
