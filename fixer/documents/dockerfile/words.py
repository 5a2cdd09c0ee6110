"""Words of Dockerfile arguments: BuildKit's quote removal and ENV/ARG/LABEL pairs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from fixer.documents.dockerfile.model import Instruction
from fixer.model import Span

_QUOTED = re.compile(r"[\\'\"$`]")  # what ``_dequote`` acts on


@dataclass(frozen=True)
class KeyValue:
    """One ``key=value`` (or legacy ``key value``) of an ENV, ARG or LABEL instruction.

    Spans are file spans: ``pair`` covers the whole word(s), ``value`` the raw value text
    (quotes included); ``value`` is the unquoted value, None for ``ARG name`` without default.
    """

    key: str
    value: str | None
    pair: Span
    key_span: Span
    value_span: Span | None
    legacy: bool = False


def words(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Shell-like word boundaries in ``text`` (quotes and backslash escapes respected)."""
    return [m.span() for m in _WORD.finditer(text, start)]


# A word: runs of plain characters, backslash escapes (a trailing backslash is itself),
# and quoted parts; an unterminated quote runs to the end of the text. Only spaces and
# tabs separate words (a newline inside an instruction is part of a word).
_WORD = re.compile(r"""(?:[^ \t"'\\]+|\\[\s\S]|\\\Z|"(?:[^"\\]|\\[\s\S]|\\\Z)*"?|'[^']*'?)+""")


def unquote(word: str) -> str:
    """The word's value after quote removal and backslash escapes, as BuildKit reads it."""
    value = _dequote(word, expansions=True)
    assert value is not None
    return value


@lru_cache(maxsize=4096)
def literal(word: str) -> str | None:
    """``word`` after quote removal; None when it holds an expansion (``$x``, backticks)
    outside single quotes: its value is only known when the shell runs.

    Memoised: a pure function of a short string, asked for every word of every script
    (``Token.value``), often several times a word, and the same words recur (``apt-get``,
    ``install``, ``-y``, ``&&``)."""
    return _dequote(word, expansions=False)


def _dequote(word: str, *, expansions: bool) -> str | None:
    if not _QUOTED.search(word):
        return word  # nothing to remove or expand: most words of a script
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(word):
        ch = word[i]
        if ch == "\\" and quote != "'" and i + 1 < len(word):
            out.append(word[i + 1])
            i += 2
            continue
        if not expansions and ch in "$`" and quote != "'":
            return None
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "\"'":
            quote = ch
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def key_values(ins: Instruction) -> list[KeyValue]:
    """The pairs of an ENV/ARG/LABEL instruction, in both ``k=v`` and legacy ``k v`` forms.

    Worked out once per instruction (several rules and the repository model ask for the
    same ones: stage variables alone are read by four callers)."""
    known: tuple[KeyValue, ...] | None = ins.__dict__.get(_PAIRS)
    if known is None:
        known = tuple(_key_values(ins))
        ins.__dict__[_PAIRS] = known  # a cache on a frozen value, as cached_property does
    return list(known)


_PAIRS = "_key_values"


def _key_values(ins: Instruction) -> list[KeyValue]:
    text, logical = ins.value, ins.logical
    spans = words(text, ins.flag_end() if ins.keyword != "ENV" else 0)
    if not spans:
        return []
    first = text[spans[0][0] : spans[0][1]]
    if ins.keyword == "ENV" and "=" not in first:
        # Legacy `ENV key value...`: the value is the rest of the arguments.
        key_end = spans[0][1]
        if len(spans) == 1:
            return []
        v_start, v_end = spans[1][0], spans[-1][1]
        raw = text[v_start:v_end]
        return [
            KeyValue(
                first,
                unquote(raw),
                logical.span_of(spans[0][0], v_end),
                logical.span_of(spans[0][0], key_end),
                logical.span_of(v_start, v_end),
                legacy=True,
            )
        ]
    out = []
    for s, e in spans:
        word = text[s:e]
        key, eq, _ = word.partition("=")
        value_span = logical.span_of(s + len(key) + 1, e) if eq else None
        out.append(
            KeyValue(
                key,
                unquote(word[len(key) + 1 :]) if eq else None,
                logical.span_of(s, e),
                logical.span_of(s, s + len(key)),
                value_span,
            )
        )
    return out
