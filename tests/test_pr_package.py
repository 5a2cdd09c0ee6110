"""``tighten pr`` as a package of its own (issue 12.3): it never changes the process's
current folder, and nothing below it imports it."""

from __future__ import annotations

import ast
import io
import os
import threading
from pathlib import Path

import pytest

from fixer.settings import Settings
from tests.helpers import RULES
from tests.test_pr import World, world  # noqa: F401

pytestmark = pytest.mark.slow  # a CLI process (or git, or a registry) per case

FIXER = Path(__file__).resolve().parent.parent / "fixer"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_pr_runs_without_changing_the_current_folder(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process's current folder is global: a run in one thread must not move another
    thread's relative paths. Paths still read as the user named them (from ``k8s``)."""
    from fixer.pr.command import PrOptions, run_pr

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    start = world.user / "k8s"
    monkeypatch.chdir(start)
    out, err = io.StringIO(), io.StringIO()
    options = PrOptions(repo="acme/app", api_url=world.fake.url, dry_run=True)
    codes: list[int] = []
    worker = threading.Thread(
        target=lambda: codes.append(
            run_pr(
                ["."], Settings.of(offline=True), options, rules=RULES, out=out, err=err, environ={}
            )
        )
    )
    seen: set[str] = set()
    worker.start()
    while worker.is_alive():
        seen.add(os.getcwd())
        worker.join(0.001)
    seen.add(os.getcwd())
    assert codes == [0], err.getvalue()
    assert seen == {str(start)}
    assert "| K8S004 | `k8s/pod.yaml` | 11 |" in out.getvalue()
    assert "value moved to pod.secrets.yaml:" in out.getvalue()


def test_no_module_changes_the_current_folder() -> None:
    calls = [
        path.relative_to(FIXER).as_posix()
        for path in FIXER.rglob("*.py")
        if "chdir(" in path.read_text("utf-8")
    ]
    assert calls == []


def test_pr_is_a_package_nothing_below_imports() -> None:
    names = {p.stem for p in (FIXER / "pr").glob("*.py")}
    assert {"command", "remediation", "git", "forge", "body", "origin", "publish"} <= names
    for old in ("pr.py", "remediation.py", "git.py", "forge.py", "output/pull_request.py"):
        assert not (FIXER / old).exists(), old
    upward = {
        path.relative_to(FIXER).as_posix()
        for path in FIXER.rglob("*.py")
        if path.parent.name != "pr"
        and any(name == "fixer.pr" or name.startswith("fixer.pr.") for name in _imports(path))
    }
    # Only the CLI runs the command (the .gitignore check asks git through fixer.gitcmd).
    assert upward == {"cli.py"}


def test_side_files_are_gathered_beside_their_writing() -> None:
    import fixer.runner
    import fixer.sidefiles

    assert hasattr(fixer.sidefiles, "SideFiles")
    assert not hasattr(fixer.runner, "SideFiles")


def test_a_run_mode_is_one_closed_set() -> None:
    from fixer.mode import Mode
    from fixer.report import Report

    assert [m.value for m in Mode] == ["check", "fix", "dry-run"]
    assert [m.fixing for m in Mode] == [False, True, True]
    assert Report(Mode.DRY_RUN).mode is Mode.DRY_RUN
