"""``tighten pr`` hardening: where the token may go, paths that leave the repository, empty
foreign commits and worktrees left behind by a killed run (real git, fake GitHub API)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixer.pr import origin
from tests.github_fake import serve
from tests.test_pr import (
    TOKEN,
    World,
    _identity,
    assert_clean,
    run_git,
    snapshot,
    world,
)

pytestmark = pytest.mark.slow  # deselected by `pytest -m "not slow"`

__all__ = ["world"]  # the fixture, re-exported for pytest

# ----------------------------------------------------------------------------- the token's origin


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://api.acme.ghe.com", "https://acme.ghe.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_the_forge_git_origin_comes_from_the_api_url(api_url: str, expected: str) -> None:
    assert str(origin.git_origin(api_url)) == expected


@pytest.mark.parametrize(
    ("remote", "sent"),
    [
        ("https://github.com/acme/app.git", True),
        ("https://GitHub.com:443/acme/app", True),
        ("http://github.com/acme/app.git", False),  # plain http: never
        ("https://github.com.evil.example/acme/app.git", False),
        ("https://gitlab.com/acme/app.git", False),
        ("https://github.com:8443/acme/app.git", False),
    ],
)
def test_the_token_goes_only_to_the_forge_over_https(remote: str, sent: bool) -> None:
    forge = origin.git_origin("https://api.github.com")
    assert (origin.refusal(remote, forge) is None) is sent


def test_plain_http_api_url_is_refused_unless_loopback() -> None:
    assert origin.api_refusal("http://ghe.example.com/api/v3") is not None
    assert origin.api_refusal("https://ghe.example.com/api/v3") is None
    assert origin.api_refusal("http://127.0.0.1:9999") is None
    assert origin.api_refusal("http://[::1]:9999") is None


def test_a_remote_on_another_host_never_receives_the_token(world: World) -> None:
    """The remote names another server (another loopback port): git talks to it without the
    token, and says why; the forge's own origin still gets the header."""
    with serve(TOKEN) as other:
        run_git(world.user, "remote", "set-url", "origin", f"{other.url}/acme/app.git")
        result = world.pr("--dry-run")
        assert result.rc == 2  # the fake is no git server
        probes = [r for r in other.requests if r.path.endswith("/info/refs")]
        assert probes and all(r.authorizations == [] for r in probes)
        assert "not the forge" in result.err and "token not sent" in result.err
        assert TOKEN not in result.err

    run_git(world.user, "remote", "set-url", "origin", f"{world.fake.url}/acme/app.git")
    result = world.pr("--dry-run")
    [probe] = [r for r in world.fake.requests if r.path.endswith("/info/refs")]
    assert len(probe.authorizations) == 1 and probe.authorizations[0].startswith("basic ")
    assert "not the forge" not in result.err


def test_an_http_api_url_on_the_network_is_refused(world: World) -> None:
    before = snapshot(world.user)
    result = world.pr("--api-url", "http://ghe.example.invalid/api/v3")
    assert result.rc == 2
    assert "https" in result.err and "token" in result.err
    assert "cannot reach" not in result.err  # refused before any connection
    assert world.branch_tip() is None
    assert_clean(world, before, result)


# ----------------------------------------------------------------------------- paths


def test_a_relative_secrets_dir_outside_the_repository_is_refused(world: World) -> None:
    before = snapshot(world.user)
    result = world.pr("--secrets-dir", "../x")
    assert result.rc == 2, result.out
    assert "outside the repository" in result.err and "../x" in result.err
    assert world.fake.requests == [] and world.branch_tip() is None
    assert_clean(world, before, result)
    lock = world.pr("--lock-file", "../../tighten.lock", "--dry-run")
    assert lock.rc == 2 and "outside the repository" in lock.err


def test_a_relative_secrets_dir_means_the_same_folder_as_in_the_checkout(world: World) -> None:
    """From a subfolder, ``--secrets-dir ../secrets`` is the repository's ``secrets/``."""
    result = world.pr("--secrets-dir", "../secrets", ".", cwd=world.user / "k8s")
    assert result.rc == 0, result.err
    tip = world.branch_tip()
    assert tip is not None
    ignore = run_git(world.remote, "show", f"{tip}:.gitignore")
    assert "/secrets/k8s-pod.secrets.yaml" in ignore.splitlines()  # named from its folder
    pod = run_git(world.remote, "show", f"{tip}:k8s/pod.yaml")
    assert "secretKeyRef" in pod


def test_settling_never_touches_a_file_outside_the_worktree(tmp_path: Path) -> None:
    from fixer.model import SideFile
    from fixer.pr import git
    from fixer.pr.remediation import RemediationError, _settle_side_files
    from fixer.sidefiles import SideFiles

    repo = tmp_path / "repo"
    run_git(tmp_path, "init", "-q", "-b", "main", str(repo))
    _identity(repo, "Dev", "dev@example.com")
    (repo / "README.md").write_text("x\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-qm", "init")
    outside = tmp_path / "precious.yaml"
    outside.write_text("mine\n")
    side = SideFile(outside, lambda _: "kind: Secret\n", None, key="a")
    pending = SideFiles()
    pending.pending[outside] = [side]
    with pytest.raises(RemediationError, match="outside"):
        _settle_side_files(git.Git(repo), repo, pending, "HEAD")
    assert outside.read_text() == "mine\n"


# ----------------------------------------------------------------------------- foreign commits


def _push_as_jane(world: World, *, empty: bool) -> str:
    human = world.tmp / "human"
    run_git(world.tmp, "clone", "-q", "-b", "tighten/remediation", str(world.remote), str(human))
    _identity(human, "Jane", "jane@example.com")
    if empty:
        run_git(human, "commit", "-q", "--allow-empty", "-m", "ping CI")
    else:
        (human / "NOTES.md").write_text("reviewed\n")
        run_git(human, "add", "-A")
        run_git(human, "commit", "-qm", "review")
    run_git(human, "push", "-q", "origin", "tighten/remediation")
    tip = world.branch_tip()
    assert tip is not None
    return tip


def test_an_empty_foreign_commit_is_foreign_and_recreate_resets_it(world: World) -> None:
    assert world.pr().rc == 0
    jane = _push_as_jane(world, empty=True)

    result = world.pr()
    assert result.rc == 0, result.err
    assert "someone else" in result.err and "jane@example.com" in result.err
    assert world.branch_tip() == jane

    result = world.pr("--recreate")
    assert result.rc == 0, result.err
    tip = world.branch_tip()
    assert tip is not None and tip != jane  # reset: the empty commit is gone
    who = run_git(world.remote, "log", "--format=%ae", f"main..{tip}").split()
    assert who == ["tighten@users.noreply.github.com"]


# ----------------------------------------------------------------------------- stale worktrees


def _worktrees(repo: Path) -> list[str]:
    out = run_git(repo, "worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]


def _wait_for(path: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture()
def killed(world: World) -> Iterator[World]:
    """A ``tighten pr`` killed with SIGKILL in the middle of its push."""
    reached, release = world.tmp / "reached", world.tmp / "release"
    hook = world.remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        f"touch '{reached}'\n"
        f"i=0; while [ ! -e '{release}' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n"
        "exit 1\n"
    )
    hook.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_API_URL")}
    env.update(GITHUB_TOKEN=TOKEN, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    env.update(TMPDIR=str(world.tmp / "scratch"), GIT_CONFIG_GLOBAL=os.devnull)
    args = ["pr", "--repo", "acme/app", "--api-url", world.fake.url, "--offline"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fixer", *args],
        cwd=world.user,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(reached)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        release.touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    hook.unlink()
    assert len(_worktrees(world.user)) == 2  # the killed run's worktree is still registered
    yield world


def test_the_next_run_removes_a_worktree_left_by_a_killed_run(killed: World) -> None:
    world = killed
    stale = _worktrees(world.user)[1]
    result = world.pr()
    assert result.rc == 0, result.err
    assert "stale" in result.err and "worktree" in result.err
    assert _worktrees(world.user) == [str(world.user)]
    assert not Path(stale).exists()
    assert list((world.tmp / "scratch").iterdir()) == []


def test_another_tools_worktree_is_left_alone(world: World) -> None:
    mine = world.tmp / "mine"
    run_git(world.user, "worktree", "add", "-q", "--detach", str(mine))
    run_git(world.user, "worktree", "lock", "--reason", "my own", str(mine))
    before = _worktrees(world.user)
    result = world.pr("--dry-run")
    assert result.rc == 0, result.err
    assert _worktrees(world.user) == before and mine.exists()
    assert "stale" not in result.err
