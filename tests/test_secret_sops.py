"""K8S004 in a repository whose Secrets are SOPS-encrypted (issue 14): the value goes into a
Secret encrypted by the real ``sops`` binary with the repository's age recipient, committed
(not git-ignored) and listed in the Kustomization; decrypting with the test's private key
gives the value back and ``kubectl kustomize`` shows the Secret and the reference agree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixer.secrets.sops import sops_binary
from tests.realparts import age_key, kustomize, sops_decrypted, with_remote

pytestmark = pytest.mark.slow  # runs CLI processes, sops, age-keygen, git and kubectl

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"
VALUE = "s3cr3t-Pa55-sops"


def _repo(tmp_path: Path) -> tuple[Path, Path]:
    """The fixture in a fresh git work tree, its ``.sops.yaml`` naming a new age key; the
    repository and the private key file (outside the repository)."""
    root = tmp_path / "repo"
    shutil.copytree(REPOS / "secrets-sops", root)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root, age_key(tmp_path, root / ".sops.yaml")


def _fix(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # Only the public key is known to the run: no SOPS_AGE_KEY_FILE reaches it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    args = [sys.executable, "-m", "fixer", "fix", "--select", "K8S004", *extra, "."]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, check=False, env=env)


def _docs(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d]


def _files_holding(root: Path, value: str) -> list[Path]:
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts and value in p.read_text()
    ]


def test_sops_is_installed_for_these_tests() -> None:
    assert sops_binary() is not None and shutil.which("age-keygen") is not None


def test_value_is_encrypted_committed_listed_and_renders(tmp_path: Path) -> None:
    root, key = _repo(tmp_path)
    run = _fix(root)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert VALUE not in out
    assert "encrypted with SOPS" in out and "decrypts it (decryption.provider: sops)" in out
    secret_file = root / "apps" / "shop" / "deploy.secrets.sops.yaml"
    assert _files_holding(root, VALUE) == []  # the plaintext is nowhere in the work tree
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "apps/shop/deploy.secrets.sops.yaml"], cwd=root, check=False
    )
    assert ignored.returncode == 1  # safe to commit, and it must be: Flux reads git
    kustomization = yaml.safe_load((root / "apps" / "shop" / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["deploy.yaml", "deploy.secrets.sops.yaml"]
    assert "# the web front end" in (root / "apps" / "shop" / "kustomization.yaml").read_text()

    (secret,) = sops_decrypted(secret_file, key)
    assert secret["stringData"] == {"DB_PASSWORD": VALUE}

    rendered = kustomize(root, "apps/shop")
    assert VALUE not in rendered
    by_kind = {d["kind"]: d for d in _docs(rendered)}
    assert by_kind["Secret"]["metadata"]["name"] == "shop-web-secrets"
    assert by_kind["Secret"]["metadata"]["namespace"] == "shop"
    container = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    (entry,) = [e for e in container["env"] if e["name"] == "DB_PASSWORD"]
    assert entry["valueFrom"]["secretKeyRef"] == {"name": "shop-web-secrets", "key": "DB_PASSWORD"}
    assert by_kind["Deployment"]["metadata"]["namespace"] == "shop"

    again = _fix(root)
    assert again.returncode == 0 and "no findings" in again.stdout + again.stderr


def test_flux_without_decryption_withholds_the_move(tmp_path: Path) -> None:
    root, _ = _repo(tmp_path)
    deployer = root / "clusters" / "prod" / "apps.yaml"
    text = deployer.read_text()
    deployer.write_text(text[: text.index("  decryption:")])
    manifest = root / "apps" / "shop" / "deploy.yaml"
    before = manifest.read_text()
    run = _fix(root)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert VALUE not in out
    assert "fix withheld" in out and "decryption.provider: sops" in out
    assert manifest.read_text() == before
    assert not (root / "apps" / "shop" / "deploy.secrets.sops.yaml").exists()


def test_no_rule_for_the_folder_keeps_the_gitops_withholding(tmp_path: Path) -> None:
    root, _ = _repo(tmp_path)
    config = root / ".sops.yaml"
    config.write_text(config.read_text().replace("apps/", "clusters/"))
    run = _fix(root)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "fix withheld" in out and "encrypt it with SOPS" in out
    assert not (root / "apps" / "shop" / "deploy.secrets.sops.yaml").exists()


def test_argo_cd_deployment_names_the_plugin_it_needs(tmp_path: Path) -> None:
    root, _ = _repo(tmp_path)
    (root / "clusters" / "prod" / "apps.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n"
        "spec:\n  source:\n    repoURL: https://example.com/acme/platform.git\n"
        "    path: apps/shop\n  destination:\n    namespace: shop\n"
    )
    run = _fix(root)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Argo CD Application" in out and "needs a SOPS plugin" in out and "KSOPS" in out
    assert (root / "apps" / "shop" / "deploy.secrets.sops.yaml").exists()


def test_a_later_value_joins_the_encrypted_file_only_with_its_key(tmp_path: Path) -> None:
    root, key = _repo(tmp_path)
    assert _fix(root).returncode == 0
    manifest = root / "apps" / "shop" / "deploy.yaml"
    later = "tok-later-0123456789abcdef"
    text = manifest.read_text().replace(
        "            - name: LOG_LEVEL\n",
        f'            - name: API_TOKEN\n              value: "{later}"\n'
        "            - name: LOG_LEVEL\n",
    )
    manifest.write_text(text)
    secret_file = root / "apps" / "shop" / "deploy.secrets.sops.yaml"
    encrypted = secret_file.read_text()
    refused = _fix(root)  # only the public key: the file's data key cannot be opened
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0 and later not in out
    assert "already encrypted" in out and "SOPS_AGE_KEY_FILE" in out
    assert manifest.read_text() == text and secret_file.read_text() == encrypted

    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key)}
    args = [sys.executable, "-m", "fixer", "fix", "--select", "K8S004", "."]
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert later not in done.stdout + done.stderr and _files_holding(root, later) == []
    decrypted = subprocess.run(
        [str(sops_binary()), "--decrypt", str(secret_file)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    (secret,) = _docs(decrypted.stdout)
    assert secret["stringData"] == {"DB_PASSWORD": VALUE, "API_TOKEN": later}


def test_the_pull_request_commits_the_encrypted_file(tmp_path: Path) -> None:
    """`tighten pr` commits the SOPS file as sops wrote it (a masked preview would commit
    `***` as the value), lists it in the Kustomization, and says no command is needed."""
    root, _key = _repo(tmp_path)
    with_remote(root, tmp_path / "remote.git")
    run = subprocess.run(
        [sys.executable, "-m", "fixer", "pr", "--dry-run", "--base", "main", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert VALUE not in run.stdout + run.stderr
    assert "is committed encrypted for the cluster" in run.stdout
    assert "DB_PASSWORD: ENC[AES256_GCM," in run.stdout
    assert 'DB_PASSWORD: "***"' not in run.stdout
