"""Judgement in the engine, the outputs and the run (issue 13).

* A withheld fix (UNPROVEN, not applied) is an open finding in every output: text and
  terminal say "(fix withheld: needs ...)", JSON ``fix.applied``/``fix.needs``, SARIF keeps
  ``fixes`` for applied kinds only and puts ``withheld``/``needs`` in the property bag, the
  GitHub annotation says it, the summary counts it, the exit code is 1, the PR body lists it.
* The repository model is built once per run, only when an enabled rule needs it, and
  reaches every rule's context, in forked workers too.
* Discovery skips what is not the user's source (test data, vendored, generated, Kustomize
  patches) with one notice per place; ``--include-generated`` / ``include-generated`` opt in;
  named files are always checked.

The repository is ``fixtures/repos/sourceonly`` (see its README). The rule that needs the
repository is a real rule defined here (no shipped rule sets ``needs_repository`` yet): it
marks the images the repository builds, with a PROVEN fix when the model shows the build and
an UNPROVEN one, saying what it needs, when it does not.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixer import parallel
from fixer.documents.yaml import YamlFile
from fixer.mode import Mode
from fixer.model import Edit, Finding, Safety, Span
from fixer.rule import Context, Rule
from fixer.ruleset import RuleSet, installed
from fixer.session import Session
from fixer.settings import Settings

REPO = Path(__file__).resolve().parent.parent / "fixtures" / "repos" / "sourceonly"
TIGHTEN = [sys.executable, "-m", "fixer"]
SIDECAR_NEEDS = "a Dockerfile in this repository that builds ghcr.io/acme/sidecar"
WITHHELD = f"(fix withheld: needs {SIDECAR_NEEDS})"
_IMAGE = re.compile(r"^\s*(?:- )?image: (\S+)$", re.MULTILINE)


class BuiltHere(Rule[YamlFile]):
    """Container image not marked as built here.

    ## What it does
    Marks each container image with the build that produces it (a test rule).

    ## Why is this bad?
    It is not; it exercises repository evidence.

    ## Example
    ```yaml
    image: web
    ```
    ```yaml
    image: web  # built here
    ```

    ## Fix safety
    Proven when the repository builds the image, else withheld.
    """

    id = "TST901"
    name = "built-here"
    target = "kubernetes"
    summary = "image -> marked as built here"
    safety = Safety.PROVEN
    needs_repository = True

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        model = ctx.evidence.repository
        for match in _IMAGE.finditer(ctx.text):
            image = match.group(1)
            name = image.rsplit(":", 1)[0]
            span = Span(match.start(1), match.end(1))
            edit = Edit.insert(match.end(1), "  # built here")
            builds = model.builds_for(name) if model is not None else []
            if builds:
                origin = builds[0].origin
                proof = (
                    f"built by {builds[0].dockerfile.name} ({origin.path.name}:{origin.line})",
                )
                fix = ctx.finding(self, span, "mark", edits=[edit]).fix
                assert fix is not None
                from dataclasses import replace

                fix = replace(fix, evidence=proof)
            else:
                from fixer.model import Fix

                fix = Fix(
                    "mark",
                    (edit,),
                    Safety.UNPROVEN,
                    needs=f"a Dockerfile in this repository that builds {name}",
                )
            yield ctx.finding(self, span, f"image {image} not marked", fix=fix)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the fixture repository, as a git work tree (its root is the model's)."""
    copy = tmp_path / "sourceonly"
    shutil.copytree(REPO, copy)
    (copy / ".git").mkdir()
    return copy


#: The shipped rules and ``BuiltHere``, handed to the session as the CLI hands its rules
#: (forked workers inherit them).
RULES = RuleSet((*installed().rules, BuiltHere()))


def _session(
    mode: str, paths: list[str], *, fmt: str = "text", **settings: Any
) -> tuple[int, str, str, Session]:
    out, err = io.StringIO(), io.StringIO()
    session = Session(Settings.of(**settings), Mode(mode), fmt=fmt, out=out, err=err, rules=RULES)
    code = session.execute(paths)
    return code, out.getvalue(), err.getvalue(), session


TST = frozenset({"TST901"})
# --- withheld fixes in every output ---------------------------------------------------------


@pytest.mark.parametrize("workers", ["0", "2"])
def test_the_repository_model_reaches_every_rule_also_in_workers(
    repo: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv(parallel.WORKERS_ENV, workers)
    monkeypatch.chdir(repo)
    code, out, err, session = _session("fix", ["."], select=TST)
    assert session.repository is not None
    assert session.repository.root == repo
    text = (repo / "deploy" / "app.yaml").read_text()
    assert "image: ghcr.io/acme/web:1.0  # built here\n" in text  # proven: the Makefile builds it
    assert "image: ghcr.io/acme/sidecar:2.0\n" in text  # withheld: nothing builds it
    assert f"deploy/app.yaml:20: TST901 image ghcr.io/acme/sidecar:2.0 not marked {WITHHELD}" in out
    assert "1 withheld" in err
    assert code == 1  # a withheld finding is still open


def test_unsafe_fixes_applies_the_withheld_fix(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    code, out, err, _ = _session("fix", ["."], select=TST, unsafe_fixes=True)
    assert (
        "image: ghcr.io/acme/sidecar:2.0  # built here\n" in (repo / "deploy/app.yaml").read_text()
    )
    assert "withheld" not in out + err
    assert code == 0


def test_check_and_dry_run_say_withheld_and_exit_1(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    code, out, err, _ = _session("check", ["deploy/app.yaml"], select=TST)
    assert code == 1
    assert out.count("fix withheld") == 1 and WITHHELD in out
    # Only a withheld fix left: --dry-run changes nothing and still reports it open.
    (repo / "deploy" / "app.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        "    - name: s\n      image: ghcr.io/acme/sidecar:2.0\n"
    )
    code, out, err, _ = _session("dry-run", ["deploy/app.yaml"], select=TST)
    assert out == ""  # no diff
    assert WITHHELD in err
    assert "1 withheld" in err
    assert code == 1


def test_json_says_applied_needs_and_evidence(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    _, out, _, _ = _session("dry-run", ["deploy/app.yaml"], select=TST, fmt="json")
    fixes = {item["line"]: item["fix"] for item in json.loads(out)["findings"]}
    assert fixes[16] == {
        "title": "mark",
        "safety": "proven",
        "applied": True,
        "evidence": ["built by Dockerfile (Makefile:4)"],
    }
    assert fixes[20] == {
        "title": "mark",
        "safety": "unproven",
        "applied": False,
        "needs": SIDECAR_NEEDS,
    }


def test_sarif_suggests_only_fixes_that_would_be_applied(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    _, out, _, _ = _session("check", ["deploy/app.yaml"], select=TST, fmt="sarif")
    results = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]: r
        for r in json.loads(out)["runs"][0]["results"]
    }
    proven, withheld = results[16], results[20]
    assert proven["fixes"] and "withheld" not in proven["properties"]
    assert proven["properties"]["evidence"] == ["built by Dockerfile (Makefile:4)"]
    assert "fixes" not in withheld
    assert withheld["properties"] == {
        "fixable": True,
        "fixSafety": "unproven",
        "withheld": True,
        "needs": SIDECAR_NEEDS,
    }
    assert withheld["message"]["text"].endswith(WITHHELD)


def test_github_annotation_says_what_the_fix_needs(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    _, out, _, _ = _session("fix", ["deploy/app.yaml"], select=TST, fmt="github")
    [withheld] = [line for line in out.splitlines() if line.startswith("::error")]
    assert "line=20" in withheld
    assert withheld.endswith("::image ghcr.io/acme/sidecar:2.0 not marked " + WITHHELD)
    assert "(fixed: mark)" in out  # the proven one is a notice


def test_terminal_shows_withheld_instead_of_fixable(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("FORCE_COLOR", "1")  # grouped and coloured, as for a person
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, _, _ = _session("check", ["deploy/app.yaml"], select=TST)
    [proven, withheld] = [line for line in out.splitlines() if "TST901" in line]
    assert "[fixable]" in proven
    assert "[fixable]" not in withheld and WITHHELD in withheld


def test_the_pull_request_body_has_a_withheld_table(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fixer.pr.body import body, fixset
    from fixer.pr.remediation import Remediation, _Collector

    monkeypatch.chdir(repo)
    collector = _Collector(repo, safe_only=False, start=repo, secret_rules=frozenset())
    session = Session(
        Settings.of(select=TST),
        Mode.DRY_RUN,
        out=io.StringIO(),
        err=io.StringIO(),
        observe=collector,
        rules=RULES,
    )
    session.execute(["."])
    rem = Remediation(
        tree="0" * 40,
        fixed=tuple(collector.fixed),
        unfixed=tuple(collector.unfixed),
        errors=(),
        review=frozenset(collector.review),
        secret_files=(),
        moved_secrets=False,
        masks=frozenset(),
        withheld=tuple(collector.withheld),
    )
    text = body(rem, RULES)
    assert "### Withheld" in text
    assert f"| TST901 | `deploy/app.yaml` | 20 | mark | {SIDECAR_NEEDS} |" in text
    assert (
        "| TST901 | `deploy/app.yaml` | 16 | mark (proven by: built by Dockerfile (Makefile:4)) |"
        in text
    )
    assert rem.unfixed == ()  # withheld is not "not fixable"
    # Withheld fixes are not part of the fix set: providing the evidence later changes it.
    assert fixset(rem) == fixset(Remediation(**{**rem.__dict__, "withheld": ()}))


# --- the repository model: only when a rule needs it ----------------------------------------


def test_no_repository_scan_when_no_enabled_rule_needs_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    *_, session = _session("check", ["."], select=frozenset({"K8S001", "K8S003"}))
    assert session.repository is None
    *_, session = _session("check", ["."], select=TST)
    assert session.repository is not None


# --- source only ----------------------------------------------------------------------------

NOTICES = [
    "notice: skipped 3 files listed as patches in deploy/overlays/prod/kustomization.yaml "
    "(partial objects merged onto a base, not workloads); name a file to check it",
    "notice: skipped 2 files under deploy/testdata/ (test data); --include-generated checks them",
    "notice: skipped 1 file under test/fixtures/ (test data); --include-generated checks them",
    "notice: skipped 1 file under vendor/ (vendored); --include-generated checks them",
    "notice: skipped 1 generated file (marked DO NOT EDIT or similar: "
    "config/generated/worker.yaml); --include-generated checks them",
]


def _tighten(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIGHTEN, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )


def _files(repo: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo)): p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()
    }


def test_fix_skips_what_is_not_source_and_says_so_once_per_place(repo: Path) -> None:
    before = _files(repo)
    done = _tighten(repo, "fix", "--select", "K8S001,DF001", ".")
    after = _files(repo)
    changed = sorted(path for path in after if after[path] != before[path])
    assert changed == ["Dockerfile", "deploy/app.yaml"]  # the source is still fixed
    assert "privileged: false" in after["deploy/app.yaml"].decode()
    assert done.stderr.splitlines()[-6:-1] == NOTICES
    assert "; 8 skipped" in done.stderr.splitlines()[-1]
    assert done.returncode == 0


@pytest.mark.parametrize("how", ["flag", "config"])
def test_include_generated_checks_test_data_vendored_and_generated(repo: Path, how: str) -> None:
    args = ["check", "--select", "K8S001", "."]
    if how == "flag":
        args.insert(1, "--include-generated")
    else:
        (repo / ".tighten.toml").write_text("include-generated = true\n")
    done = _tighten(repo, *args)
    listed = sorted({line.split(":")[0] for line in done.stdout.splitlines()})
    assert listed == [
        "config/generated/worker.yaml",
        "deploy/app.yaml",
        "deploy/testdata/golden.yaml",
        "test/fixtures/pod.yaml",
        "vendor/github.com/acme/chart/deployment.yaml",
    ]
    # Patches are partial objects whatever the flag says.
    assert done.stderr.splitlines()[0] == NOTICES[0]
    assert "--include-generated checks" not in done.stderr


def test_named_files_and_folders_are_always_checked(repo: Path) -> None:
    done = _tighten(
        repo,
        "check",
        "--select",
        "K8S001",
        "deploy/testdata",
        "config/generated/worker.yaml",
        "deploy/overlays/prod/privileged-patch.yaml",
    )
    listed = sorted({line.split(":")[0] for line in done.stdout.splitlines()})
    assert listed == [
        "config/generated/worker.yaml",
        "deploy/overlays/prod/privileged-patch.yaml",
        "deploy/testdata/golden.yaml",
    ]
    assert "notice: skipped" not in done.stderr


def test_a_patch_listed_from_outside_the_walked_folder_is_known_to_the_repository_model(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    # deploy/patches/ holds no Kustomization: only the repository model knows that
    # deploy/overlays/prod/kustomization.yaml lists its file as a patch.
    _, out, err, session = _session("check", ["deploy/patches"])
    assert session.repository is not None
    assert out == ""
    assert (
        "notice: skipped 1 file listed as patches in deploy/overlays/prod/kustomization.yaml" in err
    )
