"""The model's memos are bounded (``fixer.repository.memo``): a memo that fills up is
emptied, and the answers must not depend on what happened to be kept. Over the judgement
fixtures (builds, derived images, entrypoints, Kustomize renders, manifests parsed on a
question), a run whose memos keep a single answer says exactly what a normal run says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from fixer.repository.memo import remember
from tests.fixture_repos import REPOS

_REPOS = (
    "j9-release",
    "j10-stages",
    "j11-review",
    "j12-review",
    "j14-review",
    "k12-hardening",
    "k12-privileged",
    "k12-root",
    "kustomize_overlay",
    "goapp",
)

_RUN = """
import sys
import fixer.repository.memo as memo
memo.MAX_KEPT = int(sys.argv[1])
from fixer.entry import main
sys.argv = ["tighten", *sys.argv[2:]]
main()
"""


def _tighten(kept: int, *args: str, cwd: Path) -> str:
    env = {**os.environ, "TIGHTEN_WORKERS": "0"}  # one process: the memos it fills are these
    out = subprocess.run(
        [sys.executable, "-c", _RUN, str(kept), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode in (0, 1, 2), out.stderr
    return out.stdout + out.stderr


def test_remember_empties_a_full_memo() -> None:
    memo: dict[int, str] = {}
    for n in range(2048):
        assert remember(memo, n, str(n)) == str(n)
    assert len(memo) == 2048
    remember(memo, 9999, "x")
    assert memo == {9999: "x"}


def test_answers_do_not_depend_on_what_the_memos_keep(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for name in _REPOS:
        shutil.copytree(REPOS / name, tree / name)
    for args in (("check", "--format", "json", "--no-cache", "."),
                 ("fix", "--dry-run", "--offline", "--no-cache", ".")):  # fmt: skip
        normal = _tighten(2048, *args, cwd=tree)
        starved = _tighten(1, *args, cwd=tree)
        assert '"findings"' in normal or "diff --git" in normal
        assert starved == normal
