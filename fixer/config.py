"""Configuration files: ``.tighten.toml`` or ``[tool.tighten]`` in ``pyproject.toml``.

The nearest file found upward from the first path wins (``--config`` names one). Keys are
kebab-case, as in ruff. An unknown key or a bad value is an error that names the file and
the key; command-line flags win over the file.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fixer.settings import PROFILES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class ConfigError(ValueError):
    """A configuration problem, already phrased for the user (file and key named)."""


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of strings")
    return tuple(value)


def _codes(value: Any) -> frozenset[str]:
    """Rule ids and prefixes; names and peer ids become the ids that cover them."""
    from fixer.selectors import UnknownRule, expand

    try:
        return expand(_str_list(value))
    except UnknownRule as exc:
        raise TypeError(str(exc)) from None


def _int(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise TypeError(f"expected an integer from {low} to {high}")
        return value

    return check


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise TypeError(f"expected one of {', '.join(choices)}")
        return str(value)

    return check


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def _patterns(value: Any) -> tuple[str, ...]:
    patterns = _str_list(value)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TypeError(f"invalid regular expression {pattern!r}: {exc}") from None
    return patterns


def _mirrors(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TypeError('expected a table of registry = "URL"')
    for url in value.values():
        if not url.startswith(("http://", "https://")):
            raise TypeError(f"mirror URL {url!r} must start with http:// or https://")
    return tuple(sorted(value.items()))


def _per_file(value: Any) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise TypeError('expected a table of "glob" = ["RULE", ...]')
    out = []
    for glob, codes in value.items():
        try:
            out.append((glob, _codes(codes)))
        except TypeError as exc:
            raise TypeError(f"{glob!r}: {exc}") from None
    return tuple(out)


#: Config key -> (Settings field, validator).
KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "select": ("select", _codes),
    "ignore": ("ignore", _codes),
    "exclude": ("exclude", _str_list),
    "profile": ("profile", _choice(*PROFILES)),
    "pin": ("pin", _choice("latest", "all")),
    "platform": ("platform", _string),
    "uid": ("uid", _int(1, 2**31 - 1)),
    "gid": ("gid", _int(1, 2**31 - 1)),
    "tools": ("tools", _str_list),
    "secret-patterns": ("secret_patterns", _patterns),
    "secrets-dir": ("secrets_dir", _string),
    "registry-mirrors": ("mirrors", _mirrors),
    "jobs": ("jobs", _int(1, 64)),
    "lock-file": ("lock_file", _string),
    "safe-only": ("safe_only", lambda v: _bool(v)),
    "unsafe-fixes": ("unsafe_fixes", lambda v: _bool(v)),
    "inspect-layers": ("inspect_layers", lambda v: _bool(v)),
    "per-file-ignores": ("per_path_ignores", _per_file),
}


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def find_config(start: Path) -> Path | None:
    """The nearest ``.tighten.toml``, or ``pyproject.toml`` with ``[tool.tighten]``, up to
    the repository root (the first folder with ``.git``, a folder or a worktree's file):
    a config above the checkout belongs to someone else (a shared home, a CI runner)."""
    folder = start.resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        dotfile = candidate / ".tighten.toml"
        if dotfile.is_file():
            return dotfile
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and b"[tool.tighten" in pyproject.read_bytes():
            return pyproject
        if os.path.lexists(candidate / ".git"):
            break
    return None


def load_config(path: Path) -> dict[str, Any]:
    """Settings fields from one file; paths in it are relative to its folder."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("tighten", {}) if path.name == "pyproject.toml" else data
    prefix = "tool.tighten." if path.name == "pyproject.toml" else ""
    return _validate(table, path, prefix)


def _validate(table: Mapping[str, Any], path: Path, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            hint = difflib.get_close_matches(key, KEYS, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"{path}: unknown key '{prefix}{key}'{suggestion}")
        field, check = KEYS[key]
        try:
            out[field] = check(value)
        except TypeError as exc:
            raise ConfigError(f"{path}: bad value for '{prefix}{key}': {exc}") from None
    for field in ("secrets_dir", "lock_file"):
        if field in out:
            out[field] = path.parent / out[field]
    if "per_path_ignores" in out:
        out["config_root"] = path.parent
    return out
