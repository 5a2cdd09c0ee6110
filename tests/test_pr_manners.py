"""``tighten pr`` manners: closed pull requests stay closed, labels and reviewers, the URL as
the last line, the Actions setting's 403, Secret names from the repository, and the Action
and org workflow (real git, fake GitHub API)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_pr import ROOT, World, make_world, world

pytestmark = pytest.mark.slow  # deselected by `pytest -m "not slow"`

__all__ = ["world"]  # the fixture, re-exported for pytest

URL = re.compile(r"https://github\.example/acme/app/pull/(\d+)")

# ----------------------------------------------------------------------------- closed pull requests


def test_a_pull_request_closed_unmerged_is_not_reopened(world: World) -> None:
    assert world.pr().rc == 0
    world.fake.close(1)
    tip = world.branch_tip()

    result = world.pr()
    assert result.rc == 0, result.err
    assert "closed without merging" in result.out and "--recreate" in result.out
    assert len(world.fake.pulls) == 1 and world.fake.writes[-1].method == "POST"
    assert world.branch_tip() == tip  # no push either
    assert not URL.search(result.out.splitlines()[-1])

    result = world.pr("--recreate")
    assert result.rc == 0, result.err
    assert [p["state"] for p in world.fake.pulls] == ["closed", "open"]
    assert result.out.splitlines()[-1] == world.fake.pulls[1]["html_url"]


def test_changed_fixes_open_a_new_pull_request(world: World) -> None:
    assert world.pr().rc == 0
    world.fake.close(1)
    world.push_to_main({"svc/Dockerfile": "FROM alpine:3.20\nCMD /app/server\n"})
    result = world.pr()
    assert result.rc == 0, result.err
    assert [p["state"] for p in world.fake.pulls] == ["closed", "open"]
    assert "svc/Dockerfile" in world.fake.pulls[1]["body"]


def test_a_merged_pull_request_does_not_block_the_next_one(world: World) -> None:
    assert world.pr().rc == 0
    world.fake.close(1, merged=True)
    assert world.pr().rc == 0
    assert [p["state"] for p in world.fake.pulls] == ["closed", "open"]


def test_an_unrelated_edit_keeps_the_fingerprint(world: World) -> None:
    """Line numbers are not part of the fix set: a comment above a finding changes nothing."""
    assert world.pr().rc == 0
    world.fake.close(1)
    pod = (world.user / "k8s" / "pod.yaml").read_text()
    world.push_to_main({"k8s/pod.yaml": "# owned by the web team\n" + pod})
    result = world.pr()
    assert result.rc == 0, result.err
    assert "closed without merging" in result.out and len(world.fake.pulls) == 1


# ----------------------------------------------------------------------------- labels, reviewers, URL


def test_labels_reviewers_and_the_url_as_the_last_line(world: World) -> None:
    args = ("--label", "security", "--label", "bot", "--reviewer", "jane", "--reviewer", "acme/sec")
    result = world.pr(*args)
    assert result.rc == 0, result.err
    url = world.fake.pulls[0]["html_url"]
    assert result.out.splitlines()[-1] == url
    assert world.fake.labels == {1: ["security", "bot"]}
    assert world.fake.reviewers == {1: {"reviewers": ["jane"], "team_reviewers": ["sec"]}}

    writes = len(world.fake.writes)
    again = world.pr(*args)  # an existing pull request: no labels or reviewers again
    assert again.rc == 0 and again.out.splitlines()[-1] == url
    assert len(world.fake.writes) == writes


def test_a_refused_reviewer_is_a_warning(world: World) -> None:
    world.fake.fail(
        "POST", "/requested_reviewers", 422, "Reviews may only be requested from collaborators."
    )
    result = world.pr("--reviewer", "stranger")
    assert result.rc == 0, result.err
    assert "warning: could not add reviewers" in result.err and "collaborators" in result.err
    assert result.out.splitlines()[-1] == world.fake.pulls[0]["html_url"]


def test_the_actions_setting_403_names_the_setting(world: World) -> None:
    message = "GitHub Actions is not permitted to create or approve pull requests."
    world.fake.fail("POST", "/pulls", 403, message)
    result = world.pr()
    assert result.rc == 2
    assert '"Allow GitHub Actions to create and approve pull requests"' in result.err


# ----------------------------------------------------------------------------- names


def test_generated_secret_names_come_from_the_repository(tmp_path: Path) -> None:
    """CI checks every repository out into the same folder: the name is the repository's."""
    dockerfile = "FROM debian:bookworm-slim\nENV API_TOKEN=Zq8-hunter2-Kx5wP0u9-vRt\nUSER 1000\n"
    for w in make_world(tmp_path, {"Dockerfile": dockerfile}):
        # No manifest runs the image: the ENV move is withheld unless asked for.
        result = w.pr("--dry-run", "--unsafe-fixes", token=None)
        assert result.rc == 0, result.err
        assert "kubectl create secret generic app-secrets" in result.out
        assert "user-secrets" not in result.out  # the checkout's folder is called `user`


# ----------------------------------------------------------------------------- Action and workflows


def _action() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return found


def test_the_action_exposes_the_pull_request_url(tmp_path: Path) -> None:
    action = _action()
    [step] = [s for s in action["runs"]["steps"] if "tighten " in str(s.get("run", ""))]
    assert "pull-request-url" in action["outputs"]
    assert (
        f"steps.{step['id']}.outputs.pull-request-url"
        in action["outputs"]["pull-request-url"]["value"]
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tighten"
    fake.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > '{tmp_path}/args'\n"
        "echo 'opened pull request #7: https://github.example/acme/app/pull/7'\n"
        "echo 'https://github.example/acme/app/pull/7'\n"
    )
    fake.chmod(0o755)
    output = tmp_path / "github_output"
    output.write_text("")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "INPUT_PATHS": "k8s Dockerfile",
        "INPUT_RULES": "",
        "INPUT_PROFILE": "restricted",
        "INPUT_BRANCH": "tighten/remediation",
        "INPUT_BASE": "",
        "INPUT_DRY_RUN": "false",
        "INPUT_LABELS": "security, bot\n  security fix ",
        "INPUT_REVIEWERS": "jane acme/sec",
    }
    done = subprocess.run(["bash", "-c", step["run"]], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "pull-request-url=https://github.example/acme/app/pull/7\n" in output.read_text()
    args = (tmp_path / "args").read_text().split("\n")
    labels = [args[i + 1] for i, a in enumerate(args) if a == "--label"]
    assert labels == ["security", "bot", "security fix"]
    assert args.count("--reviewer") == 2 and "acme/sec" in args


def test_the_action_installs_itself_and_names_the_actions_setting() -> None:
    action = _action()
    [install] = [s for s in action["runs"]["steps"] if "pip install" in str(s.get("run", ""))]
    assert (
        "$ACTION_PATH" in install["run"]
        and install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    )
    text = (ROOT / "action.yml").read_text()
    assert "Allow GitHub Actions to create and approve pull requests" in text


def test_the_org_workflow_is_pinned_and_names_come_from_the_repository() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE).group(1)  # type: ignore[union-attr]
    text = (ROOT / ".github/workflows/tighten-org.yml").read_text()
    reusable = yaml.safe_load(text)
    ref = reusable[True]["workflow_call"]["inputs"]["tighten-ref"]["default"]
    assert ref == f"v{version}"
    assert "@main" not in text
    steps = reusable["jobs"]["tighten"]["steps"]
    checkout = steps[0]["with"]
    assert checkout["repository"] == "${{ matrix.repository }}"
    # The checkout's last folder is the repository's name (OWNER/NAME -> .../OWNER/NAME).
    assert checkout["path"].endswith("/${{ matrix.repository }}")
    [action] = [s for s in steps if str(s.get("uses", "")).startswith("./")]
    assert action["with"]["working-directory"] == checkout["path"]
    assert "Allow GitHub Actions to create and approve pull requests" in text


def test_the_fingerprint_survives_short_secrets() -> None:
    from fixer.pr.body import body, fixset, fixset_of
    from fixer.pr.remediation import Item, Remediation
    from tests.helpers import RULES

    rem = Remediation(
        tree="0" * 40,
        fixed=(Item("K8S001", "k8s/pod.yaml", 12, "set privileged: false"),),
        unfixed=(),
        errors=(),
        review=frozenset(),
        secret_files=(),
        moved_secrets=False,
        masks=frozenset({"a", "1", "e"}),
    )
    assert fixset_of(body(rem, RULES)) == fixset(rem)
    moved = replace(rem, fixed=(Item("K8S001", "k8s/pod.yaml", 30, "set privileged: false"),))
    assert fixset(moved) == fixset(rem)
    other = replace(rem, fixed=(Item("K8S001", "k8s/web.yaml", 12, "set privileged: false"),))
    assert fixset(other) != fixset(rem)
