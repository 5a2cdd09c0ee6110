"""Running the CLI on the multi-file fixture repositories under ``fixtures/repos``: copy
one, run ``tighten`` in it, read its JSON findings (the judgement tests share these)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"


def tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def copy_repo(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    shutil.copytree(REPOS / name, repo)
    return repo


def findings(repo: Path, select: str | None = None) -> list[dict[str, Any]]:
    """The JSON findings of ``check`` over the whole repository (``select``: rules)."""
    chosen = ["--select", select] if select else []
    out = tighten("check", "--format", "json", *chosen, ".", cwd=repo)
    assert out.returncode in (0, 1), out.stderr
    found: list[dict[str, Any]] = json.loads(out.stdout)["findings"]
    return found


def one(found: list[dict[str, Any]], path: str, words: str) -> dict[str, Any]:
    """The single finding of ``path`` whose message holds ``words``."""
    [hit] = [f for f in found if f["path"] == path and words in f["message"]]
    return hit


def needs(found: list[dict[str, Any]], path: str, words: str) -> str:
    """What the withheld fix of that finding needs."""
    fix = one(found, path, words)["fix"]
    assert fix["safety"] == "unproven", fix
    return str(fix["needs"])


#: The JSON findings of one rule over a shared copy (``shared_copy``'s ``found``).
Found = Callable[[str], list[dict[str, Any]]]


def shared_copy(name: str) -> tuple[Any, Any, Any]:
    """Module fixtures over one copy of the fixture repository ``name``, for the tests
    that only read it (each ``check`` runs once per module, not once per test):
    ``reviewed`` (the copy), ``checked`` (``tighten check .`` there) and ``found`` (the
    JSON findings of one rule, each rule's run made once). A module binds them by name:
    ``reviewed, checked, found = shared_copy("j20-review")``."""

    @pytest.fixture(scope="module")
    def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return copy_repo(tmp_path_factory.mktemp(name), name)

    @pytest.fixture(scope="module")
    def checked(reviewed: Path) -> subprocess.CompletedProcess[str]:
        return tighten("check", ".", cwd=reviewed)

    @pytest.fixture(scope="module")
    def found(reviewed: Path) -> Found:
        runs: dict[str, list[dict[str, Any]]] = {}

        def of(rule: str) -> list[dict[str, Any]]:
            if rule not in runs:
                runs[rule] = findings(reviewed, rule)
            return runs[rule]

        return of

    return reviewed, checked, found
