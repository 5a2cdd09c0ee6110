"""Configuration files: ``.tighten.toml`` or ``[tool.tighten]`` in ``pyproject.toml``.

The nearest file found upward from the first path wins (``--config`` names one). Keys are
kebab-case, as in ruff. An unknown key or a bad value is an error that names the file and
the key; command-line flags win over the file.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fixer.options import config_keys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class ConfigError(ValueError):
    """A configuration problem, already phrased for the user (file and key named)."""


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
    """Settings fields (``group.field``) from one file; paths in it are relative to its
    folder."""
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
    keys = config_keys()
    out: dict[str, Any] = {}
    for key, value in table.items():
        option = keys.get(key)
        if option is None or option.setting is None:
            hint = difflib.get_close_matches(key, keys, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"{path}: unknown key '{prefix}{key}'{suggestion}")
        try:
            parsed = option.from_config(value)
        except TypeError as exc:
            raise ConfigError(f"{path}: bad value for '{prefix}{key}': {exc}") from None
        out[option.setting] = path.parent / parsed if option.relative else parsed
    if "selection.per_path_ignores" in out:
        out["selection.config_root"] = path.parent
    return out
