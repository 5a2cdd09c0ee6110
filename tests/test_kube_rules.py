"""Kubernetes rules beyond the golden pairs: schema validity, image users, profiles."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fixer.documents.text import SourceText
from fixer.engine import process_text
from fixer.rule import Resolution
from fixer.settings import Settings
from tests.helpers import RULES
from tests.kube_schema import objects, schema_errors

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KUBE_AFTERS = sorted(
    p for rule in ("K8S001", "K8S002", "K8S005") for p in (FIXTURES / rule).glob("*.after.yaml")
)


@pytest.mark.parametrize("after", KUBE_AFTERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixed_manifests_add_no_schema_error(after: Path) -> None:
    before = after.with_name(after.name.replace(".after.", ".before."))
    old = objects(list(yaml.safe_load_all(before.read_text())))
    new = objects(list(yaml.safe_load_all(after.read_text())))
    assert len(old) == len(new)
    for o, n in zip(old, new, strict=True):
        assert schema_errors(n) <= schema_errors(o), schema_errors(n) - schema_errors(o)


POD = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: registry.example/app:1
"""


def _fix(
    text: str, resolutions: dict[str, Resolution] | None = None, **settings: object
) -> tuple[str, list[str]]:
    result = process_text(
        Path("p.yaml"),
        "kubernetes",
        SourceText(text),
        Settings.of(select=frozenset({"K8S002"}), **settings),
        rules=RULES,
        fix=True,
        resolutions=resolutions or {},
    )
    assert result.error is None
    return result.text, [f.message for f in result.found]


def test_image_running_as_a_name_gets_a_numeric_user() -> None:
    answers = {"registry.example/app:1": Resolution(user="www-data")}
    text, messages = _fix(POD, answers, uid=2000, gid=3000, unsafe_fixes=True)
    container = yaml.safe_load(text)["spec"]["containers"][0]
    assert container["securityContext"]["runAsUser"] == 2000
    assert container["securityContext"]["runAsGroup"] == 3000
    assert any("offers runAsUser 2000 because the image runs as www-data" in m for m in messages)


def test_image_without_user_counts_as_root() -> None:
    answers = {"registry.example/app:1": Resolution(user="")}
    text, messages = _fix(POD, answers, unsafe_fixes=True)
    assert yaml.safe_load(text)["spec"]["containers"][0]["securityContext"]["runAsUser"] == 10001
    assert any("root (no USER)" in m for m in messages)


def test_image_with_numeric_user_needs_nothing_more() -> None:
    text, messages = _fix(POD, {"registry.example/app:1": Resolution(user="65532:65532")})
    assert "runAsUser" not in text
    assert "config was not read" not in messages[0]


def test_unknown_image_user_is_noted() -> None:
    settings = Settings.of(select=frozenset({"K8S002"}))
    result = process_text(
        Path("p.yaml"),
        "kubernetes",
        SourceText(POD),
        settings,
        rules=RULES,
        fix=False,
        resolutions={},
    )
    needs = [f.fix.needs for f in result.found if f.fix is not None and f.fix.needs]
    assert any("the image's numeric user (its config was not read)" in n for n in needs)


def test_baseline_profile_leaves_restricted_fields_alone() -> None:
    text, messages = _fix(POD, profile="baseline")
    assert text == POD and messages == []


def test_profile_flag_on_the_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "pod.yaml").write_text(POD)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fixer",
            "fix",
            "--profile",
            "strict",
            "--unsafe-fixes",
            "--select",
            "K8S002",
            "pod.yaml",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    data = yaml.safe_load((tmp_path / "pod.yaml").read_text())
    assert data["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert data["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {}}]


def test_each_document_of_a_bundle_keeps_its_own_sequence_style() -> None:
    """contour's examples/render/*.yaml concatenate source files written in two styles; its
    CI renders them again and diffs: an edit of the bundle must be the edit of the source.
    The second document writes ``- ALL`` flush with ``drop:``, as its own lists are."""
    indented = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: |\n    y\n"
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n"
        "    - port: 80\n  externalIPs:\n    - 10.0.0.1\n  ipFamilies:\n    - IPv4\n"
    )
    flush = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n"
        "    spec:\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 1000\n"
        "      containers:\n      - name: c\n        image: nginx:1.27\n        ports:\n"
        "        - containerPort: 8080\n        args:\n        - serve\n"
    )
    alone, _ = _fix(flush)
    bundled, _ = _fix(indented + "---\n" + indented + "---\n" + flush)
    assert "            drop:\n            - ALL\n" in alone
    assert bundled.endswith(alone)
