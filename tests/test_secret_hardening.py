"""Secret hardening (issue 11): no value is ever overwritten by another, generated names are
distinct and safe, and secrets tighten used to miss are reported, masked, in every output.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import yaml

from fixer.secrets import SecretManifestError, placeholder_manifest, render_secret_manifest
from rules.secret_file import safe_file_name

OLD = "alpha-Pass-7431"
NEW = "bravo-Pass-9902"


def tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def secrets_in(path: Path) -> dict[tuple[str, str | None], dict[str, str]]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return {(d["metadata"]["name"], d["metadata"].get("namespace")): d["stringData"] for d in docs}


def assert_no_leak(error: BaseException, *values: str) -> None:
    rendered = "".join(traceback.format_exception(error))
    for value in values:
        assert value not in rendered


# ----------------------------------------------------------------------------- merge


def test_merge_refuses_to_replace_a_value() -> None:
    existing = render_secret_manifest("web-secrets", "prod", {"DB_PASSWORD": OLD})
    with pytest.raises(SecretManifestError) as caught:
        render_secret_manifest("web-secrets", "prod", {"DB_PASSWORD": NEW}, existing)
    message = str(caught.value)
    assert "'web-secrets'" in message and "'prod'" in message and "'DB_PASSWORD'" in message
    assert_no_leak(caught.value, OLD, NEW)


def test_merge_refuses_to_replace_a_base64_data_value() -> None:
    encoded = base64.b64encode(OLD.encode()).decode()
    existing = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  labels:\n"
        f"    app.kubernetes.io/managed-by: tighten\ndata:\n  A: {encoded}\n"
    )
    with pytest.raises(SecretManifestError, match="'A'"):
        render_secret_manifest("s", None, {"A": NEW}, existing)
    merged = render_secret_manifest("s", None, {"A": OLD, "B": NEW}, existing)
    assert yaml.safe_load(merged)["data"] == {"A": encoded}
    assert yaml.safe_load(merged)["stringData"] == {"B": NEW}


def test_merge_of_the_same_value_is_a_rerun_not_a_collision() -> None:
    existing = render_secret_manifest("s", None, {"A": OLD}, source="Dockerfile")
    assert render_secret_manifest("s", None, {"A": OLD}, existing, source="Dockerfile") == existing


def test_placeholders_never_replace_values_and_values_replace_placeholders() -> None:
    real = render_secret_manifest("s", None, {"A": OLD})
    kept = placeholder_manifest("s", None, ["A", "B"], real)
    assert yaml.safe_load(kept)["stringData"] == {"A": OLD, "B": "REPLACE_ME"}
    filled = render_secret_manifest("s", None, {"B": NEW}, kept)
    assert yaml.safe_load(filled)["stringData"] == {"A": OLD, "B": NEW}


# ----------------------------------------------------------------------------- --secrets-dir


def dockerfile(value: str) -> str:
    return f"FROM alpine:3.19\nENV DB_PASSWORD={value}\nUSER 1000\n"


def deployment(namespace: str | None, value: str) -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n{ns}spec:\n"
        "  template:\n    spec:\n      containers:\n      - name: app\n        image: a:1\n"
        f"        env:\n        - name: DB_PASSWORD\n          value: {value}\n"
    )


def test_dockerfiles_in_folders_of_the_same_name_keep_their_values(tmp_path: Path) -> None:
    for folder, value in (("a", OLD), ("b", NEW)):
        (tmp_path / folder / "app").mkdir(parents=True)
        (tmp_path / folder / "app" / "Dockerfile").write_text(dockerfile(value))
    out = tighten("fix", "--select", "DF004", "--format", "json", "--secrets-dir", "sec", ".",
                  cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert OLD not in out.stdout + out.stderr and NEW not in out.stdout + out.stderr
    findings = {f["path"]: f["fix"]["title"] for f in json.loads(out.stdout)}
    for folder, value in (("a", OLD), ("b", NEW)):
        name = f"{folder}-app-secrets"
        assert name in findings[f"{folder}/app/Dockerfile"]  # the source names its own Secret
        stored = secrets_in(tmp_path / "sec" / f"{name}.secret.yaml")
        assert stored == {(name, None): {"DB_PASSWORD": value}}


@pytest.mark.parametrize("namespaces", [("x", "y"), (None, None)])
def test_workloads_of_the_same_name_keep_their_values(
    tmp_path: Path, namespaces: tuple[str | None, str | None]
) -> None:
    values = {"x": OLD, "y": NEW}
    for folder, namespace in zip(("x", "y"), namespaces, strict=True):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "deploy.yaml").write_text(deployment(namespace, values[folder]))
    out = tighten("fix", "--select", "K8S004", "--secrets-dir", "sec", ".", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert OLD not in out.stdout + out.stderr and NEW not in out.stdout + out.stderr
    files = {path.name: secrets_in(path) for path in (tmp_path / "sec").iterdir()}
    for folder, namespace in zip(("x", "y"), namespaces, strict=True):
        manifest = yaml.safe_load((tmp_path / folder / "deploy.yaml").read_text())
        (env,) = manifest["spec"]["template"]["spec"]["containers"][0]["env"]
        ref = env["valueFrom"]["secretKeyRef"]
        # the Secret that the source now references holds its own value
        secret = files[f"{folder}-deploy.secrets.yaml"][(ref["name"], namespace)]
        assert secret[ref["key"]] == values[folder]


def test_a_rerun_with_a_new_value_leaves_the_source_untouched(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    source = tmp_path / "web" / "Dockerfile"
    source.write_text(dockerfile(OLD))
    assert tighten("fix", "--select", "DF004", ".", cwd=tmp_path).returncode == 0
    source.write_text(dockerfile(NEW))  # the value was rotated and written in again
    out = tighten("fix", "--select", "DF004", ".", cwd=tmp_path)
    assert out.returncode == 2
    assert "'DB_PASSWORD'" in out.stderr and "different value" in out.stderr
    assert OLD not in out.stdout + out.stderr and NEW not in out.stdout + out.stderr
    assert source.read_text() == dockerfile(NEW)
    stored = secrets_in(tmp_path / "web" / "web-secrets.secret.yaml")
    assert stored == {("web-secrets", None): {"DB_PASSWORD": OLD}}


# ----------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("deploy.secrets.yaml", "deploy.secrets.yaml"),
        ("de\nploy\x1b[31m.secrets.yaml", "de-ploy-31m.secrets.yaml"),
        ("../x.secrets.yaml", "..-x.secrets.yaml"),
        ("d\u00e9ploy.secrets.yaml", "d-ploy.secrets.yaml"),
    ],
)
def test_generated_file_names_are_safe(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected
    assert len(safe_file_name("x" * 400 + ".secrets.yaml")) <= 255


def test_a_control_character_in_a_manifest_name_does_not_reach_the_secret_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "de\x1b[2Jploy\n.yaml").write_text(deployment(None, OLD))
    out = tighten("fix", "--select", "K8S004", ".", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    generated = sorted(p.name for p in tmp_path.iterdir() if "secrets" in p.name)
    assert generated == ["de-2Jploy-.secrets.yaml"]
