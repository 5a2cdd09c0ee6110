"""DF004 follows the image (issue 14): a secret ``ENV`` removed from a Dockerfile reaches the
pods that run its image as ``env.valueFrom.secretKeyRef``, with the Secret where K8S004 would
put it. Real parts: the CLI, git, ``kubectl kustomize``, ``sops`` with a fresh age key.
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
from rules.secret_envref import Where, plan
from tests.realparts import age_key, sops_decrypted, with_remote

pytestmark = pytest.mark.slow  # runs CLI processes, git, kubectl, sops and age-keygen

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"
VALUE = "s3cr3t-Pa55-df4"


def _repo(tmp_path: Path, name: str, folder: str = "repo") -> Path:
    root = tmp_path / folder
    shutil.copytree(REPOS / name, root)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _sops_repo(tmp_path: Path) -> tuple[Path, Path]:
    root = _repo(tmp_path, "df004-sops")
    return root, age_key(tmp_path, root / ".sops.yaml")


def _tighten(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    command = [sys.executable, "-m", "fixer", *args, "."]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False, env=env)


def _fix(root: Path, *extra: str) -> str:
    run = _tighten(root, "fix", "--select", "DF004,K8S004,K8S002", *extra)
    out = run.stdout + run.stderr
    assert run.returncode in (0, 1), out
    assert "internal error" not in out and "not modified" not in out, out
    return out


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def _docs(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d]


def _rendered(root: Path, folder: str) -> dict[str, Any]:
    run = subprocess.run(
        ["kubectl", "kustomize", folder], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return {d["kind"]: d for d in _docs(run.stdout)}


def _reference(deployment: dict[str, Any]) -> dict[str, str]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (entry,) = [e for e in container["env"] if e["name"] == "DB_PASSWORD"]
    ref: dict[str, str] = entry["valueFrom"]["secretKeyRef"]
    return ref


def test_kustomize_manifest_gets_the_env_reference_and_the_secret_agrees(tmp_path: Path) -> None:
    root = _repo(tmp_path, "df004-kustomize")
    out = _fix(root)
    assert VALUE not in out
    assert 'Deployment/api container "app" (deploy.yaml) gets it' in out
    assert VALUE not in (root / "api" / "Dockerfile").read_text()
    secret_file = root / "deploy" / "deploy.secrets.yaml"
    (secret,) = _docs(secret_file.read_text())
    assert secret["stringData"] == {"DB_PASSWORD": VALUE}
    ignored = subprocess.run(["git", "check-ignore", "-q", str(secret_file)], cwd=root)
    assert ignored.returncode == 0
    rendered = _rendered(root, "deploy")
    assert VALUE not in yaml.safe_dump(rendered)
    deployment = rendered["Deployment"]
    ref = _reference(deployment)
    assert ref == {"name": secret["metadata"]["name"], "key": "DB_PASSWORD"}
    assert deployment["metadata"]["namespace"] == secret["metadata"]["namespace"] == "shop"
    assert deployment["metadata"]["name"] == "shop-api"
    # The manifest's own fix (K8S002) landed too, and nothing else of it moved.
    text = (root / "deploy" / "deploy.yaml").read_text()
    assert "allowPrivilegeEscalation: false" in text
    assert "            - name: LOG_LEVEL\n              value: info\n" in text
    before = _tree(root)
    _fix(root)
    assert _tree(root) == before


def test_dry_run_diff_is_what_fix_writes(tmp_path: Path) -> None:
    dry = _repo(tmp_path, "df004-kustomize", "dry")
    real = _repo(tmp_path, "df004-kustomize", "real")
    masked = _tighten(dry, "fix", "--dry-run", "--select", "DF004,K8S004,K8S002")
    assert VALUE not in masked.stdout + masked.stderr
    assert masked.stdout.count("+++ b/deploy/deploy.yaml\n") == 1  # one diff of the manifest
    run = _tighten(dry, "fix", "--dry-run", "--unmasked-diff", "--select", "DF004,K8S004,K8S002")
    patch = tmp_path / "fix.patch"
    patch.write_text(run.stdout)
    subprocess.run(["git", "apply", str(patch)], cwd=dry, check=True)
    _fix(real)
    assert _tree(dry) == _tree(real)


def test_parallel_workers_keep_both_edits(tmp_path: Path) -> None:
    serial = _repo(tmp_path, "df004-kustomize", "serial")
    parallel = _repo(tmp_path, "df004-kustomize", "parallel")
    _fix(serial)
    env = {**os.environ, "TIGHTEN_WORKERS": "2"}
    args = [sys.executable, "-m", "fixer", "fix", "--select", "DF004,K8S004,K8S002", "."]
    run = subprocess.run(args, cwd=parallel, capture_output=True, text=True, env=env)
    assert "not modified" not in run.stderr, run.stderr
    assert _tree(parallel) == _tree(serial)


def test_sops_repository_encrypts_lists_and_references(tmp_path: Path) -> None:
    assert sops_binary() is not None and shutil.which("age-keygen") is not None
    root, key = _sops_repo(tmp_path)
    out = _fix(root)
    assert VALUE not in out and "encrypted with SOPS" in out
    assert [p for p, data in _tree(root).items() if VALUE.encode() in data] == []
    secret_file = root / "deploy" / "deploy.secrets.sops.yaml"
    kustomization = yaml.safe_load((root / "deploy" / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["deploy.yaml", "deploy.secrets.sops.yaml"]
    (secret,) = sops_decrypted(secret_file, key)
    assert secret["stringData"] == {"DB_PASSWORD": VALUE}
    rendered = _rendered(root, "deploy")
    assert _reference(rendered["Deployment"]) == {
        "name": rendered["Secret"]["metadata"]["name"],
        "key": "DB_PASSWORD",
    }
    assert rendered["Secret"]["metadata"]["name"] == "shop-api-secrets"
    assert rendered["Secret"]["metadata"]["namespace"] == "shop"
    assert rendered["Deployment"]["metadata"]["namespace"] == "shop"
    before = _tree(root)
    _fix(root)
    assert _tree(root) == before


def test_no_manifest_runs_the_image_withholds_the_move_and_says_so(tmp_path: Path) -> None:
    """Whatever runs the image (a compose service, a chart, a deployment in another
    repository) would lose the variable with nothing to give it back: robot-shop's
    ``ENV MYSQL_PASSWORD`` is what its compose service's database user is created with.
    The move is offered; ``--unsafe-fixes`` makes it."""
    root = _repo(tmp_path, "df004-none")
    manifest = (root / "deploy" / "deploy.yaml").read_bytes()
    dockerfile = (root / "worker" / "Dockerfile").read_bytes()
    out = _fix(root, "--select", "DF004")
    assert (
        "fix withheld: needs a manifest that runs the image and gets DB_PASSWORD from the "
        "Secret (no manifest in the repository runs image ghcr.io/acme/shop-worker)"
    ) in out
    assert VALUE not in out
    assert (root / "worker" / "Dockerfile").read_bytes() == dockerfile
    assert not (root / "worker" / "worker-secrets.secret.yaml").exists()
    out = _fix(root, "--select", "DF004", "--unsafe-fixes")
    assert (root / "deploy" / "deploy.yaml").read_bytes() == manifest
    assert (root / "worker" / "worker-secrets.secret.yaml").is_file()
    assert VALUE not in (root / "worker" / "Dockerfile").read_text()


def test_a_compose_service_running_the_image_is_named(tmp_path: Path) -> None:
    root = _repo(tmp_path, "df004-none")
    (root / "docker-compose.yaml").write_text(
        "services:\n  worker:\n    build: ./worker\n    image: ghcr.io/acme/shop-worker\n"
    )
    out = _fix(root, "--select", "DF004")
    assert 'docker-compose.yaml:3 runs it (compose service "worker")' in out
    assert VALUE in (root / "worker" / "Dockerfile").read_text()


def test_gitops_without_encryption_withholds_the_move(tmp_path: Path) -> None:
    root = _repo(tmp_path, "df004-kustomize")
    flux = (REPOS / "df004-sops" / "clusters" / "prod" / "apps.yaml").read_text()
    (root / "clusters").mkdir()
    (root / "clusters" / "apps.yaml").write_text(flux)
    before = _tree(root)
    out = _fix(root, "--select", "DF004")
    assert "fix withheld: needs a way for Secret shop-api-secrets to reach the cluster" in out
    assert "Flux Kustomization" in out
    assert _tree(root) == before


def test_several_namespaces_withhold_the_move(tmp_path: Path) -> None:
    root = _repo(tmp_path, "df004-kustomize")
    other = (
        (root / "deploy" / "deploy.yaml")
        .read_text()
        .replace("name: api\n", "name: api\n  namespace: jobs\n", 1)
    )
    (root / "jobs").mkdir()
    (root / "jobs" / "deploy.yaml").write_text(other)
    before = _tree(root)
    out = _fix(root, "--select", "DF004")
    assert "fix withheld: needs one Secret for the value: several workloads run the image" in out
    assert _tree(root) == before


def test_arg_default_is_build_time_only(tmp_path: Path) -> None:
    root = _repo(tmp_path, "df004-kustomize")
    dockerfile = root / "api" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("ENV PORT=8080 ", "ARG "))
    manifest = (root / "deploy" / "deploy.yaml").read_bytes()
    out = _fix(root, "--select", "DF004")
    assert "drop the default of ARG DB_PASSWORD" in out
    assert (root / "deploy" / "deploy.yaml").read_bytes() == manifest


def test_a_container_that_sets_the_variable_keeps_it() -> None:
    text = (REPOS / "df004-kustomize" / "deploy" / "deploy.yaml").read_text()
    where = Where("Deployment", "api", None, "app", False)
    found = plan(text, where, "LOG_LEVEL", "api-secrets", "LOG_LEVEL")
    assert not isinstance(found, str) and found.other and not found.insert
    flow = text.replace(
        "          env:\n            - name: LOG_LEVEL\n              value: info\n",
        "          env: []\n",
    )
    assert plan(flow, where, "DB_PASSWORD", "s", "DB_PASSWORD") == (
        'the env of Deployment/api container "app" is not a block list'
    )


def test_a_crlf_manifest_keeps_crlf_where_the_env_entry_lands(tmp_path: Path) -> None:
    root = _repo(tmp_path, "df004-kustomize")
    for path in root.rglob("*.yaml"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    _fix(root)
    manifest = (root / "deploy" / "deploy.yaml").read_bytes()
    assert b"secretKeyRef" in manifest
    assert manifest.count(b"\n") == manifest.count(b"\r\n")  # every line end is still CRLF


def test_the_pull_request_body_lists_the_dockerfile_value(tmp_path: Path) -> None:
    root = _repo(tmp_path, "df004-kustomize")
    with_remote(root, tmp_path / "remote.git")
    run = _tighten(root, "pr", "--dry-run", "--base", "main")
    assert run.returncode == 0, run.stdout + run.stderr
    assert VALUE not in run.stdout + run.stderr
    moved = run.stdout.split("#### Where each moved value went", 1)[1]
    row = next(line for line in moved.splitlines() if line.startswith("| DF004 |"))
    assert "`DB_PASSWORD`" in row and "shop-api-secrets" in row
    assert "kubectl create secret generic shop-api-secrets -n shop" in row


EXTERNAL = """\
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: api
  namespace: shop
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: vault
  target:
    name: api-env
  data:
    - secretKey: DB_PASSWORD
      remoteRef:
        key: shop/api
        property: DB_PASSWORD
"""


def test_a_key_an_external_secret_provides_is_referenced_and_written_nowhere(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path, "df004-kustomize")
    (root / "deploy" / "external.yaml").write_text(EXTERNAL)
    before = set(_tree(root))
    out = _fix(root)
    assert VALUE not in out
    assert "ExternalSecret api" in out and "already provides" in out
    assert "DB_PASSWORD" not in (root / "api" / "Dockerfile").read_text()
    (deployment,) = [d for d in _docs((root / "deploy" / "deploy.yaml").read_text())]
    assert _reference(deployment) == {"name": "api-env", "key": "DB_PASSWORD"}
    written = set(_tree(root)) - before
    assert not [p for p in written if "secret" in p.lower()], written  # no Secret file
    assert not any(VALUE.encode() in data for data in _tree(root).values())


def test_a_kustomization_the_makefile_applies_withholds_the_dockerfile_move(tmp_path: Path) -> None:
    """The value would land in a git-ignored Secret that `make deploy` (a fresh clone in
    CI, a teammate) never has: DF004 offers the move and keeps the ENV."""
    root = _repo(tmp_path, "df004-kustomize")
    (root / "Makefile").write_text("deploy:\n\tkubectl apply -k deploy\n")
    out = _fix(root)
    assert VALUE not in out
    assert "Makefile:2 renders a Kustomization that lists" in out
    assert VALUE in (root / "api" / "Dockerfile").read_text()
    assert not (root / "deploy" / "deploy.secrets.yaml").exists()
