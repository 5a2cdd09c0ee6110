"""tighten passes on its own repository: its Dockerfile and deploy/ manifest are clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_tighten_check_passes_on_the_repository() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fixer", "check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no findings" in out.stderr


def test_the_dockerfile_and_manifest_are_really_checked() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fixer", "check", "--format", "json", "Dockerfile", "deploy/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 files scanned" in out.stderr
