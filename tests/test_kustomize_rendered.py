"""Issue 13, class 12: a Kustomize overlay undoes the base's fix, so the rendered output is
judged (``kubectl kustomize``) and what the patch causes is reported, or fixed, at the patch.

Each case copies a fixture repository (``fixtures/repos/k12-*``), runs the CLI, and renders
the result with kubectl as a reviewer would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"
RENDERED = "rendered 1 Kustomization with `kubectl kustomize`"


def _tighten(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _repo(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    shutil.copytree(REPOS / name, repo)
    return repo


def _findings(repo: Path) -> list[dict[str, Any]]:
    out = _tighten("check", "--no-cache", "--format", "json", ".", cwd=repo)
    assert out.returncode in (0, 1), out.stderr
    found: list[dict[str, Any]] = json.loads(out.stdout)["findings"]
    return found


def _render(folder: Path) -> dict[str, Any]:
    """The one Deployment ``kubectl kustomize`` renders from ``folder``."""
    out = subprocess.run(
        ["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    assert len(docs) == 1
    deployment: dict[str, Any] = docs[0]
    return deployment


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def _files(repo: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".tighten_cache" not in p.parts
    }


def _dry_run_equals_in_place(tmp_path: Path, name: str) -> str:
    """The dry-run's diff, applied to a fresh copy, gives the files ``fix`` writes."""
    dry = _repo(tmp_path / "dry", name)
    diff = _tighten("fix", "--dry-run", ".", cwd=dry)
    assert diff.returncode in (0, 1), diff.stderr
    assert RENDERED in diff.stderr
    patch = dry / "changes.diff"
    patch.write_text(diff.stdout)
    applied = subprocess.run(
        ["git", "apply", "changes.diff"], cwd=dry, capture_output=True, text=True, timeout=60
    )
    assert applied.returncode == 0, applied.stderr
    patch.unlink()
    wet = _repo(tmp_path / "wet", name)
    _tighten("fix", ".", cwd=wet)
    assert _files(dry) == _files(wet)
    return str(diff.stdout)


# --- (a) a JSON6902 replace with runAsUser: 0 --------------------------------------------


def test_root_patch_is_reported_at_the_patch_and_not_rewritten(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "k12-root")
    patch = (repo / "overlays/prod/security.yaml").read_bytes()
    done = _tighten("fix", ".", cwd=repo)
    assert done.returncode == 1, done.stderr  # the author's root setting stays open
    assert RENDERED in done.stderr
    assert (repo / "overlays/prod/security.yaml").read_bytes() == patch  # not rewritten
    base = _pod(_render(repo / "base"))
    assert base["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}  # base fixed
    assert base["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
    found = [f for f in _findings(repo) if f["path"] == "overlays/prod/security.yaml"]
    assert [(f["rule"], f["line"], f["fixable"]) for f in found] == [("K8S002", 4, False)]
    assert found[0]["message"].startswith(
        "overlays/prod renders Deployment/web with runAsUser: 0: the patch in "
        "overlays/prod/security.yaml replaces the pod securityContext"
    )
    assert "author's decision" in found[0]["message"]
    again = _tighten("fix", ".", cwd=repo)
    assert again.returncode == 1 and "[fixed" not in again.stdout  # idempotent


# --- (b) a JSON6902 replace with a mapping that lacks the hardening ----------------------


def test_replaced_security_context_gains_the_missing_hardening_in_the_patch(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path, "k12-hardening")
    before = _findings(repo)
    at_patch = [f for f in before if f["path"] == "overlays/prod/security.yaml"]
    assert len(at_patch) == 1 and at_patch[0]["fixable"] and at_patch[0]["line"] == 4
    message = at_patch[0]["message"]
    assert "without seccompProfile, runAsNonRoot in the pod securityContext" in message
    # Before the fix the overlay renders a bare pod securityContext.
    assert _pod(_render(repo / "overlays/prod"))["securityContext"] == {"runAsUser": 10001}
    done = _tighten("fix", ".", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (repo / "overlays/prod/security.yaml").read_text()
    assert text == (
        "# prod pins the uid the volume is owned by\n"
        "- op: replace\n"
        "  path: /spec/template/spec/securityContext\n"
        "  value:\n"
        "    runAsUser: 10001\n"
        "    seccompProfile:\n"
        "      type: RuntimeDefault\n"
        "    runAsNonRoot: true\n"
    )
    pod = _pod(_render(repo / "overlays/prod"))
    assert pod["securityContext"] == {
        "runAsUser": 10001,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    container = pod["containers"][0]["securityContext"]
    assert container == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    assert _findings(repo) == []  # check after fix: nothing remains
    files = _files(repo)
    again = _tighten("fix", ".", cwd=repo)
    assert again.returncode == 0 and _files(repo) == files  # idempotent


def test_dry_run_renders_the_fixed_texts_and_equals_in_place(tmp_path: Path) -> None:
    # The dry-run renders a copy with the base's fixes, so the patch's fix is the same.
    diff = _dry_run_equals_in_place(tmp_path, "k12-hardening")
    assert "+++ b/overlays/prod/security.yaml" in diff and "+    runAsNonRoot: true" in diff
    diff = _dry_run_equals_in_place(tmp_path, "k12-root")
    assert "overlays/prod/security.yaml" not in diff


# --- (c) a strategic-merge patch with privileged: true -----------------------------------


def test_strategic_merge_privileged_is_reported_at_the_patch(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "k12-privileged")
    patch = (repo / "overlays/debug/privileged.yaml").read_bytes()
    done = _tighten("fix", ".", cwd=repo)
    assert done.returncode == 1
    assert (repo / "overlays/debug/privileged.yaml").read_bytes() == patch
    found = [f for f in _findings(repo) if f["path"] == "overlays/debug/privileged.yaml"]
    assert [(f["rule"], f["line"], f["fixable"]) for f in found] == [("K8S001", 11, False)]
    assert found[0]["message"].startswith(
        "overlays/debug renders Deployment/web with privileged: true: the patch in "
        "overlays/debug/privileged.yaml sets the container securityContext"
    )
    # The base is still fixed and the overlay keeps the rest of it (a merge, not a replace).
    rendered = _pod(_render(repo / "overlays/debug"))
    assert rendered["securityContext"]["runAsNonRoot"] is True
    assert rendered["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False


# --- (d) overlays without such patches: no render ----------------------------------------


def test_no_render_when_no_patch_touches_a_judged_field(tmp_path: Path) -> None:
    from fixer.overlays import Overlays
    from fixer.repository import RepositoryModel
    from fixer.settings import Settings
    from tests.helpers import RULES

    repo = _repo(tmp_path, "k12-no-render")
    for mode in (["fix", "--dry-run"], ["check", "--no-cache"], ["fix"]):
        done = _tighten(*mode, ".", cwd=repo)
        assert "rendered" not in done.stderr and "kustomize" not in done.stderr, mode
    assert Overlays.of(RepositoryModel.scan(repo), RULES, Settings()) is None
    assert Overlays.of(RepositoryModel.scan(REPOS / "k12-root"), RULES, Settings()) is not None


def test_only_the_judging_rule_asks_for_a_render(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "k12-root")
    done = _tighten("check", "--no-cache", "--select", "DF001", ".", cwd=repo)
    assert "rendered" not in done.stderr
    done = _tighten("check", "--no-cache", "--select", "K8S002", ".", cwd=repo)
    assert done.stderr.count(RENDERED) == 1  # one render per top-level Kustomization


def test_without_a_renderer_one_notice_and_the_base_alone(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "k12-root")
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    done = _tighten("check", "--no-cache", ".", cwd=repo, env=env)
    assert done.returncode == 1
    assert done.stderr.count("neither kubectl nor kustomize is on PATH") == 1
    assert "overlays/prod/security.yaml" not in done.stdout  # the patch is a patch again
    assert "base/deploy.yaml" in done.stdout


def test_a_base_outside_the_overlay_folder_is_rendered_with_the_load_restrictor_lifted(
    tmp_path: Path,
) -> None:
    from fixer.repository import RepositoryModel, render

    # deploy/overlays/prod lists ../../app.yaml and ../../patches/sidecar.yaml: kustomize
    # refuses both unless told; they stay inside the repository, so it is told.
    repo = _repo(tmp_path, "sourceonly")
    model = RepositoryModel.scan(repo)
    top = repo / "deploy/overlays/prod/kustomization.yaml"
    assert render.load_flags(top, model.kustomizations, repo) == render.LOAD_ANYWHERE
    k12 = RepositoryModel.scan(REPOS / "k12-root")
    assert render.load_flags(k12.kustomizations[-1].path, k12.kustomizations, k12.root) == ()
    done = _tighten("check", "--no-cache", ".", cwd=repo)
    assert "cannot render" not in done.stderr and RENDERED in done.stderr
    found = [f for f in _findings(repo) if "/overlays/" in f["path"] or "patches/" in f["path"]]
    assert [(f["path"], f["rule"], f["line"]) for f in found] == [
        ("deploy/overlays/prod/privileged-patch.yaml", "K8S001", 11),
        ("deploy/patches/sidecar.yaml", "K8S001", 12),
    ]


def test_json6902_ops_on_single_fields_are_reported_at_their_value(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "k12-root")
    (repo / "overlays/prod/security.yaml").write_text(
        "- op: add\n"
        "  path: /spec/template/spec/hostNetwork\n"
        "  value: true\n"
        "- op: replace\n"
        "  path: /spec/template/spec/securityContext/runAsUser\n"
        "  value: 0\n"
    )
    found = [f for f in _findings(repo) if f["path"] == "overlays/prod/security.yaml"]
    assert [(f["rule"], f["line"], f["fixable"]) for f in found] == [
        ("K8S005", 3, False),
        ("K8S002", 6, False),
    ]
    assert (
        "with hostNetwork: true: the patch in overlays/prod/security.yaml sets hostNetwork"
        in (found[0]["message"])
    )
    assert "sets runAsUser in the pod securityContext" in found[1]["message"]
