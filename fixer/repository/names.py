"""Image names as links state them, and the variables that hide them.

A build link names images with tags that are often computed (``$(IMG):$(VERSION)``,
``ghcr.io/acme/web:${{ github.sha }}``). What matters for evidence is the repository name;
a tag we cannot compute is irrelevant, but a name we cannot compute is unknown. Unresolved
pieces are replaced with ``UNKNOWN`` so the name/tag split still works, and a name holding
it is reported as unknown rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from fixer.registry.reference import InvalidReference, Reference

#: Stands for text whose value is only known when the build runs.
UNKNOWN = "\x00"
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)  # GitHub Actions / Tilt-like
_MAKE_VAR = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]|\$[({]([^(){}]*)[)}]")
_SHELL_VAR = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\([^()]*\)|`[^`]*`"
)
_MAX_DEPTH = 8


@lru_cache(maxsize=4096)  # the same few names recur in every link and manifest
def image_name(text: str) -> str | None:
    """The repository name of a reference without tag/digest (``ghcr.io/acme/web``), or
    None when the name is not known (variables) or not a valid reference."""
    text = _EXPRESSION.sub(UNKNOWN, text.strip())
    name, _, _ = text.partition("@")
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name = name[:colon]
    if not name or UNKNOWN in name or "$" in name:
        return None
    try:
        return Reference.parse(name).written_name
    except InvalidReference:
        return None


@lru_cache(maxsize=4096)
def image_key(text: str) -> str | None:
    """The identity used for look-ups: ``web`` and ``docker.io/library/web`` are one image."""
    name = image_name(text)
    if name is None:
        return None
    return Reference.parse(name).name


def expand_make(text: str, variables: Mapping[str, str], depth: int = 0) -> str:
    """``$(VAR)``/``${VAR}`` replaced from a Makefile's own assignments; anything else
    (``$(shell ...)``, undefined variables) becomes ``UNKNOWN``. ``$$`` is a literal ``$``."""
    parts = text.split("$$")
    return "$".join(_expand_make_part(p, variables, depth) for p in parts)


def _expand_make_part(text: str, variables: Mapping[str, str], depth: int) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name is None or name not in variables or depth >= _MAX_DEPTH:
            return UNKNOWN
        return expand_make(variables[name], variables, depth + 1)

    # Inside out: a function call around a variable (``$(abspath $(TOP))``) is matched once
    # the variable inside it is replaced, and becomes UNKNOWN in its turn.
    for _ in range(_MAX_DEPTH):
        expanded = _MAKE_VAR.sub(sub, text)
        if expanded == text or ("$(" not in expanded and "${" not in expanded):
            return expanded
        text = expanded
    return text


def expand_shell(text: str, lookup: Callable[[str], str | None]) -> str:
    """``$VAR``/``${VAR}``/``${VAR:-default}`` replaced with known values (the default when
    the variable is unknown); command substitutions and unknown variables become UNKNOWN."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        if name is None:
            return UNKNOWN  # $(...) or backticks
        value = lookup(name)
        if value is not None:
            return value
        if m.group(2) and m.group(3) is not None and "$" not in m.group(3):
            return m.group(3)
        return UNKNOWN

    return _SHELL_VAR.sub(sub, _EXPRESSION.sub(UNKNOWN, text))
