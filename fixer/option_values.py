"""What an option's value may be: one parser per kind, for the config file and the flags.

A config parser takes a TOML value and raises ``TypeError`` with the phrase the user sees
after ``bad value for 'KEY':``. A flag converter takes what typer parsed and returns the
Settings value; it raises ``typer.BadParameter`` (exit code 2, before any file is read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, TypeVar

import typer

E = TypeVar("E", bound=Enum)

#: The largest user or group id (a signed 32-bit integer, as Kubernetes validates it).
MAX_ID = 2**31 - 1


# --- config file values -------------------------------------------------------------------


def str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of strings")
    return tuple(value)


def codes(value: Any) -> frozenset[str]:
    """Rule ids and prefixes; names and peer ids become the ids that cover them."""
    from fixer.selectors import UnknownRule, expand

    try:
        return expand(str_list(value))
    except UnknownRule as exc:
        raise TypeError(str(exc)) from None


def integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise TypeError(f"expected an integer from {low} to {high}")
        return value

    return check


def choice(kind: type[E]) -> Callable[[Any], E]:
    """A word from a closed set (an enum of words)."""

    def check(value: Any) -> E:
        if value not in [c.value for c in kind]:
            raise TypeError(f"expected one of {', '.join(c.value for c in kind)}")
        return kind(value)

    return check


def string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def patterns(value: Any) -> tuple[str, ...]:
    found = str_list(value)
    for pattern in found:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TypeError(f"invalid regular expression {pattern!r}: {exc}") from None
    return found


def mirrors(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TypeError('expected a table of registry = "URL"')
    for url in value.values():
        if not url.startswith(("http://", "https://")):
            raise TypeError(f"mirror URL {url!r} must start with http:// or https://")
    return tuple(sorted(value.items()))


def per_file(value: Any) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise TypeError('expected a table of "glob" = ["RULE", ...]')
    out = []
    for glob, rules in value.items():
        try:
            out.append((glob, codes(rules)))
        except TypeError as exc:
            raise TypeError(f"{glob!r}: {exc}") from None
    return tuple(out)


# --- command-line values ------------------------------------------------------------------


def same(value: Any) -> Any:
    return value


def listed(value: Iterable[str] | None) -> tuple[str, ...]:
    """A repeatable flag: typer gives None when it was never typed."""
    return tuple(value or ())


def comma_codes(text: str) -> frozenset[str]:
    """Rule ids and prefixes; names and peer ids become the ids of the rules covering them."""
    from fixer.selectors import expand

    return expand(c for c in text.split(",") if c.strip())


def selected(text: str) -> frozenset[str] | None:
    """``--select``: no selector means every rule (None), not none of them."""
    return comma_codes(text) or None


def mirror_flags(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values or ():
        source, sep, url = value.partition("=")
        if not sep or not source or not url.startswith(("http://", "https://")):
            raise typer.BadParameter(
                f"{value!r}: expected SRC=URL, e.g. docker.io=http://127.0.0.1:5000"
            )
        out.append((source, url.rstrip("/")))
    return tuple(out)


# --- checks while click parses (callbacks) ------------------------------------------------


def non_root(param: typer.CallbackParam, value: int) -> int:
    """Reject ``--uid 0``/``--gid 0`` before any file is read: root is what DF001 and
    K8S002 remove, so no fix could ever settle on it."""
    if not 1 <= value <= MAX_ID:
        root = "root" if param.name == "uid" else "the root group"
        what = f"0 is {root}" if value == 0 else f"{value} is out of range"
        raise typer.BadParameter(f"{what}; expected a non-root id from 1 to {MAX_ID}")
    return value


def regexes(values: list[str] | None) -> list[str] | None:
    """Reject a bad --secret-pattern before any file is read (exit code 2)."""
    for value in values or ():
        try:
            re.compile(value)
        except re.error as exc:
            raise typer.BadParameter(
                f"{value!r} is not a valid regular expression: {exc}"
            ) from None
    return values
