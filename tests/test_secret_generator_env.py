"""K8S004 moves a value into the kustomize ``secretGenerator`` that renders the workload
(issue 14): the key goes to the generator's git-ignored env file, the reference to the
generator, and ``kubectl kustomize`` renders a Secret and a reference that agree. Each test
copies ``fixtures/repos/secrets-generator-env`` into a fresh git work tree and runs the real
CLI; no secret value may reach any output.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.realparts import documents, kustomize, with_remote

pytestmark = pytest.mark.slow  # runs CLI processes, git and kubectl

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "repos" / "secrets-generator-env"
VALUE = "s3cr3t-Gen-Env-Pa55"
OTHER = "zz-existing-Tok3n"
GIT = ["git", "-c", "user.name=a", "-c", "user.email=a@b"]


def _repo(tmp_path: Path, env: bytes | None = None) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    if env is not None:
        (root / "app" / "secrets.env").write_bytes(env)
    return root


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fixer", *args, "--select", "K8S004", "."]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def _out(run: subprocess.CompletedProcess[str]) -> str:
    return run.stdout + run.stderr


def _rendered(root: Path) -> list[Any]:
    return documents(kustomize(root, "overlays/prod"))


def test_the_key_joins_the_ignored_env_file_and_kustomize_agrees(tmp_path: Path) -> None:
    before = f"DB_USER=app\n# kept as it is\nOTHER_TOKEN={OTHER}".encode()  # no final newline
    root = _repo(tmp_path, before)
    env = root / "app" / "secrets.env"
    run = _run(root, "fix")
    assert run.returncode == 0, _out(run)
    assert VALUE not in _out(run) and OTHER not in _out(run)
    assert "value added to the git-ignored env file app/secrets.env of secretGenerator db" in (
        _out(run)
    )
    assert "rendered as Secret prod-web-db-<hash> in namespace shop" in _out(run)
    assert env.read_bytes() == before + f"\nDB_PASSWORD={VALUE}\n".encode()
    assert env.stat().st_mode & 0o077 == 0  # it holds values: owner only
    deploy = (root / "app" / "deploy.yaml").read_text()
    assert "name: db\n                  key: DB_PASSWORD  # rotated yearly" in deploy
    assert VALUE not in deploy
    assert not (root / "app" / "deploy.secrets.yaml").exists()  # no second Secret
    assert (
        subprocess.run(
            ["git", "status", "--porcelain", "app/secrets.env"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        == ""
    )
    # What kustomize renders: the hash-suffixed Secret and the reference agree.
    docs = _rendered(root)
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    name = secret["metadata"]["name"]
    assert name.startswith("prod-web-db-") and len(name) > len("prod-web-db-")
    assert secret["metadata"]["namespace"] == deployment["metadata"]["namespace"] == "shop"
    assert base64.b64decode(secret["data"]["DB_PASSWORD"]).decode() == VALUE
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ref = {e["name"]: e for e in container["env"]}["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": name, "key": "DB_PASSWORD"}
    # Idempotent: a second run finds nothing and changes no byte.
    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    again = _run(root, "fix")
    assert again.returncode == 0, _out(again)
    assert {p: p.read_bytes() for p in snapshot} == snapshot


def test_a_missing_ignored_env_file_is_created_private(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    run = _run(root, "fix")
    assert run.returncode == 0, _out(run)
    assert VALUE not in _out(run)
    assert "every fresh clone must create it" in _out(run)
    env = root / "app" / "secrets.env"
    assert env.read_text() == f"DB_PASSWORD={VALUE}\n"
    assert env.stat().st_mode & 0o777 == 0o600
    assert (root / "app" / ".gitignore").read_text() == "secrets.env\n"  # already ignored it


def test_dry_run_masks_every_value_of_the_env_file(tmp_path: Path) -> None:
    root = _repo(tmp_path, f"OTHER_TOKEN={OTHER}\n".encode())
    run = _run(root, "fix", "--dry-run")
    assert VALUE not in _out(run) and OTHER not in _out(run)
    assert "+DB_PASSWORD=***" in run.stdout
    assert " OTHER_TOKEN=***" in run.stdout
    assert (root / "app" / "secrets.env").read_text() == f"OTHER_TOKEN={OTHER}\n"


def test_a_committed_env_file_is_never_written(tmp_path: Path) -> None:
    root = _repo(tmp_path, b"DB_USER=app\n")
    (root / "app" / ".gitignore").unlink()
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", "base"], cwd=root, check=True)
    run = _run(root, "fix")
    assert run.returncode == 1, _out(run)
    assert VALUE not in _out(run)
    assert "the generator's env file is committed" in _out(run)
    assert "git-ignore it (and rotate what it holds) or use SOPS" in _out(run)
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""  # neither the env file nor the manifest changed


def test_a_key_holding_another_value_is_not_overwritten(tmp_path: Path) -> None:
    before = f"DB_PASSWORD={OTHER}\n".encode()
    root = _repo(tmp_path, before)
    deploy = (root / "app" / "deploy.yaml").read_bytes()
    run = _run(root, "fix")
    assert run.returncode == 2, _out(run)
    assert VALUE not in _out(run) and OTHER not in _out(run)
    assert "key DB_PASSWORD already holds another value; not overwritten" in _out(run)
    assert (root / "app" / "secrets.env").read_bytes() == before
    assert (root / "app" / "deploy.yaml").read_bytes() == deploy


def test_a_generator_with_literals_only_changes_nothing(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    kustomization = root / "app" / "kustomization.yaml"
    text = kustomization.read_text().replace("envs:\n      - secrets.env", "literals:\n      - A=b")
    kustomization.write_text(text)
    run = _run(root, "fix")
    assert VALUE not in _out(run)
    assert "secretGenerator" not in _out(run)  # today's move: a Secret beside the manifest
    assert not (root / "app" / "secrets.env").exists()
    assert (root / "app" / "deploy.secrets.yaml").exists()


def test_the_pull_request_body_says_where_the_value_went(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    with_remote(root, tmp_path / "remote.git")
    run = _run(root, "pr", "--dry-run", "--base", "main")
    assert run.returncode == 0, _out(run)
    assert VALUE not in _out(run)
    body = run.stdout
    assert "#### Where each moved value went" in body
    row = next(
        line for line in body.splitlines() if line.startswith("| K8S004 | `app/deploy.yaml:")
    )
    assert "`app/deploy.yaml:21` | `DB_PASSWORD` |" in row
    assert "git-ignored env file app/secrets.env of secretGenerator db" in row
    assert "every fresh clone must create it" in row
    assert "set `DB_PASSWORD=<new DB_PASSWORD value>` in `app/secrets.env`" in row
    assert "`kubectl apply -k overlays/prod`" in row
    assert "no Secret found in the file" not in body
    assert "secrets.env" not in body.split("--- diff ---")[1]  # the env file is not committed
    assert not (root / "app" / "secrets.env").exists()  # the user's checkout is untouched


def test_a_generator_in_the_overlay_takes_the_value_of_the_base(tmp_path: Path) -> None:
    """kustomize renames the base's reference to the overlay's generated Secret itself."""
    root = _repo(tmp_path)
    base = root / "app" / "kustomization.yaml"
    base.write_text(base.read_text().split("secretGenerator:")[0])
    overlay = root / "overlays" / "prod"
    generator = "secretGenerator:\n  - name: db\n    envs:\n      - prod.env\n"
    (overlay / "kustomization.yaml").write_text(
        (overlay / "kustomization.yaml").read_text() + generator
    )
    (overlay / ".gitignore").write_text("prod.env\n")
    run = _run(root, "fix")
    assert run.returncode == 0, _out(run)
    assert "git-ignored env file overlays/prod/prod.env of secretGenerator db" in _out(run)
    assert "rendered as Secret prod-db-<hash> in namespace shop" in _out(run)
    assert (overlay / "prod.env").read_text() == f"DB_PASSWORD={VALUE}\n"
    docs = _rendered(root)
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    assert secret["metadata"]["name"].startswith("prod-db-")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ref = {e["name"]: e for e in container["env"]}["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": secret["metadata"]["name"], "key": "DB_PASSWORD"}
