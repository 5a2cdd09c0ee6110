"""Real tools the tests share: tighten's own CLI, an age key pair, ``kubectl kustomize`` and
a git repository with a bare remote (``tighten pr`` needs one to compare with)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
ROOT = Path(__file__).resolve().parent.parent


def tighten(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m fixer`` from this checkout (not whichever copy is installed)."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        check=False,
    )


def age_key(folder: Path, config: Path, placeholder: str = "AGE_RECIPIENT") -> Path:
    """A fresh age key in ``folder``; its public key replaces ``placeholder`` in the
    ``.sops.yaml`` at ``config``. The private key file (for SOPS_AGE_KEY_FILE)."""
    key = folder / "age.key"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = subprocess.run(
        ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
    ).stdout.strip()
    config.write_text(config.read_text().replace(placeholder, public))
    return key


def kustomize(root: Path, folder: str) -> str:
    """``kubectl kustomize folder`` run in ``root``: the rendered YAML stream."""
    built = subprocess.run(
        ["kubectl", "kustomize", folder],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return built.stdout


def documents(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d]


def with_remote(root: Path, remote: Path) -> None:
    """Commit everything in ``root`` on ``main`` and push it to a new bare ``remote``."""
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", "base"], cwd=root, check=True)
    subprocess.run(["git", "branch", "-M", "main"], cwd=root, check=True)
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(remote)], cwd=root, check=True)
    subprocess.run(["git", "push", "-q", "origin", "main"], cwd=root, check=True)


def sops_decrypted(file: Path, key: Path) -> list[Any]:
    """The documents of a SOPS-encrypted ``file``, decrypted with the age ``key``."""
    from fixer.secrets.sops import sops_binary

    decrypted = subprocess.run(
        [str(sops_binary()), "--decrypt", str(file)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SOPS_AGE_KEY_FILE": str(key)},
        timeout=60,
    )
    return documents(decrypted.stdout)
