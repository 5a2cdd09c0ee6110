"""The repository scan begun in a forked child before the rules load (``start_scan``):
the run uses its model, says the same thing when it fails, and never leaves it behind."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixer.cli import app
from fixer.mode import Mode
from fixer.repository import RepositoryModel
from fixer.session import EarlyScan, Session, start_scan
from fixer.settings import Settings
from tests.fixture_repos import REPOS
from tests.helpers import RULES


@pytest.fixture(autouse=True)
def two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIGHTEN_WORKERS", "2")  # a child even on a one-core machine


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pid of every early scan child forked during the test."""
    pids: list[int] = []
    original = EarlyScan.__init__

    def recording(self: EarlyScan, root: Path, stamp: bool) -> None:
        original(self, root, stamp)
        if self._pid is not None:
            pids.append(self._pid)

    monkeypatch.setattr(EarlyScan, "__init__", recording)
    return pids


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # gone and reaped: no zombie left behind
    return False


def _run(settings: Settings, repo: Path, *, early: bool) -> tuple[int, str, str, Session]:
    out, err = io.StringIO(), io.StringIO()
    scan = start_scan(settings, [str(repo)], Mode.DRY_RUN) if early else None
    session = Session(settings, Mode.DRY_RUN, out=out, err=err, rules=RULES, early_scan=scan)
    try:
        code = session.execute([str(repo)])
    finally:
        if scan is not None:
            scan.__exit__()
    return code, out.getvalue(), err.getvalue(), session


def test_the_run_takes_the_model_the_child_scanned(
    tmp_path: Path, forked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same findings and diff as a run that scans for itself; the child was forked, its
    answer used (no scan ran in this process) and reaped."""
    repo = tmp_path / "repo"
    shutil.copytree(REPOS / "j12-review", repo)
    settings = Settings.of(offline=True)
    alone = _run(settings, repo, early=False)
    scans: list[Path] = []
    original = RepositoryModel.scan

    def counted(root: Path, **kwargs: object) -> RepositoryModel:
        scans.append(root)
        return original(root, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(RepositoryModel, "scan", counted)
    scan = start_scan(settings, [str(repo)], Mode.DRY_RUN)
    assert scan is not None and scan._pid is not None  # forked at once
    scan.__exit__()
    early = _run(settings, repo, early=True)
    assert early[:3] == alone[:3]
    assert "loadtester runs the shell commands it is sent" in early[2]
    assert early[3].repository is not None and early[3].early_scan is None
    assert scans == []  # the scans ran in the children only
    assert len(forked) == 2 and all(_reaped(pid) for pid in forked)


def test_a_scan_that_fails_in_the_child_fails_here_with_the_same_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Dockerfile").write_text('FROM alpine:3.20\nCMD ["sh"]\n')

    def broken(root: Path, **kwargs: object) -> RepositoryModel:
        raise OSError("the disk went away")

    monkeypatch.setattr(RepositoryModel, "scan", broken)
    code, _, err, session = _run(Settings.of(offline=True), tmp_path, early=True)
    assert f"cannot read the repository at {tmp_path}: the disk went away" in err
    assert session.repository is None and code == 1  # the file was still checked


def test_a_run_answered_from_the_cache_ends_the_scan_it_did_not_need(
    tmp_path: Path, forked: list[int]
) -> None:
    """The second identical ``check`` replays what the first printed without scanning:
    the child begun for it is ended and reaped, not left running."""
    (tmp_path / "Dockerfile").write_text('FROM alpine:3.20\nCMD ["sh"]\n')
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        first = runner.invoke(app, ["check", "."])
        second = runner.invoke(app, ["check", "."])
    finally:
        os.chdir(cwd)
    assert first.exit_code == second.exit_code == 1
    assert first.stdout == second.stdout and "DF001" in second.stdout
    assert len(forked) == 2 and all(_reaped(pid) for pid in forked)


def test_no_early_scan_for_stdin() -> None:
    assert start_scan(Settings.of(), ["-"], Mode.CHECK) is None


def test_a_run_no_rule_of_which_asks_for_the_model_ends_the_scan_at_once(
    tmp_path: Path, forked: list[int]
) -> None:
    """``--select DF002`` (pinning only) needs no repository model: the child is ended when
    the run learns it, not at the end of the run, and the run still checks the file."""
    (tmp_path / "Dockerfile").write_text('FROM alpine:3.20\nCMD ["sh"]\n')
    settings = Settings.of(select=["DF002"], offline=True)
    code, _, err, session = _run(settings, tmp_path, early=True)
    assert session.early_scan is None and session.repository is None
    assert len(forked) == 1 and _reaped(forked[0])
    assert code == 0 and "1 file scanned; no findings" in err
