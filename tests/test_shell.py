"""The shell scanner, list-element removal, package commands and RUN script edits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixer.apply import splice
from fixer.documents import dockerfile
from fixer.documents.dockerfile import literal
from fixer.documents.shell import ShellError, Token, bashlex_agrees, parse
from fixer.documents.shell.lists import element_ranges
from fixer.documents.text import SourceText
from rules.tools.packages import INSTALL, MARK_AUTO, REMOVE, chore, package_command
from rules.tools.run_script import (
    Unsupported,
    append_command,
    deletion_edits,
    run_script,
    word_ranges,
)


def words(text: str) -> list[list[str]]:
    return [[w.text for w in c.words] for c in parse(text).commands]


# --- scanner ---------------------------------------------------------------------------


def test_words_keep_quotes_and_expansions_whole() -> None:
    text = """a "b c" 'd e' $(f "g h") ${i:-j k} `l m` n\\ o $'p\\'q'"""
    assert words(text) == [
        ["a", '"b c"', "'d e'", '$(f "g h")', "${i:-j k}", "`l m`", "n\\ o", "$'p\\'q'"]
    ]


def test_token_positions_are_exact() -> None:
    text = "  apt-get  install -y curl"
    for command in parse(text).commands:
        for w in command.words:
            assert text[w.start : w.end] == w.text


def test_operators_split_commands_and_redirections_are_not_words() -> None:
    text = "a x>/dev/null 2>&1 && b|c; d &>log & e || f"
    assert words(text) == [["a", "x"], ["b"], ["c"], ["d"], ["e"], ["f"]]


def test_assignments_and_reserved_words() -> None:
    script = parse("if true; then A=1 B=2 apt-get install x; fi")
    assert words("if true; then A=1 B=2 apt-get install x; fi") == [
        ["true"],
        ["apt-get", "install", "x"],
    ]
    assert [a.text for a in script.commands[1].assignments] == ["A=1", "B=2"]


def test_comments_end_at_the_line() -> None:
    assert words("a # b c\nd") == [["a"], ["d"]]
    assert words("a#b") == [["a#b"]]


def test_case_patterns_read_as_words() -> None:
    script = parse('case "$x" in a) apt-get install curl;; *) exit 1;; esac')
    assert ["apt-get", "install", "curl"] in [[w.text for w in c.words] for c in script.commands]


def test_heredoc_continuations_are_blanks() -> None:
    assert words("apt-get install \\\n  curl\nnext") == [["apt-get", "install", "curl"], ["next"]]


@pytest.mark.parametrize("text", ["echo 'x", 'echo "x', "echo $(x", "echo `x", "a ${b"])
def test_unbalanced_text_is_refused(text: str) -> None:
    with pytest.raises(ShellError):
        parse(text)


def test_heredoc_inside_a_script_is_refused_only_when_asked() -> None:
    assert words("cat <<EOF > f") == [["cat"]]
    with pytest.raises(ShellError):
        parse("cat <<EOF\nx\nEOF\n", heredocs=False)


def test_literal() -> None:
    assert literal("'cu'\"rl\"") == "curl"
    assert literal("a\\ b") == "a b"
    assert literal("$PKG") is None
    assert literal("'$x'") == "$x"


@given(st.text(alphabet=" \t\n;&|()<>'\"`$\\{}#=abc-", max_size=40))
@settings(max_examples=400, deadline=None)
def test_scanner_never_crashes_and_tokens_are_slices(text: str) -> None:
    try:
        script = parse(text)
    except ShellError:
        return
    for t in script.tokens:
        assert text[t.start : t.end] == t.text
    assert [t.start for t in script.tokens] == sorted(t.start for t in script.tokens)


def test_bashlex_cross_check() -> None:
    text = "apt-get update && apt-get install -y curl"
    script = parse(text)
    assert bashlex_agrees(text, 0, script.commands) is True
    assert bashlex_agrees("cat <<EOF\n", 0, parse("cat").commands) is None
    assert bashlex_agrees(text, 0, [parse("apt-get install").commands[0]]) is False


# --- removing list elements ---------------------------------------------------------------


def remove(text: str, index: int) -> list[str]:
    script = parse(text)
    command = script.commands[index]
    return [text[:a] + text[b:] for a, b in element_ranges(script, [command])]


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [
        ("a && X && b", 1, ["a && b", "a && b"]),
        ("X && b", 0, ["b"]),
        ("a && X", 1, ["a"]),
        ("X", 0, [""]),
        ("X;", 0, [""]),
        ("a; X && b", 1, ["a; b"]),
        ("a && X; b", 1, ["a; b"]),
        ("a; X; b", 1, ["a; b", "a; b"]),
        ("a || X", 1, []),
        ("a | X", 1, []),
        ("if c; then X; fi", 1, []),
        ("if c; then a; X; fi", 2, ["if c; then a; fi"]),
        ("a\nX\nb", 1, ["a\n\nb"]),
        ("if c\nthen\nX\nfi", 1, []),
        ("a &&\nX\nb", 1, ["a &&\n\nb"]),
    ],
)
def test_element_ranges_keep_the_list_valid(text: str, index: int, expected: list[str]) -> None:
    assert remove(text, index) == expected


# --- package commands -----------------------------------------------------------------------


def package(text: str) -> tuple[str, str, list[str]] | None:
    found = package_command(parse(text).commands[0])
    return None if found is None else (found.label, found.action, [p.name for p in found.packages])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apt-get install -y curl", ("apt-get install", INSTALL, ["curl"])),
        (
            "sudo -E env A=b apt -o X=y -y install --no-install-recommends curl=7.8 'wget'",
            ("apt install", INSTALL, ["curl", "wget"]),
        ),
        (
            "apt-get install -t bookworm-backports curl/bookworm",
            ("apt-get install", INSTALL, ["curl"]),
        ),
        (
            "apk add --no-cache --virtual .deps curl~=8 nc@edge",
            ("apk add", INSTALL, ["curl", "nc"]),
        ),
        ("apk --update add curl>=8", ("apk add", INSTALL, ["curl"])),
        ("dnf -y --enablerepo crb install curl-7.76.1-26.el9", ("dnf install", INSTALL, ["curl"])),
        ("microdnf install -y --nodocs socat", ("microdnf install", INSTALL, ["socat"])),
        ("zypper -n in -y socat", ("zypper in", INSTALL, ["socat"])),
        ("apt-get install -y $EXTRA ./local.deb", ("apt-get install", INSTALL, ["", ""])),
        ("apt-get purge -y --auto-remove curl", ("apt-get purge", REMOVE, ["curl"])),
        ("apk del .deps", ("apk del", REMOVE, [".deps"])),
        ("dpkg --purge curl", ("dpkg remove", REMOVE, ["curl"])),
        ("rpm -e --nodeps curl", ("rpm remove", REMOVE, ["curl"])),
        ("xargs -r apt-mark auto", ("apt-mark auto", MARK_AUTO, [])),
        ("apt-get update", None),
        ("echo apt-get install curl", None),
    ],
)
def test_package_commands(text: str, expected: tuple[str, str, list[str]] | None) -> None:
    assert package(text) == expected


def test_autoremove_flag() -> None:
    found = package_command(parse("apt-get purge -y --auto-remove -o X=1").commands[0])
    assert found is not None and found.autoremove and not found.packages


@pytest.mark.parametrize(
    ("text", "kind", "caches"),
    [
        ("apt-get update", "fetch", {"apt"}),
        ("rm -rf /var/lib/apt/lists/*", "clean", {"apt"}),
        ("rm -rf /var/lib/apt/lists/* /var/cache/apt/*", "clean", {"apt"}),
        ("yum clean all", "clean", set()),
        ("set -eux", "noop", set()),
    ],
)
def test_chores(text: str, kind: str, caches: set[str]) -> None:
    found = chore(parse(text).commands[0])
    assert found is not None and found.kind == kind and found.caches == caches


@pytest.mark.parametrize("text", ["rm -rf /app", "apt-get install x", "useradd app"])
def test_real_work_is_no_chore(text: str) -> None:
    assert chore(parse(text).commands[0]) is None


# --- RUN scripts and their edits --------------------------------------------------------------


def run_of(text: str) -> tuple[dockerfile.Dockerfile, dockerfile.Instruction]:
    doc = dockerfile.parse(SourceText(text))
    return doc, next(i for i in doc.instructions if i.keyword == "RUN")


def delete_words(text: str, *names: str) -> str:
    doc, ins = run_of(text)
    rs = run_script(doc, ins)
    groups: list[list[Token]] = [
        [w] for c in rs.script.commands for w in c.words if w.text in names
    ]
    return splice(doc.text, deletion_edits(doc, rs, word_ranges(doc, rs, groups)))


def test_word_among_others_takes_one_space() -> None:
    before = "FROM x\nRUN apt-get install -y curl git && echo\n"
    assert delete_words(before, "curl") == "FROM x\nRUN apt-get install -y git && echo\n"
    assert delete_words(before, "git") == "FROM x\nRUN apt-get install -y curl && echo\n"


def test_word_alone_on_its_line_takes_the_line() -> None:
    before = "FROM x\nRUN apt-get install -y \\\n    curl \\\n    git\n"
    assert delete_words(before, "curl") == "FROM x\nRUN apt-get install -y \\\n    git\n"


def test_last_line_going_drops_the_continuation_before_it() -> None:
    before = "FROM x\nRUN apt-get install -y \\\n    git \\\n    # c\n    curl\nCMD x\n"
    expected = "FROM x\nRUN apt-get install -y \\\n    git\n    # c\nCMD x\n"
    assert delete_words(before, "curl") == expected


def test_heredoc_body_lines() -> None:
    before = "FROM x\nRUN <<EOF\napt-get install -y \\\n  git \\\n  curl\necho done\nEOF\n"
    expected = "FROM x\nRUN <<EOF\napt-get install -y \\\n  git\necho done\nEOF\n"
    assert delete_words(before, "curl") == expected


def test_append_command() -> None:
    doc, ins = run_of("FROM x\nRUN a && \\\n    b # done\n")
    edit = append_command(doc, run_script(doc, ins), "c")
    assert edit is not None
    assert splice(doc.text, [edit]) == "FROM x\nRUN a && \\\n    b && c # done\n"
    doc, ins = run_of("FROM x\nRUN <<EOF\n  a\n  b\nEOF\n")
    edit = append_command(doc, run_script(doc, ins), "c")
    assert edit is not None
    assert splice(doc.text, [edit]) == "FROM x\nRUN <<EOF\n  a\n  b\n  c\nEOF\n"
    doc, ins = run_of("FROM x\nRUN a &\n")
    assert append_command(doc, run_script(doc, ins), "c") is None


@pytest.mark.parametrize(
    "text",
    [
        'FROM x\nRUN ["apt-get", "install", "curl"]\n',
        "FROM x\nRUN python3 <<EOF\nprint(1)\nEOF\n",
        "FROM x\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n",
    ],
)
def test_scripts_tighten_does_not_edit(text: str) -> None:
    doc, ins = run_of(text)
    with pytest.raises(Unsupported):
        run_script(doc, ins)


# --- bashlex's parser tables, stored (fixer/documents/shell/bashlex_tables.py) --------------


def test_stored_bashlex_tables_are_the_ones_the_installed_grammar_builds() -> None:
    """After a bashlex upgrade that changed its grammar this fails: regenerate the file with
    ``python -m fixer.documents.shell.bashlex_tables`` (tighten still works meanwhile: a
    grammar with another digest builds its own tables)."""
    import json

    from fixer.documents.shell import bashlex_tables

    stored = json.loads(bashlex_tables.TABLES.read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(bashlex_tables.built()))  # tuples -> lists, as stored
    assert stored["grammar"] == fresh["grammar"]
    assert stored == fresh


def test_bashlex_loaded_with_stored_tables_parses_as_bashlex_does() -> None:
    import subprocess
    import sys

    # A fresh interpreter each: one imports bashlex plainly (PLY builds its tables), one
    # through ``load`` (tables read from the file); both dump the same trees.
    texts = [
        "apt-get update && apt-get install -y curl wget | tee /log",
        "if [ -f x ]; then echo $(cat x) > y; else false; fi; for a in 1 2; do b=$a; done",
        "set -ex; { cd /src && make -j$(nproc); } || (echo failed >&2; exit 1)",
    ]
    program = (
        "import sys\n{imp}\n"
        "for t in {texts!r}:\n    print(''.join(n.dump() for n in bashlex.parse(t)))\n"
    )
    plain = "import bashlex"
    stored = "from fixer.documents.shell.bashlex_tables import load; bashlex = load()"
    outs = [
        subprocess.run(
            [sys.executable, "-c", program.format(imp=imp, texts=texts)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for imp in (plain, stored)
    ]
    assert outs[0] == outs[1] and "CommandNode" in outs[0]


def test_a_grammar_the_stored_tables_were_not_built_from_builds_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    import sys
    from pathlib import Path

    from fixer.documents.shell import bashlex_tables

    broken = Path(str(tmp_path)) / "tables.json"
    broken.write_text('{"grammar": "another", "action": [], "goto": []}')
    monkeypatch.setattr(bashlex_tables, "TABLES", broken)
    for name in [n for n in sys.modules if n == "bashlex" or n.startswith("bashlex.")]:
        monkeypatch.delitem(sys.modules, name)
    bashlex = bashlex_tables.load()
    assert len(bashlex.parser.yaccparser.action) > 300  # built, not read from the file
    assert bashlex_agrees("apt-get install -y curl", 0, parse("apt-get install -y curl").commands)
