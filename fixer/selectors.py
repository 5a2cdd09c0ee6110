"""Rule selectors, checked against the rule registry so that a typo fails loudly.

A selector is a rule id (``DF001``), a prefix of one (``DF``, ``K8S00``), ``ALL``, a rule's
name (``network-tools``) or a peer tool's check id that a rule covers (hadolint ``DL3002``,
checkov ``CKV_K8S_20``, kube-linter ``privileged-container``: each rule's ``aliases``).
Names and peer ids become the ids of the rules that cover them, so the rest of tighten only
ever sees ids and prefixes. Anything else is an ``UnknownRule``: a misspelt selector in a
security gate must not silently select nothing and turn the gate green.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache
from typing import Any

ALL = "ALL"

#: Below this similarity no suggestion is offered (``DF9`` ~ ``DF001`` scores 0.5).
_CUTOFF = 0.5


class UnknownRule(ValueError):
    """A selector that names no rule; ``str()`` is the user-facing phrase."""

    def __init__(self, code: str, suggestion: str | None) -> None:
        self.code, self.suggestion = code, suggestion
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        super().__init__(f"unknown rule {code!r}{hint}")

    def where(self, place: str) -> str:
        """The phrase with where the selector was written: ``... in --select (did you ...)``."""
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return f"unknown rule {self.code!r} in {place}{hint}"


def expand(codes: Iterable[str]) -> frozenset[str]:
    """Rule ids and prefixes for ``codes`` (any case); raises ``UnknownRule`` for the first
    code that names no rule."""
    out: set[str] = set()
    for code in codes:
        out |= _expand_one(code.strip())
    return frozenset(out)


def _expand_one(code: str) -> frozenset[str]:
    upper = code.upper()
    ids = _ids()
    if upper == ALL:  # every rule on by default; opt-in rules are named one by one
        return frozenset(r.id for r in _rules() if not r.opt_in)
    if upper and any(rule_id.startswith(upper) for rule_id in ids):
        return frozenset({upper})
    covered = _peer_ids().get(upper)
    if covered:
        return covered
    raise UnknownRule(code, suggest(code))


def rule_for(code: str) -> Any | None:
    """The rule ``tighten explain`` shows for an id, a name or a peer id (any case)."""
    upper = code.strip().upper()
    covered = {upper} if upper in _ids() else _peer_ids().get(upper, frozenset())
    if len(covered) != 1:
        return None
    (rule_id,) = covered
    return next(r for r in _rules() if r.id == rule_id)


def in_pragma(code: str) -> bool:
    """What a ``# tighten ignore=`` pragma honours: a whole rule id, name or peer id, in
    the case the suppression matcher compares (exactly as written)."""
    return code in _pragma_words()


def suggest(code: str) -> str | None:
    """The known id, name or peer id closest to ``code`` (ties go to the first rule)."""
    upper = code.upper()
    best, score = None, _CUTOFF
    for candidate in _candidates():
        ratio = difflib.SequenceMatcher(None, upper, candidate.upper()).ratio()
        if ratio > score or (best is None and ratio == score):
            best, score = candidate, ratio
    return best


@cache
def _ids() -> tuple[str, ...]:
    return tuple(r.id for r in _rules())


@cache
def _peer_ids() -> dict[str, frozenset[str]]:
    """Upper-cased rule name or peer id -> ids of the rules that cover it."""
    table: dict[str, set[str]] = {}
    for rule in _rules():
        for word in (rule.name, *rule.aliases):
            table.setdefault(word.upper(), set()).add(rule.id)
    return {word: frozenset(ids) for word, ids in table.items()}


@cache
def _pragma_words() -> frozenset[str]:
    return frozenset(w for r in _rules() for w in (r.id, r.name, *r.aliases))


@cache
def _candidates() -> tuple[str, ...]:
    """Suggestions in preference order: ids first, then names, then peer ids."""
    rules = _rules()
    words = [r.id for r in rules] + [r.name for r in rules]
    words += [a for r in rules for a in r.aliases]
    return tuple(dict.fromkeys(words))


def _rules() -> tuple[Any, ...]:
    """The installed rules (the same ``RuleSet`` the CLI hands down)."""
    from fixer.ruleset import installed

    return installed().rules
