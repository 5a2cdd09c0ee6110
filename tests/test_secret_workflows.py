"""Secrets that reach the cluster (issue 14): K8S004 moves a value into the repository's own
secret workflow. Each test copies a fixture repository from ``fixtures/repos/secrets-*``
into a fresh git work tree and runs the real CLI; no secret value may reach any output.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.realparts import kustomize

pytestmark = pytest.mark.slow  # runs CLI processes, git and kubectl

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"


def _repo(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(REPOS / name, root)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _fix(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "fixer", "fix", "--select", "K8S004", *extra, "."]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)


def _out(run: subprocess.CompletedProcess[str]) -> str:
    """What the run said (findings go to stderr when ``fix`` writes files)."""
    return run.stdout + run.stderr


def _no_value_shown(run: subprocess.CompletedProcess[str], *values: str) -> None:
    for value in values:
        assert value not in _out(run) and value not in run.stderr


def _docs(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d]


def _env(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e for e in container["env"]}


def _ignored(root: Path, path: str) -> bool:
    check = subprocess.run(["git", "check-ignore", "-q", path], cwd=root, check=False)
    return check.returncode == 0


def test_no_setup_secret_gets_the_rendered_namespace_and_name(tmp_path: Path) -> None:
    root = _repo(tmp_path, "secrets-none")
    run = _fix(root)
    assert run.returncode == 0, run.stderr
    _no_value_shown(run, "s3cr3t-Pa55-none")
    # base namePrefix web-, overlay namePrefix prod-, nameSuffix -v1, namespace shop
    final = "prod-web-web-secrets-v1"
    assert "kubectl apply -n shop -f app/deploy.secrets.yaml" in _out(run)
    (secret,) = _docs((root / "app" / "deploy.secrets.yaml").read_text())
    assert secret["metadata"] == secret["metadata"] | {"name": final, "namespace": "shop"}
    assert secret["stringData"] == {"DB_PASSWORD": "s3cr3t-Pa55-none"}
    assert _ignored(root, "app/deploy.secrets.yaml")
    kustomization = (root / "app" / "kustomization.yaml").read_text()
    assert "secrets.yaml" not in kustomization  # git-ignored: a fresh clone must still build
    # What kustomize renders references exactly the Secret the instructions create.
    (deployment,) = _docs(kustomize(root, "overlays/prod"))
    assert deployment["metadata"]["namespace"] == "shop"
    ref = _env(deployment)["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": final, "key": "DB_PASSWORD"}


def test_gitops_deployed_manifest_keeps_its_value_until_forced(tmp_path: Path) -> None:
    root = _repo(tmp_path, "secrets-gitops")
    manifest = root / "apps" / "shop" / "deploy.yaml"
    before = manifest.read_text()
    run = _fix(root)
    assert run.returncode == 1, run.stderr  # the finding stays open
    _no_value_shown(run, "s3cr3t-Pa55-gitops")
    assert manifest.read_text() == before
    assert not (root / "apps" / "shop" / "deploy.secrets.yaml").exists()
    assert "fix withheld" in _out(run) and "Flux Kustomization" in _out(run)
    assert "CreateContainerConfigError" in _out(run)
    assert "kubectl apply -n shop -f apps/shop/deploy.secrets.yaml" in _out(run)
    forced = _fix(root, "--unsafe-fixes")
    assert forced.returncode == 0, forced.stderr
    _no_value_shown(forced, "s3cr3t-Pa55-gitops")
    (secret,) = _docs((root / "apps" / "shop" / "deploy.secrets.yaml").read_text())
    assert secret["metadata"]["namespace"] == "shop"


def test_external_secret_key_is_referenced_or_added(tmp_path: Path) -> None:
    root = _repo(tmp_path, "secrets-external")
    # A key the store does not hold yet: the move is withheld (the pod would fail until
    # someone creates the remote key), the one the store already provides is applied.
    withheld = _fix(root)
    assert withheld.returncode == 1, withheld.stderr
    _no_value_shown(withheld, "s3cr3t-Pa55-external", "tok-ext-9f8e7d6c5b4a")
    assert "fix withheld" in _out(withheld) and "CreateContainerConfigError" in _out(withheld)
    assert "tok-ext-9f8e7d6c5b4a" in (root / "app" / "deploy.yaml").read_text()
    (deployment,) = _docs((root / "app" / "deploy.yaml").read_text())
    assert _env(deployment)["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "web-env"
    assert "API_TOKEN" not in (root / "app" / "external.yaml").read_text()
    run = _fix(root, "--unsafe-fixes")
    assert run.returncode == 0, run.stderr
    _no_value_shown(run, "s3cr3t-Pa55-external", "tok-ext-9f8e7d6c5b4a")
    (deployment,) = _docs((root / "app" / "deploy.yaml").read_text())
    env = _env(deployment)
    for key in ("DB_PASSWORD", "API_TOKEN"):
        assert env[key]["valueFrom"]["secretKeyRef"] == {"name": "web-env", "key": key}
    # DB_PASSWORD already comes from the store: its value is written nowhere.
    stored = (root / "app" / "deploy.secrets.yaml").read_text()
    assert "s3cr3t-Pa55-external" not in stored
    assert "tok-ext-9f8e7d6c5b4a" in stored and _ignored(root, "app/deploy.secrets.yaml")
    # API_TOKEN: a data entry in the committed ExternalSecret, following its convention.
    external_text = (root / "app" / "external.yaml").read_text()
    assert "# rotated by the DBA" in external_text  # surgical: the rest is untouched
    (external,) = _docs(external_text)
    assert external["spec"]["data"][-1] == {
        "secretKey": "API_TOKEN",
        "remoteRef": {"key": "shop/web", "property": "API_TOKEN"},
    }
    assert not _ignored(root, "app/external.yaml")
    assert "tok-ext" not in external_text
    assert "create the remote key shop/web (property API_TOKEN)" in _out(run)
    again = _fix(root, "--unsafe-fixes")  # idempotent
    assert again.returncode == 0 and (root / "app" / "external.yaml").read_text() == external_text
    # Rendered as the repository deploys it, the Secret the ExternalSecret creates is the one
    # the containers reference, in their namespace.
    (root / "app" / "kustomization.yaml").write_text("resources: [deploy.yaml, external.yaml]\n")
    rendered = {d["kind"]: d for d in _docs(kustomize(root, "app"))}
    target = rendered["ExternalSecret"]["spec"]["target"]["name"]
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in _env(rendered["Deployment"]).values()}
    assert refs == {target}
    assert rendered["ExternalSecret"]["metadata"]["namespace"] == "shop"
    assert rendered["Deployment"]["metadata"]["namespace"] == "shop"


def test_secret_generator_literals_are_reported_masked(tmp_path: Path) -> None:
    root = _repo(tmp_path, "secrets-generator")
    for command in ("check", "fix"):
        args = [sys.executable, "-m", "fixer", command, "--select", "K8S004", "."]
        run = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)
        assert run.returncode == 1, run.stderr
        _no_value_shown(run, "s3cr3t-gen-Pa55")
        assert "secretGenerator db literal DB_PASSWORD holds a plaintext secret" in _out(run)
        assert "DB_USER" not in _out(run)  # not a secret


def test_a_manifest_published_for_others_to_apply_keeps_its_value(tmp_path: Path) -> None:
    """Found in a merge review (aks-store-demo): the README tells users to
    ``kubectl apply -f <raw URL of all-in-one.yaml>``; a git-ignored Secret would be on
    none of their clusters. A manifest nobody is told to apply is still fixed."""
    root = _repo(tmp_path, "secrets-published")
    run = _fix(root)
    assert run.returncode == 1, run.stderr
    _no_value_shown(run, "s3cr3t-published-1", "s3cr3t-private-2")
    assert "s3cr3t-published-1" in (root / "all-in-one.yaml").read_text()
    assert "fix withheld" in _out(run)
    assert "README.md:6 names it for others to apply as it is" in _out(run)
    assert "s3cr3t-private-2" not in (root / "deploy" / "api.yaml").read_text()
    assert "s3cr3t-private-2" in (root / "deploy" / "api.secrets.yaml").read_text()
    forced = _fix(root, "--unsafe-fixes")
    assert forced.returncode == 0, forced.stderr
    assert "s3cr3t-published-1" not in (root / "all-in-one.yaml").read_text()


def test_an_application_in_test_data_deploys_nothing(tmp_path: Path) -> None:
    """An Argo CD Application under `tests/` is test input (tighten's own repository has
    one in its corpus): it does not make the repository GitOps-deployed."""
    root = _repo(tmp_path, "secrets-testapp")
    run = _fix(root)
    assert run.returncode == 0, run.stderr
    _no_value_shown(run, "s3cr3t-testapp-3")
    assert "s3cr3t-testapp-3" not in (root / "deploy" / "api.yaml").read_text()
    assert "s3cr3t-testapp-3" in (root / "deploy" / "api.secrets.yaml").read_text()


APP_OF_APPS = """\
{{- range .Values.applications }}
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ printf "example.%s" .name | quote }}
spec:
  source:
    path: {{ .path | default .name | quote }}
    repoURL: {{ $.Values.repoURL }}
---
{{ end -}}
"""


def test_an_argo_cd_app_of_apps_template_deploys_every_folder(tmp_path: Path) -> None:
    """argoproj/argocd-example-apps: the Applications are a Helm chart's template, so
    which folders they deploy is not readable; the moved value would reach no cluster."""
    root = _repo(tmp_path, "secrets-none")
    (root / "apps" / "templates").mkdir(parents=True)
    (root / "apps" / "templates" / "applications.yaml").write_text(APP_OF_APPS)
    before = {p: p.read_bytes() for p in root.rglob("*.yaml")}
    run = _fix(root)
    assert run.returncode == 1, _out(run)
    assert "Argo CD Application (a template" in _out(run)
    assert "apps/templates/applications.yaml:2" in _out(run)
    assert {p: p.read_bytes() for p in root.rglob("*.yaml")} == before


def test_a_glob_a_readme_applies_publishes_the_files_it_matches(tmp_path: Path) -> None:
    """sock-shop's manifests-monitoring/README.md: ``kubectl apply $(ls *-grafana-*.yaml |
    awk '{ print " -f " $1 }')``. The grafana Deployment keeps its value; a file the glob
    does not match (and a bare ``*.yaml``, which says nothing) is still fixed."""
    from rules.secret_published import published

    monitoring = tmp_path / "monitoring"
    monitoring.mkdir()
    (monitoring / "README.md").write_text(
        "Grafana:\n\n`kubectl apply $(ls *-grafana-*.yaml | awk ' { print \" -f \" $1 }')`\n\n"
        "Everything: `kubectl apply -f *.yaml`\n"
    )
    (monitoring / "21-grafana-dep.yaml").write_text("kind: Deployment\n")
    (monitoring / "06-prometheus-dep.yaml").write_text("kind: Deployment\n")
    assert published(tmp_path, monitoring / "21-grafana-dep.yaml") == "monitoring/README.md:3"
    assert published(tmp_path, monitoring / "06-prometheus-dep.yaml") is None


@pytest.mark.parametrize(
    ("automation", "line"),
    [
        # argo-workflows' Makefile renders its quick-start with kubectl kustomize.
        ("Makefile", "start:\n\tkubectl kustomize overlays/$(ENV) | kubectl apply -f -\n"),
        ("hack/deploy.sh", "#!/bin/sh\nkustomize build ../overlays/prod | kubectl apply -f -\n"),
        ("README.md", "Deploy it:\n\n```sh\nkubectl apply -k overlays/prod\n```\n"),
        # `skaffold dev` / `skaffold run` on a teammate's clone renders it too.
        (
            "skaffold.yaml",
            "apiVersion: skaffold/v4beta11\nkind: Config\nmanifests:\n  kustomize:\n"
            "    paths:\n      - overlays/prod\n",
        ),
    ],
)
def test_a_move_into_a_kustomization_the_repository_applies_is_withheld(
    tmp_path: Path, automation: str, line: str
) -> None:
    """The repository's own automation (CI's `make start`, a deploy script, the README)
    renders the manifest from a fresh clone, where the git-ignored Secret does not exist."""
    root = _repo(tmp_path, "secrets-none")
    (root / automation).parent.mkdir(parents=True, exist_ok=True)
    (root / automation).write_text(line)
    manifest = root / "app" / "deploy.yaml"
    before = manifest.read_text()
    run = _fix(root)
    assert run.returncode == 1, run.stderr
    _no_value_shown(run, "s3cr3t-Pa55-none")
    assert manifest.read_text() == before
    assert f"{automation}:" in _out(run) and "renders a Kustomization that lists" in _out(run)
    assert not (root / "app" / "deploy.secrets.yaml").exists()


def test_a_kustomization_nothing_in_the_repository_applies_still_gets_the_move(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path, "secrets-none")
    (root / "Makefile").write_text("lint:\n\tkustomize build other/ > /dev/null\n")
    run = _fix(root)
    assert run.returncode == 0, run.stderr
    assert (root / "app" / "deploy.secrets.yaml").exists()


_JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: migrator
spec:
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: migrator
        image: registry.example/migrator:1
        env:
        - name: PGUSER
          value: {user}
        - name: PGPASSWORD
          value: {password}
"""


def _job_repo(tmp_path: Path, user: str, password: str) -> Path:
    root = tmp_path / "repo"
    (root / "configure").mkdir(parents=True)
    (root / "configure" / "migrator.yaml").write_text(_JOB.format(user=user, password=password))
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def test_a_password_that_is_its_user_name_stays(tmp_path: Path) -> None:
    """deploy-sourcegraph's migrator: PGUSER sg, PGPASSWORD sg, the databases' default. The
    value stays in the file as the user name, so the move would hide nothing."""
    root = _job_repo(tmp_path, "sg", "sg")
    run = _fix(root)
    assert run.returncode == 1, run.stderr
    assert "stays in this file at line 14 as PGUSER, which is not a secret" in _out(run)
    assert "value: sg\n" in (root / "configure" / "migrator.yaml").read_text()
    forced = _fix(root, "--unsafe-fixes")
    assert forced.returncode == 0, forced.stderr
    assert (root / "configure" / "migrator.secrets.yaml").exists()


def test_a_value_a_published_manifest_keeps_stays_in_its_copy_too(tmp_path: Path) -> None:
    root = _job_repo(tmp_path, "app", "s3cr3t-Pa55-shared")
    (root / "base").mkdir()
    db = _JOB.replace("migrator", "db").replace("PGUSER", "POSTGRES_USER")
    (root / "base" / "db.yaml").write_text(
        db.replace("PGPASSWORD", "POSTGRES_PASSWORD").format(
            user="app", password="s3cr3t-Pa55-shared"
        )
    )
    (root / "README.md").write_text("Install: `kubectl apply -f base/db.yaml`\n")
    run = _fix(root)
    _no_value_shown(run, "s3cr3t-Pa55-shared")
    assert "the same value stays in base/db.yaml:16, which is published" in _out(run)
    assert not (root / "configure" / "migrator.secrets.yaml").exists()


def test_a_value_found_nowhere_else_is_still_moved(tmp_path: Path) -> None:
    root = _job_repo(tmp_path, "app", "s3cr3t-Pa55-alone")
    run = _fix(root)
    assert run.returncode == 0, run.stderr
    _no_value_shown(run, "s3cr3t-Pa55-alone")
    assert (root / "configure" / "migrator.secrets.yaml").exists()
