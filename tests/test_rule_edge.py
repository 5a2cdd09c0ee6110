"""Rules carry their knowledge and reach the engine from the edge (issue 12.1)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixer.output.docs import rule_doc
from fixer.pr.remediation import Item, Remediation
from fixer.rule import Severity
from fixer.ruleset import RuleLoadError, RuleSet
from rules import all_rules
from tests.helpers import RULES

ROOT = Path(__file__).resolve().parent.parent
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_fixer_imports_nothing_from_rules() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "fixer").rglob("*.py"))
        if any(m == "rules" or m.startswith("rules.") for m in _imports(p))
    ]
    assert offenders == []


def test_rules_leave_suppression_to_the_engine() -> None:
    """No rule filters its own findings (TGT001 may read the pragma grammar to judge it)."""
    offenders = [
        p.name
        for p in sorted((ROOT / "rules").glob("*.py"))
        if "Suppressions" in p.read_text() and "fixer.suppress" in _imports(p)
    ]
    assert offenders == []


def test_the_cli_loads_every_rule_through_the_entry_point() -> None:
    assert [r.id for r in RULES] == sorted(r.id for r in all_rules())


@pytest.mark.parametrize("rule", list(RULES), ids=lambda r: r.id)
def test_each_rule_carries_its_metadata(rule: object) -> None:
    from fixer.rule import Rule

    assert isinstance(rule, Rule)
    assert isinstance(rule.severity, Severity)
    # GitHub reads 7.0 and more as high or critical: those are the rules reported as errors.
    assert (rule.security_severity >= 7.0) == (rule.severity is Severity.ERROR)
    assert rule.risk or rule_doc(rule).fix_safety
    assert rule.moves_secrets == (rule.id in ("DF004", "K8S004"))


def test_rules_are_found_by_id_name_and_peer_alias() -> None:
    assert RULES.find("df001") is RULES.find("non-root-user") is RULES.find("DL3002")
    assert RULES.find("CKV_K8S_38") is RULES.find("K8S006")
    assert RULES.find("nope") is None


def test_two_rules_with_one_id_are_refused() -> None:
    rule = RULES.rules[0]
    with pytest.raises(RuleLoadError, match=rule.id):
        RuleSet((rule, type(rule)()))


def _tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.mark.slow  # CLI processes
def test_explain_takes_a_peer_check_id(tmp_path: Path) -> None:
    done = _tighten("explain", "DL3002", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\n# DF001 non-root-user: " in done.stdout


@pytest.mark.slow  # CLI processes
def test_k8s006_is_opt_in_and_selected_by_its_id_only(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    for flags in ([], ["--select", "K8S"], ["--ignore", "K8S006"]):
        done = _tighten("check", *flags, "pod.yaml", cwd=tmp_path)
        assert "K8S006" not in done.stdout + done.stderr, flags
    done = _tighten("check", "--select", "K8S006", "pod.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == "pod.yaml:5: K8S006 Pod/web mounts its service account token\n"
    done = _tighten("fix", "--select", "k8s006", "pod.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pod.yaml").read_text() == POD + "  automountServiceAccountToken: false\n"


@pytest.mark.slow  # CLI processes
def test_sarif_describes_an_opt_in_rule_only_when_selected(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD)

    def described(*flags: str) -> list[str]:
        done = _tighten("check", "--format", "sarif", *flags, "pod.yaml", cwd=tmp_path)
        driver = json.loads(done.stdout)["runs"][0]["tool"]["driver"]
        return [r["id"] for r in driver["rules"]]

    assert "K8S006" not in described()
    assert "K8S001" in described("--select", "K8S006")
    assert "K8S006" in described("--select", "K8S006")


def test_pull_request_notes_come_from_the_rule() -> None:
    from fixer.pr.body import body, commit_message

    rem = Remediation(
        tree="0" * 40,
        fixed=(
            Item("K8S004", "k8s/pod.yaml", 3, "move the value to a Secret"),
            Item("K8S006", "k8s/pod.yaml", 5, "set automountServiceAccountToken: false"),
        ),
        unfixed=(),
        errors=(),
        review=frozenset({"K8S006"}),
        secret_files=(),
        moved_secrets=False,
        masks=frozenset(),
    )
    text = body(rem, RULES)
    k8s004, k8s006 = RULES.find("K8S004"), RULES.find("K8S006")
    assert k8s004 is not None and k8s006 is not None
    assert f"**K8S004** secret-in-env: {k8s004.risk}" in text
    # No risk text of its own: the Fix safety section of its docs speaks for it.
    assert f"(needs review): {rule_doc(k8s006).fix_safety}" in text
    assert "- K8S006 automount-service-account-token: 1 fix\n" in commit_message(rem, RULES)
