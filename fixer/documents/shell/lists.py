"""Removing commands from shell lists: which text goes so that the list stays valid.

``a && X && b`` loses ``X && `` (or `` && X``), ``a; X`` loses ``; X``, and a command on a
line of its own in a heredoc script loses its line. Where no joiner can go without
changing what runs (``a || X``, ``then X; fi``, a pipeline) the answer is "none" and the
caller replaces the command with ``true`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from fixer.documents.shell.script import LIST_OPS, OP, RESERVED, WORD, Command, Script, Token

#: Tokens after which a list element ends cleanly (a word, or the end of a compound command).
_ELEMENT_ENDS = frozenset({")", "fi", "done", "}", "esac", "]]"})


def element_ranges(script: Script, group: Sequence[Command]) -> list[tuple[int, int]]:
    """Logical ranges, each of which removes the consecutive list elements ``group`` with
    one joiner and leaves a valid list: ``a && X && b`` -> ``a && b`` (``X && `` or `` &&
    X``), ``a; X`` -> ``a``, ``X && b`` -> ``b``. The caller picks the one that suits the
    layout. Of ``;`` and ``&&`` the weaker stays: ``a; X && b`` -> ``a; b``.

    Empty when the neighbours are not plain list elements joined by ``&&``, ``;`` or a
    newline (a pipeline, ``||``, ``then X; fi``): the caller replaces the command instead.
    """
    first, last = group[0], group[-1]
    before, after = script.before(first), script.after(last)
    if not _joiner(before) or not _joiner(after):
        return []
    prev = _previous_end(script, first.first - 1) if before is not None else _EDGE
    nxt = _next_start(script, last.last + 1) if after is not None else _EDGE
    has_prev, has_next = prev is not None and prev != _EDGE, nxt is not None and nxt != _EDGE
    if _own_lines(before, after) and (prev is not None or has_next):
        return [(first.start, last.end)]  # its lines go; the elements around stay joined
    if not has_prev and not has_next:
        if prev == _EDGE and nxt == _EDGE:  # nothing left around it
            return [(first.start, after.end if after is not None else last.end)]
        return []
    out = []
    op1 = before.text if before is not None and has_prev else ";"
    op2 = after.text if after is not None and has_next else ";"
    if has_next and nxt is not None and (op1 != "&&" or op2 == "&&"):
        out.append((first.start, nxt))  # drop `X op2`, keep op1
    if has_prev and prev is not None and (op2 != "&&" or op1 == "&&"):
        out.append((prev, last.end))  # drop `op1 X`, keep op2
    return out


def _own_lines(before: Token | None, after: Token | None) -> bool:
    return (before is None or before.text == "\n") and (after is None or after.text == "\n")


_EDGE = -1  # no list element on that side: the start or end of the script


def _joiner(tok: Token | None) -> bool:
    return tok is None or (tok.kind == OP and tok.text in LIST_OPS)


def _previous_end(script: Script, k: int) -> int | None:
    """End of the element before the joiner at ``k``; ``_EDGE`` when there is none, None
    when a reserved word (``then``, ``do``) precedes: removing would leave ``then fi``."""
    k -= 1
    while k >= 0 and script.tokens[k].text == "\n":
        k -= 1
    if k < 0:
        return _EDGE
    tok = script.tokens[k]
    if tok.kind == OP:
        return tok.end if tok.text in (")", ";") else None
    if tok.text in RESERVED - _ELEMENT_ENDS and _at_command_start(script, k):
        return None
    return tok.end


def _next_start(script: Script, k: int) -> int | None:
    """Start of the element after the joiner at ``k``; ``_EDGE`` or None as above."""
    k += 1
    while k < len(script.tokens) and script.tokens[k].text == "\n":
        k += 1
    if k >= len(script.tokens):
        return _EDGE
    tok = script.tokens[k]
    if tok.kind == OP:
        return tok.start if tok.text == "(" else None
    if tok.kind == WORD and tok.text in RESERVED - _STARTERS:
        return None
    return tok.start


#: Reserved words that begin a list element (``X && if ...`` may lose ``X &&``).
_STARTERS = frozenset({"if", "while", "until", "for", "select", "function", "{", "!", "[[", "time"})


def _at_command_start(script: Script, k: int) -> bool:
    return k == 0 or script.tokens[k - 1].kind == OP or script.tokens[k - 1].text in RESERVED
