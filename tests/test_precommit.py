"""The pre-commit hooks run for real (``pre-commit try-repo`` installs this repository at
its HEAD into a fresh environment, as a user's ``.pre-commit-config.yaml`` would): files
named like Dockerfiles that are scripts or templates are never handed to tighten, and the
project's ``exclude`` applies to the files pre-commit names (``--force-exclude``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # installs the package into a virtualenv, then runs git hooks

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n'
LOOKALIKES = {
    "dockerfile.py": '"""Build helpers."""\nimport os\nfrom os import path\n\nprint(path)\n',
    "dockerfile-build.sh": "#!/bin/sh\nset -eu\ndocker build -t app .\n",
    "Dockerfile.j2": "FROM {{ base_image }}\nCOPY app /app\n",
}


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str]:
    done = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "project"
    repo.mkdir()
    files = {
        "Dockerfile": DOCKERFILE,
        "legacy/Dockerfile": DOCKERFILE,
        ".tighten.toml": 'exclude = ["legacy"]\n',
        **LOOKALIKES,
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
    }
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, timeout=30)
    return repo, env


def test_hooks_skip_lookalikes_and_excluded_files(project: tuple[Path, dict[str, str]]) -> None:
    repo, env = project
    named = ["Dockerfile", "legacy/Dockerfile", *LOOKALIKES]
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT)]

    # The first run builds the hook's environment (pip install of this repository).
    code, out = _run([*try_repo, "tighten-check", "--verbose", "--files", *named], repo, env, 900)
    assert code == 1, out  # a finding fails the commit
    assert "Dockerfile:1: DF001" in out
    assert "legacy/Dockerfile" not in out  # excluded by the project's config
    for name in LOOKALIKES:
        assert name not in out, out  # never handed to tighten, so never mentioned

    code, out = _run([*try_repo, "tighten-fix", "--files", *named], repo, env, 300)
    assert code == 1 and "files were modified by this hook" in out, out
    assert "USER 10001:10001" in (repo / "Dockerfile").read_text()
    assert (repo / "legacy/Dockerfile").read_text() == DOCKERFILE
    for name, text in LOOKALIKES.items():
        assert (repo / name).read_text() == text, name
