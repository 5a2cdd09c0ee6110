"""Machine output (issue 15): errors in JSON and SARIF, SARIF fingerprints, GitHub levels,
the empty-selection warning, configurable exit codes, on-disk lines in every format."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixer.mode import Mode
from fixer.model import Edit
from fixer.output.docs import explain, table
from fixer.output.ondisk import origin_offset
from fixer.session import Session
from fixer.settings import Settings
from tests.helpers import RULES
from tests.test_sarif import assert_valid

SECRET = "Zq8-hunter2-Kx5wP0u9-vRt"
#: Container "a" gets a securityContext inserted above container "b"; "b"'s image cannot be
#: pinned offline (no lockfile), so its K8S003 finding stays open: on disk it is on line 10.
POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: a
      image: busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111
    - name: b
      image: nginx:latest
      securityContext:
        privileged: true
"""
IMAGE_LINE = 10
DOCKERFILE = "FROM debian:bookworm-slim\nCOPY app /app\n"  # DF001 only (severity warning)
BROKEN = "apiVersion: v1\nkind: Pod\nspec: [unclosed\n"


def session(
    mode: str, paths: list[str], fmt: str = "text", **settings: Any
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    run = Session(
        Settings.of(offline=True, **settings), Mode(mode), fmt=fmt, out=out, err=err, rules=RULES
    )
    code = run.execute(paths)
    return code, out.getvalue(), err.getvalue()


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ----------------------------------------------------------------------------- errors


def test_json_is_a_versioned_object_that_carries_errors(here: Path) -> None:
    (here / "good.yaml").write_text(POD)
    (here / "broken.yaml").write_text(BROKEN)
    code, out, _ = session("check", ["."], fmt="json")
    doc = json.loads(out)
    assert code == 2
    assert doc["version"] == 2
    assert doc["tool"]["name"] == "tighten" and doc["tool"]["version"]
    assert doc["command"] == "check"
    [error] = doc["errors"]
    assert error["path"] == "broken.yaml" and error["message"]
    assert {f["rule"] for f in doc["findings"]} >= {"K8S001", "K8S003"}
    assert {"rule", "path", "line", "column", "message", "fixable"} <= doc["findings"][0].keys()
    summary = doc["summary"]
    assert summary["errors"] == 1 and summary["exit_code"] == 2
    assert summary["findings"] == len(doc["findings"])


def test_sarif_reports_errors_and_is_valid(here: Path) -> None:
    (here / "good.yaml").write_text(POD)
    (here / "broken.yaml").write_text(BROKEN)
    code, out, _ = session("check", ["."], fmt="sarif")
    log = json.loads(out)
    assert_valid(log)
    [run] = log["runs"]
    [invocation] = run["invocations"]
    assert code == 2 and invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"]
    where = note["locations"][0]["physicalLocation"]["artifactLocation"]
    assert where["uri"] == "broken.yaml"
    assert run["automationDetails"]["id"] == "tighten/check/"
    assert run["results"] and all("partialFingerprints" in r for r in run["results"])


def test_sarif_of_a_clean_run_is_successful(here: Path) -> None:
    (here / "Dockerfile").write_text(DOCKERFILE)
    _, out, _ = session("fix", ["."], fmt="sarif", select=frozenset({"DF001"}))
    log = json.loads(out)
    assert_valid(log)
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True
    assert log["runs"][0]["automationDetails"]["id"] == "tighten/fix/"


def _fingerprints(out: str) -> list[tuple[str, str]]:
    results = json.loads(out)["runs"][0]["results"]
    return [(r["ruleId"], r["partialFingerprints"]["tighten/v1"]) for r in results]


def test_fingerprints_survive_line_shifts_and_tell_equal_lines_apart(here: Path) -> None:
    (here / "pod.yaml").write_text(POD)
    before = _fingerprints(session("check", ["."], fmt="sarif")[1])
    (here / "pod.yaml").write_text("# a comment\n# and another\n" + POD)
    after = _fingerprints(session("check", ["."], fmt="sarif")[1])
    assert sorted(before) == sorted(after)
    assert len({fp for _, fp in before}) == len(before)  # unique, also on one line


def test_fingerprints_hash_the_masked_line(here: Path) -> None:
    """Two runs that differ only in the secret's value give the same fingerprint: the hash
    never saw the value."""
    pod = POD.replace(
        "      securityContext:",
        f"      env:\n        - name: DB_PASSWORD\n          value: {SECRET}\n      securityContext:",
    )
    (here / "pod.yaml").write_text(pod)
    select = {"select": frozenset({"K8S004"})}
    first = _fingerprints(session("check", ["."], fmt="sarif", **select)[1])
    (here / "pod.yaml").write_text(pod.replace(SECRET, "other-Value-42-xyzzy-Qw"))
    second = _fingerprints(session("check", ["."], fmt="sarif", **select)[1])
    assert first and first == second
    clear = hashlib.sha256(SECRET.encode()).hexdigest()
    assert clear[:32] not in json.dumps(first)


# ----------------------------------------------------------------------------- github


def test_github_levels_follow_what_fails_the_run(here: Path) -> None:
    (here / "Dockerfile").write_text(DOCKERFILE)  # DF001: warning
    (here / "pod.yaml").write_text(POD)  # K8S001: error
    (here / "broken.yaml").write_text(BROKEN)
    _, out, _ = session("check", ["."], fmt="github")
    kinds = {line.split(" ", 1)[0] for line in out.splitlines()}
    assert kinds == {"::error"}  # by default every finding fails the run
    assert "::error file=broken.yaml,title=tighten::" in out
    _, out, _ = session("check", ["."], fmt="github", failure_threshold="error")
    assert re.search(r"^::warning file=Dockerfile,line=1,col=1,title=DF001::", out, re.M)
    assert re.search(r"^::error file=pod.yaml,line=12,col=\d+,title=K8S001::", out, re.M)
    assert re.search(r"^::warning file=pod.yaml,line=10,col=\d+,title=K8S003::", out, re.M)
    _, out, _ = session("check", ["Dockerfile"], fmt="github", exit_zero=True)
    assert out.startswith("::warning file=Dockerfile,line=1,")


# ----------------------------------------------------------------------------- empty


def test_an_empty_selection_is_a_warning_everywhere(here: Path) -> None:
    (here / "notes.txt").write_text("nothing to see\n")
    code, _, err = session("check", ["."])
    assert code == 0  # as ruff: "No Python files found" warns and exits 0
    assert "warning: no Dockerfile or Kubernetes manifest found" in err
    _, out, _ = session("check", ["."], fmt="json")
    doc = json.loads(out)
    assert doc["findings"] == [] and doc["errors"] == []
    assert {
        "path": None,
        "message": "no Dockerfile or Kubernetes manifest found",
        "level": "warning",
    } in doc["notices"]
    _, out, _ = session("check", ["."], fmt="sarif")
    log = json.loads(out)
    assert_valid(log)
    [note] = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "warning" and "no Dockerfile" in note["message"]["text"]
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True
    _, out, _ = session("check", ["."], fmt="github")
    assert out.startswith("::warning title=tighten::no Dockerfile")


# ----------------------------------------------------------------------------- exit codes


def test_failure_threshold_and_exit_zero_decide_the_exit_code(here: Path) -> None:
    (here / "Dockerfile").write_text(DOCKERFILE)  # DF001 is a warning
    assert session("check", ["Dockerfile"])[0] == 1
    assert session("check", ["Dockerfile"], failure_threshold="warning")[0] == 1
    assert session("check", ["Dockerfile"], failure_threshold="error")[0] == 0
    assert session("check", ["Dockerfile"], failure_threshold="none")[0] == 0
    assert session("check", ["Dockerfile"], exit_zero=True)[0] == 0
    (here / "pod.yaml").write_text(POD)  # K8S001 is an error
    assert session("check", ["pod.yaml"], failure_threshold="error")[0] == 1
    assert session("dry-run", ["Dockerfile"], failure_threshold="error")[0] == 0
    assert session("dry-run", ["Dockerfile"])[0] == 1  # a diff fails the dry run, as before
    (here / "broken.yaml").write_text(BROKEN)
    assert session("check", ["broken.yaml", "Dockerfile"], exit_zero=True)[0] == 2


def test_exit_flags_and_config_keys(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    assert cli(tmp_path, "check", "--exit-zero", "Dockerfile").returncode == 0
    done = cli(tmp_path, "check", "--failure-threshold", "error", "Dockerfile")
    assert done.returncode == 0, done.stderr
    assert cli(tmp_path, "check", "--failure-threshold", "loud", "Dockerfile").returncode == 2
    (tmp_path / ".tighten.toml").write_text('failure-threshold = "error"\n')
    assert cli(tmp_path, "check", "Dockerfile").returncode == 0
    (tmp_path / ".tighten.toml").write_text("exit-zero = true\n")
    assert cli(tmp_path, "check", "Dockerfile").returncode == 0
    (tmp_path / ".tighten.toml").write_text('exit-zero = "yes"\n')
    assert cli(tmp_path, "check", "Dockerfile").returncode == 2


def test_rules_and_explain_state_each_rules_severity() -> None:
    listing = table(RULES.rules)
    assert "SEVERITY" in listing.splitlines()[0]
    for rule in RULES.rules:
        row = next(line for line in listing.splitlines() if line.startswith(rule.id + " "))
        assert f" {rule.severity.value} " in row
        assert f"\nSeverity: {rule.severity.value}.\n" in explain(rule)


# ----------------------------------------------------------------------------- on-disk lines


def test_origin_offset_maps_back_through_edits() -> None:
    old = "a\nb\nc\n"
    edits = (Edit.insert(2, "x\ny\n"), Edit.replace(4, 5, "CC"))
    new = "a\nx\ny\nb\nCC\n"
    assert origin_offset(new.index("b"), edits) == old.index("b")
    assert origin_offset(new.index("CC"), edits) == old.index("c")
    assert origin_offset(new.index("x"), edits) == 2  # inside inserted text: its start
    assert origin_offset(len(new), edits) == len(old)
    assert origin_offset(0, edits) == 0


def _lines_for(rule: str, fmt: str, out: str, err: str) -> set[int]:
    if fmt == "text":
        return {int(m) for m in re.findall(rf"^pod\.yaml:(\d+): {rule} ", err + out, re.M)}
    if fmt == "github":
        return {int(m) for m in re.findall(rf"line=(\d+),col=\d+,title={rule}::", out)}
    if fmt == "json":
        return {f["line"] for f in json.loads(out)["findings"] if f["rule"] == rule}
    results = json.loads(out)["runs"][0]["results"]
    return {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in results
        if r["ruleId"] == rule and r.get("kind") != "pass"
    }


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_dry_run_gives_on_disk_lines_after_a_fix_shifts_them(here: Path, fmt: str) -> None:
    (here / "pod.yaml").write_text(POD)
    _, out, err = session("dry-run", ["pod.yaml"], fmt=fmt)
    assert _lines_for("K8S003", fmt, out, err) == {IMAGE_LINE}
    assert (here / "pod.yaml").read_text() == POD
    if fmt == "json":  # fixed in the second pass (after K8S001): still where it is on disk
        fixed = {f["line"] for f in json.loads(out)["findings"] if f.get("fixed")}
        assert fixed == {7, 9, 12}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_fix_gives_lines_of_the_rewritten_file(here: Path, fmt: str) -> None:
    """After ``fix`` the file on disk is the fixed one: open findings point into it."""
    (here / "pod.yaml").write_text(POD)
    _, out, err = session("fix", ["pod.yaml"], fmt=fmt)
    written = (here / "pod.yaml").read_text().splitlines()
    [line] = _lines_for("K8S003", fmt, out, err)
    assert written[line - 1].strip() == "image: nginx:latest"
