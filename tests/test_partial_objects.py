"""A built-in workload with a container that has no image is part of an object (a Kustomize
patch no kustomization lists, as kubebuilder scaffolds leave them; a fragment a tool merges):
the API server would refuse it as it is, so no rule judges or changes it as a workload,
and a notice says why. Seen in open-policy-agent/gatekeeper's config/default."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realparts import tighten

pytestmark = pytest.mark.slow  # a CLI process per case

PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller-manager
spec:
  template:
    spec:
      containers:
      - name: kube-rbac-proxy
        image: gcr.io/kubebuilder/kube-rbac-proxy:v0.4.0
      - name: manager
        args:
        - "--metrics-addr=127.0.0.1:8080"
"""

WHOLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""

# A custom kind may leave the image to its operator (CloudNativePG fills a Pooler's).
POOLER = """\
apiVersion: postgresql.cnpg.io/v1
kind: Pooler
metadata:
  name: pooler
spec:
  template:
    spec:
      containers:
      - name: pgbouncer
"""


def test_a_workload_without_an_image_is_left_alone_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "manager_auth_proxy_patch.yaml").write_text(PATCH)
    out = tighten("fix", "--offline", ".", cwd=tmp_path)
    assert (tmp_path / "manager_auth_proxy_patch.yaml").read_text() == PATCH
    assert "K8S002" not in out.stdout + out.stderr
    assert (
        'Deployment/controller-manager: container "manager" has no image, so this is a part '
        "of an object (a patch, a fragment) that cannot be applied as it is; left unchanged"
    ) in out.stderr
    assert out.returncode == 0, out.stderr


def test_whole_workloads_beside_it_are_still_fixed(tmp_path: Path) -> None:
    (tmp_path / "patch.yaml").write_text(PATCH)
    (tmp_path / "web.yaml").write_text(WHOLE)
    tighten("fix", "--offline", ".", cwd=tmp_path)
    assert (tmp_path / "patch.yaml").read_text() == PATCH
    assert "allowPrivilegeEscalation: false" in (tmp_path / "web.yaml").read_text()


def test_a_custom_kind_without_an_image_is_still_judged(tmp_path: Path) -> None:
    (tmp_path / "pooler.yaml").write_text(POOLER)
    out = tighten("check", "--no-cache", ".", cwd=tmp_path)
    assert "K8S002 Pooler/pooler" in out.stdout
    assert "has no image" not in out.stderr


def test_named_or_included_it_is_checked_as_any_file(tmp_path: Path) -> None:
    # What the user names is what the user gets checked (as a listed patch is).
    (tmp_path / "patch.yaml").write_text(PATCH)
    named = tighten("check", "--no-cache", "patch.yaml", cwd=tmp_path)
    assert "K8S002 Deployment/controller-manager" in named.stdout
    assert "has no image" not in named.stderr
    included = tighten("check", "--no-cache", "--include-generated", ".", cwd=tmp_path)
    assert "K8S002 Deployment/controller-manager" in included.stdout
