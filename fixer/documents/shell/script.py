"""Shell text as tokens with exact positions, grouped into simple commands.

A small scanner for the POSIX sh that ``RUN`` hands to ``/bin/sh -c``: quotes, backslash
escapes, ``$(...)``, ``${...}``, backticks, comments, list operators and redirections. It
expands nothing; it says where each word starts and ends, so a rule can delete one word and
leave every other byte alone. ``case`` patterns read as words before a ``)`` operator, which
is harmless for finding and deleting words. Text it does not model (a here-document inside
a script, unbalanced quotes) raises ``ShellError`` and the caller leaves it alone.

bashlex parses more of bash but fails on about 5% of real ``RUN`` values and is slow, so it
only cross-checks the commands a rule is about to edit (``bashlex_agrees``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fixer.documents.dockerfile.words import literal

WORD, OP, REDIRECT = "word", "op", "redirect"
#: Operators that join list elements; removing an element with its joiner keeps the list valid.
LIST_OPS = frozenset({"&&", ";", "\n"})
_OPERATORS = ("&&", "||", ";;", ";&", "|&", ";", "|", "&", "(", ")")
_REDIRECTS = ("<<<", "<<-", "&>>", ">>", "<<", ">&", "<&", ">|", "<>", "&>", ">", "<")
RESERVED = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in"}
    | {"select", "function", "{", "}", "!", "[[", "]]", "time", "case", "esac"}
)


class ShellError(ValueError):
    """Shell text the scanner does not model; callers leave such text untouched."""


@dataclass(frozen=True)
class Token:
    """A word, operator (``&&``, ``;``, newline, ...) or redirection operator (``2>``)."""

    kind: str
    start: int
    end: int
    text: str

    @property
    def value(self) -> str | None:
        """The word after quote removal, or None when it expands something at run time."""
        return literal(self.text)


@dataclass(frozen=True)
class Command:
    """A simple command: indexes into ``Script.tokens`` of its first and last token."""

    first: int
    last: int
    words: tuple[Token, ...]  # arguments, the command name first
    assignments: tuple[Token, ...]  # leading NAME=value words
    start: int
    end: int


@dataclass(frozen=True)
class Script:
    """The tokens and simple commands of one shell text."""

    text: str
    tokens: tuple[Token, ...]
    commands: tuple[Command, ...]

    def before(self, command: Command) -> Token | None:
        return self.tokens[command.first - 1] if command.first > 0 else None

    def after(self, command: Command) -> Token | None:
        nxt = command.last + 1
        return self.tokens[nxt] if nxt < len(self.tokens) else None

    @property
    def end(self) -> int:
        """Logical index just past the last token (trailing comments and blanks excluded)."""
        return self.tokens[-1].end if self.tokens else 0


#: Reserved words that open and close a compound command (``if ... fi``).
_OPENS = frozenset({"if", "case", "while", "until"})
_CLOSES = frozenset({"fi", "esac", "done"})
#: What may stand right before a word in command position.
_COMMAND_START = frozenset({";", "&&", "||", "|", "\n", "(", "&", "then", "else", "elif", "do"})


def condition_of(script: Script, command: Command) -> str | None:
    """The reserved word or operator that makes ``command`` run only sometimes: ``if``,
    ``case``, ``while``, ``until`` around it, or ``||`` right before it; None when it runs
    whenever the script gets that far."""
    depth: list[str] = []
    previous: Token | None = None
    for token in script.tokens[: command.first]:
        start = previous is None or previous.text in _COMMAND_START or previous.text in _OPENS
        if token.kind == WORD and start:
            if token.text in _OPENS:
                depth.append(token.text)
            elif token.text in _CLOSES and depth:
                depth.pop()
        previous = token
    if depth:
        return depth[-1]
    before = script.before(command)
    return "||" if before is not None and before.text == "||" else None


def parse(text: str, start: int = 0, *, heredocs: bool = True) -> Script:
    """Scan ``text[start:]``. With ``heredocs=False`` a ``<<`` here-document is refused
    (inside a heredoc body its lines would follow; a ``RUN`` line has them after it)."""
    tokens = tuple(_tokens(text, start))
    if not heredocs and any(
        t.kind == REDIRECT and t.text.lstrip("0123456789") in ("<<", "<<-") for t in tokens
    ):
        raise ShellError("here-document inside a script")
    return Script(text, tokens, tuple(_commands(tokens)))


#: Runs the scanner skips or steps over in one regex match instead of a character at a
#: time (the tokenizer is most of DF003's time on large RUNs):
_BLANKS = re.compile(r"(?:[ \t\r]|\\\r?\n)+")  # blanks and line continuations
_PLAIN = re.compile(r"[^ \t\r\n;&|()<>\\'\"`$]+")  # word characters with no special meaning
_DOUBLE_PLAIN = re.compile(r'[^"\\`$]+')  # inside "...": all but the end and expansions
_BALANCED_PLAIN = {
    "(": re.compile(r"[^()\\'\"`$]+"),
    "{": re.compile(r"[^{}\\'\"`$]+"),
}
#: Alternatives in the order of ``_OPERATORS``/``_REDIRECTS``: the first that matches wins.
_OPERATOR = re.compile("|".join(re.escape(op) for op in _OPERATORS))
_REDIRECT = re.compile("|".join(re.escape(op) for op in _REDIRECTS))


def _tokens(text: str, i: int) -> Iterator[Token]:
    n = len(text)
    step = _STEP.match
    while i < n:
        m = step(text, i)  # the blanks, then a plain word: most tokens of a script
        assert m is not None  # both parts of the pattern may be empty: it always matches
        start = m.start(1)
        if start < 0:
            i = m.end()
        elif text[start].isdigit():  # a digit beyond 0-9 (``²``) may start a redirection
            i = start
        else:
            i = m.end()
            yield _token(WORD, start, i, m.group(1))
            continue
        if i >= n:
            break
        ch = text[i]
        if ch == "\n":
            yield _token(OP, i, i + 1, "\n")
            i += 1
            continue
        if ch == "#":
            end = text.find("\n", i)
            i = n if end == -1 else end
            continue
        # Only these first characters can start a redirection or an operator.
        if ch in "<>&" or ch.isdigit():
            token = _redirect(text, i)
            if token is not None:
                yield token
                i = token.end
                continue
        if ch in "&;|()":
            token = _operator(text, i)
            if token is not None:
                yield token
                i = token.end
                continue
        end = _word_end(text, i)
        yield _token(WORD, i, end, text[i:end])
        i = end


#: Blanks and line continuations, then (group 1) a word of plain characters only, with
#: what ends it next (what ``_word_end`` stops at: blank, newline, operator, a ``<``/``>``
#: not opening ``<(``/``>(``, the end of the text). Not a word starting with a digit
#: (``2>`` is a redirection) or ``#`` (a comment).
_STEP = re.compile(
    r"(?:[ \t\r]|\\\r?\n)*"
    r"([^ \t\r\n;&|()<>\\'\"`$#0-9][^ \t\r\n;&|()<>\\'\"`$]*(?=[ \t\r\n;&|()]|[<>](?!\()|\Z))?"
)
_NEW = object.__new__


def _token(kind: str, start: int, end: int, text: str) -> Token:
    """``Token(kind, start, end, text)`` without the frozen dataclass ``__init__`` (one
    ``object.__setattr__`` per field): the scanner makes one per word, and this is a
    quarter of the cost. The object is the same: its fields are its ``__dict__``."""
    token: Token = _NEW(Token)
    fields = token.__dict__
    fields["kind"] = kind
    fields["start"] = start
    fields["end"] = end
    fields["text"] = text
    return token


def _operator(text: str, i: int) -> Token | None:
    if text[i] not in "&;|()":
        return None  # `<(` and `>(` (process substitution) are words
    m = _OPERATOR.match(text, i)
    return _token(OP, i, m.end(), m.group()) if m else None


def _redirect(text: str, i: int) -> Token | None:
    j = i
    if text[i] not in "<>&":
        while j < len(text) and text[j].isdigit():
            j += 1
        if j == i or text.startswith("&", j):
            return None  # no redirection; after a file descriptor `&>` is no operator
    if text.startswith(("<(", ">("), j):
        return None
    m = _REDIRECT.match(text, j)
    return _token(REDIRECT, i, m.end(), text[i : m.end()]) if m else None


def _word_end(text: str, i: int) -> int:
    """End of the word starting at ``i``: up to unquoted blank, newline or operator."""
    n = len(text)
    while i < n:
        m = _PLAIN.match(text, i)
        if m is not None:
            i = m.end()
            if i >= n:
                break
        ch = text[i]
        if ch in " \t\r\n" or (ch in ";&|()<>" and not text.startswith(("<(", ">("), i)):
            return i
        i = _skip(text, i)
    return i


#: ``$(``, ``${`` and ``"`` nest in each other; the scanner recurses once per level, so a
#: RUN of 10,000 nested ``$(`` would exhaust the stack. No real script nests this deep.
MAX_NESTING = 100


def _skip(text: str, i: int, nesting: int = 0) -> int:
    """Index after the quoted or escaped unit that starts at ``i`` (``nesting``: how many
    units it lies inside)."""
    if nesting >= MAX_NESTING:
        raise ShellError(f"nested deeper than {MAX_NESTING} levels")
    nesting += 1
    ch = text[i]
    if ch == "\\":
        return min(i + 2, len(text))
    if ch == "'":
        return _closing(text, i + 1, "'")
    if ch == '"':
        return _double(text, i + 1, nesting)
    if ch == "`":
        return _backtick(text, i + 1)
    if text.startswith(("$(", "<(", ">("), i):
        return _balanced(text, i + 2, "(", ")", nesting)
    if text.startswith("${", i):
        return _balanced(text, i + 2, "{", "}", nesting)
    if text.startswith("$'", i):
        return _ansi(text, i + 2)
    return i + 1


def _closing(text: str, i: int, quote: str) -> int:
    end = text.find(quote, i)
    if end == -1:
        raise ShellError(f"unterminated {quote}")
    return end + 1


def _ansi(text: str, i: int) -> int:
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == "'":
            return i + 1
        else:
            i += 1
    raise ShellError("unterminated $'")


def _double(text: str, i: int, nesting: int = 0) -> int:
    n = len(text)
    while i < n:
        m = _DOUBLE_PLAIN.match(text, i)
        if m is not None:
            i = m.end()
            if i >= n:
                break
        if text[i] == '"':
            return i + 1
        i = _skip(text, i, nesting)  # a backslash, backtick or `$`
    raise ShellError('unterminated "')


def _backtick(text: str, i: int) -> int:
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == "`":
            return i + 1
        else:
            i += 1
    raise ShellError("unterminated `")


def _balanced(text: str, i: int, open_: str, close: str, nesting: int = 0) -> int:
    depth = 1
    n = len(text)
    plain = _BALANCED_PLAIN[open_]
    while i < n:
        m = plain.match(text, i)
        if m is not None:
            i = m.end()
            if i >= n:
                break
        ch = text[i]
        if ch == close:
            depth -= 1
            if depth == 0:
                return i + 1
            i += 1
        elif ch == open_:
            depth += 1
            i += 1
        elif ch in "\\'\"`$":
            i = _skip(text, i, nesting) if ch != "'" or open_ == "(" else i + 1
        else:
            i += 1
    raise ShellError(f"unterminated {open_}")


def _commands(tokens: Sequence[Token]) -> Iterator[Command]:
    """Group tokens into simple commands; reserved words and operators separate them."""
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        kind = tok.kind
        if kind == OP or (kind == WORD and tok.text in RESERVED):
            i += 1
            continue
        first = i
        words: list[Token] = []
        assignments: list[Token] = []
        while i < n:
            tok = tokens[i]
            kind = tok.kind
            if kind == OP:
                break
            if kind == REDIRECT:
                i += 2  # the operator and its target
                continue
            if not words and "=" in tok.text and _is_assignment(tok.text):
                assignments.append(tok)
            else:
                words.append(tok)
            i += 1
        last = min(i, n) - 1
        yield _command(first, last, words, assignments, tokens[first].start, tokens[last].end)


def _command(
    first: int,
    last: int,
    words: list[Token],
    assignments: list[Token],
    start: int,
    end: int,
) -> Command:
    """``Command(...)`` built as ``_token`` builds a token (one per simple command)."""
    command: Command = _NEW(Command)
    fields = command.__dict__
    fields["first"] = first
    fields["last"] = last
    fields["words"] = tuple(words)
    fields["assignments"] = tuple(assignments)
    fields["start"] = start
    fields["end"] = end
    return command


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and name.isidentifier()


def bashlex_agrees(text: str, start: int, commands: Sequence[Command]) -> bool | None:
    """Whether bashlex reads each of ``commands`` as one command with the same words.

    None when bashlex cannot parse the text (heredocs, some expansions): no second opinion.
    """
    try:
        from fixer.documents.shell.bashlex_tables import load

        trees = load().parse(text[start:])
    except Exception:  # bashlex raises many types, including plain AssertionError
        return None
    owner: dict[tuple[int, int], int] = {}
    for index, node in enumerate(_bashlex_commands(trees)):
        for part in node.parts:
            if part.kind in ("word", "assignment"):
                owner[(part.pos[0] + start, part.pos[1] + start)] = index
    for command in commands:
        tokens = (*command.assignments, *command.words)
        ids = {owner.get((t.start, t.end), -1) for t in tokens}
        if len(ids) != 1 or -1 in ids:
            return False
    return True


def _bashlex_commands(nodes: Sequence[Any]) -> Iterator[Any]:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if getattr(node, "kind", "") == "command":
            yield node
        for attr in ("parts", "list", "command", "output"):
            child = getattr(node, attr, None)
            if isinstance(child, list):
                stack.extend(child)
            elif child is not None and hasattr(child, "kind"):
                stack.append(child)
