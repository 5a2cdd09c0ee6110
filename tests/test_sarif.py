"""``--format sarif`` (validated against the SARIF 2.1.0 schema) and ``--format github``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fixer.documents.text import SourceText
from fixer.engine import FileResult
from fixer.mode import Mode
from fixer.model import Edit, Finding, Fix, Span
from fixer.output import github, sarif
from tests.helpers import RULES

SCHEMA = Path(__file__).resolve().parent / "data" / "schemas" / "sarif-schema-2.1.0.json"
SECRET = "Zq8-hunter2-Kx5wP0u9-vRt"
DOCKERFILE = 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n'
POD = f"""apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: nginx:1.27
    env:
    - name: DB_PASSWORD
      value: "{SECRET}"
    securityContext:
      privileged: true  # keep this comment
"""


@cache
def validator() -> Any:
    return jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))


def assert_valid(log: dict[str, Any]) -> None:
    errors = sorted(validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [(list(e.path), e.message[:200]) for e in errors[:5]]


def tighten(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(POD)
    return tmp_path


def apply(text: str, replacements: list[dict[str, Any]]) -> str:
    """Apply SARIF replacements by character offset (last first)."""
    for change in sorted(replacements, key=lambda r: -r["deletedRegion"]["charOffset"]):
        region = change["deletedRegion"]
        start, end = region["charOffset"], region["charOffset"] + region["charLength"]
        text = text[:start] + change["insertedContent"]["text"] + text[end:]
    return text


def offset_of(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1


# ----------------------------------------------------------------------------- sarif


def test_check_sarif_is_valid_and_carries_rules_locations_and_fixes(project: Path) -> None:
    out = tighten(project, "check", "--format", "sarif")
    assert out.returncode == 1, out.stderr
    log = json.loads(out.stdout)
    assert_valid(log)
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "tighten" and driver["version"] and driver["informationUri"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    df001 = rules["DF001"]
    assert df001["name"] == "non-root-user"
    assert "## Fix safety" in df001["fullDescription"]["text"]
    assert df001["shortDescription"]["text"] and df001["helpUri"].startswith("https://")
    assert "security" in df001["properties"]["tags"]
    results = {r["ruleId"]: r for r in run["results"]}
    assert {"DF001", "K8S001"} <= set(results)
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("warning", "error")
    location = results["K8S001"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "k8s/pod.yaml", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 13
    assert SECRET not in out.stdout


def test_sarif_fixes_reproduce_tighten_fix(project: Path) -> None:
    log = json.loads(tighten(project, "check", "--format", "sarif").stdout)
    pod = (project / "k8s" / "pod.yaml").read_text()
    [k8s001] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "K8S001"]
    [fix] = k8s001["fixes"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "k8s/pod.yaml"
    for replacement in change["replacements"]:  # line/column and offsets agree
        region = replacement["deletedRegion"]
        start = offset_of(pod, region["startLine"], region["startColumn"])
        assert start == region["charOffset"]
        end = offset_of(pod, region["endLine"], region["endColumn"])
        assert end - start == region["charLength"]
    suggested = apply(pod, change["replacements"])
    fixed = tighten(project, "fix", "--select", "K8S001", "--offline", "-q")
    assert fixed.returncode == 0, fixed.stderr
    assert suggested == (project / "k8s" / "pod.yaml").read_text()
    assert "privileged: false  # keep this comment" in suggested


def test_fix_sarif_lists_remaining_and_fixed(project: Path) -> None:
    out = tighten(project, "fix", "--format", "sarif", "--offline", "--select", "DF001,K8S001")
    assert out.returncode == 0, out.stderr
    log = json.loads(out.stdout)
    assert_valid(log)
    results = log["runs"][0]["results"]
    assert results and all(r["kind"] == "pass" and r["level"] == "none" for r in results)
    assert all(r["properties"]["fixed"] for r in results)
    assert "USER 10001:10001" in (project / "Dockerfile").read_text()


def test_dry_run_sarif_suggests_without_writing(project: Path) -> None:
    out = tighten(project, "fix", "--dry-run", "--format", "sarif", "--offline")
    log = json.loads(out.stdout)
    assert_valid(log)
    assert any("fixes" in r for r in log["runs"][0]["results"])
    assert (project / "Dockerfile").read_text() == DOCKERFILE
    assert SECRET not in out.stdout and SECRET not in out.stderr


def _result_with_secret(path: Path) -> FileResult:
    text = f"ENV TOKEN={SECRET}\n"
    fix = Fix(f"move {SECRET}", (Edit.replace(4, len(text) - 1, f"TOKEN={SECRET}x"),))
    finding = Finding(
        "DF004",
        path,
        1,
        f"TOKEN holds {SECRET}",
        span=Span(4, len(text) - 1),
        fix=fix,
        masks=(SECRET,),
    )
    return FileResult(path, "dockerfile", SourceText(text), text, found=[finding])


def test_secret_values_are_masked_everywhere(tmp_path: Path) -> None:
    result = _result_with_secret(tmp_path / "Dockerfile")
    log = sarif.log(sarif.result_objects(result, Mode.CHECK, rules=RULES), RULES.rules)
    assert_valid(log)
    text = json.dumps(log)
    assert SECRET not in text and "***" in text
    assert SECRET not in github.workflow_commands(result, Mode.CHECK)


def test_absolute_paths_outside_the_folder_become_file_uris(tmp_path: Path) -> None:
    outside = Path("/") / "nonexistent-dir" / "a b" / "Dockerfile"
    result = _result_with_secret(outside)
    [item] = sarif.result_objects(result, Mode.CHECK, rules=RULES)
    location = item["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "file:///nonexistent-dir/a%20b/Dockerfile"}


# ----------------------------------------------------------------------------- github


def test_github_annotations_for_check_and_fix(project: Path) -> None:
    out = tighten(project, "check", "--format", "github")
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("::error file=Dockerfile,line=1,col=1,title=DF001::final stage")
    assert any(line.startswith("::error file=k8s/pod.yaml,line=13,") for line in lines)
    assert all(line.startswith("::") for line in lines)
    assert SECRET not in out.stdout
    fixed = tighten(project, "fix", "--format", "github", "--offline", "--select", "DF001")
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.startswith("::notice file=Dockerfile,line=1,col=1,title=DF001::")
    assert "(fixed: " in fixed.stdout


def test_github_reports_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    out = tighten(tmp_path, "check", "--format", "github", "bad.yaml")
    assert out.returncode == 2
    assert out.stdout.startswith("::error file=bad.yaml,title=tighten::")


def test_github_escaping() -> None:
    assert github.escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = github.command("warning", "x\n::error::injected", file="we,ird:name", line=3)
    assert line == "::warning file=we%2Cird%3Aname,line=3::x%0A::error::injected\n"
    assert line.count("\n") == 1
