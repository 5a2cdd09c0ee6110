"""Running the CLI on the multi-file fixture repositories under ``fixtures/repos``: copy
one, run ``tighten`` in it, read its JSON findings (the judgement tests share these)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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
