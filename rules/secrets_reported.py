"""Secrets DF004 and K8S004 report without a fix: where moving the value is not a text edit.

``RUN`` lines and container ``command``/``args`` (the program needs the value: it must come
from a build secret or an env var instead, which depends on the program), ``ONBUILD ENV``/
``ARG``/``RUN`` (they run in the child image's build), ``ENV``/``ARG`` written as JSON
(Docker has no such form: it sets a variable with a mangled name such as ``["DB_PASSWORD``)
and ``${NAME:-literal}`` defaults. Each hit carries its value only in ``masks``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fixer.documents.dockerfile import Instruction, KeyValue, Logical, key_values, literal, words
from fixer.model import Finding, Span
from fixer.rule import Context, Rule
from fixer.secrets import classify
from fixer.secrets.commands import command_secrets, default_secrets, may_hold_secrets
from rules.secret_file import masks_for

__all__ = [
    "Reported",
    "command_words",
    "instruction_secrets",
    "is_json_form",
    "item_words",
    "reported_finding",
]

RUN_REASON = "the command needs the value: pass it as a build secret (RUN --mount=type=secret)"
ONBUILD_REASON = "ONBUILD runs in the child image's build: move the value there by hand"
JSON_REASON = "ENV and ARG have no JSON form: rewrite the line without the value by hand"
DEFAULT_REASON = "drop the literal default and pass the value at build or run time"


@dataclass(frozen=True)
class Reported:
    """One secret to report: where, what to say (never the value), and what to mask."""

    span: Span
    message: str
    reason: str
    value: str
    raw: str  # the text of ``span``: masked too when the value is written differently


def reported_finding(ctx: Context[Any], rule: Rule[Any], hit: Reported) -> Finding:
    """The finding for ``hit``: no fix, its value (and the text written) masked."""
    finding = ctx.finding(rule, hit.span, hit.message, reason=hit.reason)
    masks = masks_for(hit.value, hit.value)
    if hit.value not in hit.raw:  # written with quotes or escapes: hide the whole text
        masks = (*masks, hit.raw)
    return dataclasses.replace(finding, masks=masks)


def instruction_secrets(
    text: str, ins: Instruction, patterns: Sequence[str], prefix: str = ""
) -> Iterator[Reported]:
    """The unfixable secrets of one instruction (``prefix``: ``"ONBUILD "`` when nested)."""
    keyword = ins.keyword
    if keyword == "ONBUILD" and not prefix:
        inner = _onbuild_inner(ins)
        if inner is not None:
            yield from instruction_secrets(text, inner, patterns, "ONBUILD ")
        return
    if keyword == "RUN":
        reason = ONBUILD_REASON if prefix else RUN_REASON
        yield from _run_secrets(text, ins, patterns, reason)
    elif keyword in ("ENV", "ARG") and is_json_form(ins):
        yield from _json_secrets(text, ins, patterns)
    elif keyword in ("ENV", "ARG"):
        yield from _pair_secrets(text, ins, patterns, prefix)


def _report(text: str, span: Span, message: str, reason: str, value: str) -> Reported:
    return Reported(span, message, reason, value, text[span.start : span.end])


def _onbuild_inner(ins: Instruction) -> Instruction | None:
    """``ONBUILD RUN x`` as the instruction ``RUN x`` (same file offsets)."""
    spans = words(ins.value)
    if not spans:
        return None
    (start, end), value = spans[0], ins.value
    rest = end
    while rest < len(value) and value[rest] in " \t":
        rest += 1
    logical = Logical(value[rest:], ins.logical.offsets[rest:])
    keyword = value[start:end].upper()
    return Instruction(
        keyword,
        ins.span,
        ins.logical.span_of(start, end),
        ins.args,
        ins.line,
        ins.end_line,
        logical,
    )


def _pair_secrets(
    text: str, ins: Instruction, patterns: Sequence[str], prefix: str
) -> Iterator[Reported]:
    if not prefix and not ("$" in ins.value and "{" in ins.value):
        return  # only ${NAME:-default} defaults are reported here, and there is none
    for kv in key_values(ins):
        if kv.value is None or kv.value_span is None:
            continue
        if prefix:  # ONBUILD ENV/ARG: the pairs DF004 fixes elsewhere, reported here
            match = classify(kv.key, kv.value, patterns)
            if match is not None:
                message = f"{prefix}{ins.keyword} {kv.key} holds a literal secret ({match.kind})"
                yield _report(text, kv.pair, message, ONBUILD_REASON, kv.value)
                continue
        yield from _default_secrets(text, ins, kv, patterns, prefix)


def _default_secrets(
    text: str, ins: Instruction, kv: KeyValue, patterns: Sequence[str], prefix: str
) -> Iterator[Reported]:
    assert kv.value is not None
    if "${" not in kv.value or classify(kv.key, kv.value, patterns):
        return  # a whole-value hit is DF004's fixable finding
    for default, match in default_secrets(kv.key, kv.value, patterns):
        message = (
            f"{prefix}{ins.keyword} {kv.key} has a literal secret as a ${{...:-default}} "
            f"({match.kind})"
        )
        yield _report(text, kv.pair, message, DEFAULT_REASON, default)


def is_json_form(ins: Instruction) -> bool:
    return ins.value[ins.flag_end() :].lstrip().startswith(("[", "{"))


def _json_pairs(value: str) -> list[tuple[str, str]]:
    """``["A=b"]``, ``["A", "b"]`` or ``{"A": "b"}`` as pairs; empty when not JSON."""
    try:
        loaded = json.loads(value)
    except ValueError:
        return []
    if isinstance(loaded, dict):
        return [(str(k), str(v)) for k, v in loaded.items()]
    if not isinstance(loaded, list) or not all(isinstance(x, str) for x in loaded):
        return []
    if loaded and all("=" in x for x in loaded):
        return [(x.partition("=")[0], x.partition("=")[2]) for x in loaded]
    return [(loaded[0], " ".join(loaded[1:]))] if len(loaded) >= 2 else []


def _json_secrets(text: str, ins: Instruction, patterns: Sequence[str]) -> Iterator[Reported]:
    start = ins.flag_end()
    span = ins.logical.span_of(start, len(ins.value))
    for key, value in _json_pairs(ins.value[start:].strip()):
        match = classify(key, value, patterns)
        if match is not None:
            message = f"{ins.keyword} {key} holds a literal secret ({match.kind}) in JSON form"
            yield _report(text, span, message, JSON_REASON, value)


def _run_secrets(
    text: str, ins: Instruction, patterns: Sequence[str], reason: str
) -> Iterator[Reported]:
    prefix = "ONBUILD RUN" if reason == ONBUILD_REASON else "RUN"
    start = ins.flag_end()
    if ins.is_exec_form:
        exec_words = _exec_words(ins.value[start:])
        spans = [(start, len(ins.value))] * len(exec_words)
        found = exec_words
    elif not may_hold_secrets(ins.value[start:], patterns):
        return  # most RUN lines: nothing to find, so no word to split and judge
    else:
        spans = words(ins.value, start)
        found = [literal(ins.value[s:e]) for s, e in spans]
    for hit in command_secrets(found, patterns):
        message = f"{prefix} passes a literal secret ({hit.kind}) in {hit.what}"
        span = ins.logical.span_of(*spans[hit.index])
        yield _report(text, span, message, reason, hit.value)
    for (s, e), word in zip(spans, found, strict=True):
        if word is None:  # an expansion: only its ${X:-default} parts are known
            for default, match in default_secrets("", ins.value[s:e], patterns):
                message = f"{prefix} has a literal secret as a ${{...:-default}} ({match.kind})"
                yield _report(text, ins.logical.span_of(s, e), message, reason, default)


def _exec_words(value: str) -> list[str | None]:
    try:
        loaded = json.loads(value)
    except ValueError:
        return []
    if not isinstance(loaded, list) or not all(isinstance(x, str) for x in loaded):
        return []
    return command_words(loaded)


def command_words(items: Sequence[str]) -> list[str | None]:
    """Exec-form items as words: an item holding a script (``sh -c "a && b"``) is split
    like a shell would, a word with a shell expansion becoming None (its value unknown)."""
    return [word for item in items for word in item_words(item)]


def item_words(item: str) -> list[str | None]:
    """One exec-form item as words (itself, unless it holds whitespace)."""
    if not any(c in item for c in " \t\n"):
        return [item]
    flat = item.replace("\n", " ")
    return [literal(flat[s:e]) for s, e in words(flat)]
