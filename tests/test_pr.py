"""``tighten pr`` with real git: a bare repository as the remote, a fake GitHub API.

Every scenario checks that the user's clone (files, index, HEAD, branch, refs, stash,
worktrees, config) is byte-identical afterwards, and that neither the token nor a secret
value shows up in any output, commit or pull request.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixer.pr import git
from tests.github_fake import FakeGitHub, serve
from tests.helpers import write_files

pytestmark = pytest.mark.slow  # deselected by `pytest -m "not slow"`

TOKEN = "ghp_tightenTESTtoken0123456789abcdefXYZ"
SECRET = "Zq8-hunter2-Kx5wP0u9-vRt"
BOT_EMAIL = "tighten@users.noreply.github.com"
ROOT = Path(__file__).resolve().parent.parent

DOCKERFILE = 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n'
CLEAN_DOCKERFILE = 'FROM debian:bookworm-slim\nUSER 1000:1000\nCMD ["/app"]\n'
POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: nginx:1.27
    env:
    - name: DB_PASSWORD
      value: "{secret}"
    securityContext:
      privileged: true  # keep this comment
"""


def run_git(cwd: Path, *args: str, check: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {args}: {done.stderr}")
    return done.stdout


@dataclass
class World:
    tmp: Path
    remote: Path
    user: Path
    fake: FakeGitHub

    def pr(self, *args: str, token: str | None = TOKEN, cwd: Path | None = None) -> Result:
        env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_API_URL")}
        env.pop("GITHUB_TOKEN", None)
        if token is not None:
            env["GITHUB_TOKEN"] = token
        env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        env.update(TMPDIR=str(self.tmp / "scratch"), GIT_CONFIG_GLOBAL=os.devnull)
        base = ["pr", "--repo", "acme/app", "--api-url", self.fake.url, "--offline"]
        done = subprocess.run(
            [sys.executable, "-m", "fixer", *base, *args],
            cwd=cwd or self.user,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def branch_tip(self, branch: str = "tighten/remediation") -> str | None:
        out = run_git(self.remote, "rev-parse", "--verify", "-q", branch, check=False)
        return out.strip() or None

    def push_to_main(self, files: dict[str, str], message: str = "more") -> None:
        """A commit on the remote's main from another clone (the user's stays as it is)."""
        other = self.tmp / "other"
        if not other.exists():
            run_git(self.tmp, "clone", "-q", str(self.remote), str(other))
            _identity(other, "Other", "other@example.com")
        run_git(other, "checkout", "-q", "main")
        run_git(other, "pull", "-q", "origin", "main")
        write_files(other, files)
        run_git(other, "add", "-A")
        run_git(other, "commit", "-qm", message)
        run_git(other, "push", "-q", "origin", "main")


@dataclass
class Result:
    rc: int
    out: str
    err: str


def _identity(repo: Path, name: str, email: str) -> None:
    run_git(repo, "config", "user.name", name)
    run_git(repo, "config", "user.email", email)


def make_world(tmp: Path, files: dict[str, str]) -> Iterator[World]:
    (tmp / "scratch").mkdir()
    remote, user = tmp / "remote.git", tmp / "user"
    run_git(tmp, "init", "-q", "--bare", "-b", "main", str(remote))
    run_git(tmp, "clone", "-q", str(remote), str(user))
    _identity(user, "Dev", "dev@example.com")
    write_files(user, files)
    run_git(user, "add", "-A")
    run_git(user, "commit", "-qm", "initial")
    run_git(user, "push", "-q", "origin", "main")
    with serve(TOKEN, owner="acme", name="app") as fake:
        yield World(tmp, remote, user, fake)


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    files = {"Dockerfile": DOCKERFILE, "k8s/pod.yaml": POD.format(secret=SECRET)}
    yield from make_world(tmp_path, files)


@pytest.fixture()
def dirty(world: World) -> World:
    """The user is on a feature branch with staged, unstaged and untracked changes."""
    user = world.user
    run_git(user, "checkout", "-q", "-b", "feature")
    (user / "Dockerfile").write_text(DOCKERFILE + "# local edit\n")
    (user / "notes.txt").write_text("staged\n")
    run_git(user, "add", "notes.txt")
    (user / "untracked.yaml").write_text("apiVersion: v1\nkind: Pod\n")
    return world


def snapshot(repo: Path) -> dict[str, Any]:
    files = {}
    for path in sorted(repo.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(repo).parts:
            files[path.relative_to(repo).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {
        "status": run_git(repo, "status", "--porcelain=v1", "--untracked-files=all", "--ignored"),
        "head": run_git(repo, "rev-parse", "HEAD"),
        "branch": run_git(repo, "symbolic-ref", "-q", "HEAD", check=False),
        "index": run_git(repo, "ls-files", "--stage"),
        "refs": run_git(repo, "for-each-ref"),
        "stash": run_git(repo, "stash", "list"),
        "worktrees": run_git(repo, "worktree", "list", "--porcelain"),
        "config": (repo / ".git" / "config").read_bytes(),
        "files": files,
    }


def assert_clean(world: World, before: dict[str, Any], result: Result) -> None:
    assert snapshot(world.user) == before
    assert not (world.user / ".git" / "worktrees").exists() or not any(
        (world.user / ".git" / "worktrees").iterdir()
    )
    assert list((world.tmp / "scratch").iterdir()) == []  # the temp worktree is gone
    assert_private(world, result)


def assert_private(world: World, result: Result) -> None:
    """Neither the token nor the secret value in outputs, commits or pull requests."""
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    texts = [result.out, result.err]
    texts += [f"{p['title']}\n{p['body']}" for p in world.fake.pulls]
    texts.append(run_git(world.remote, "log", "--all", "--format=%B%n%an%n%ae"))
    for text in texts:
        assert TOKEN not in text and basic not in text
        assert SECRET not in text
    for request in world.fake.requests:
        assert TOKEN not in request.path and TOKEN not in str(request.query)
        assert SECRET not in str(request.payload)


def tree_text(world: World, rev: str, path: str) -> str:
    return run_git(world.remote, "show", f"{rev}:{path}")


# ----------------------------------------------------------------------------- lifecycle


def test_first_run_opens_a_pull_request(dirty: World) -> None:
    world = dirty
    before = snapshot(world.user)
    result = world.pr()
    assert result.rc == 0, result.err
    assert "opened pull request #1: https://github.example/acme/app/pull/1" in result.out
    assert_clean(world, before, result)
    [pull] = world.fake.pulls
    assert pull["head"]["ref"] == "tighten/remediation" and pull["base"]["ref"] == "main"
    assert pull["title"] == "Fix security findings with tighten (DF001, K8S001, K8S002, K8S004)"
    body = pull["body"]
    assert "| DF001 | `Dockerfile` | 1 |" in body
    assert "| K8S001 | `k8s/pod.yaml` |" in body
    assert "ports below 1024" in body and "manage the node" in body
    assert "rotate each of these credentials" in body
    assert "kubectl create secret generic" in body and "--from-literal=DB_PASSWORD=" in body
    # The commit: one bot commit on top of main, with the fixes and no secret anywhere.
    tip = world.branch_tip()
    assert tip is not None
    main = run_git(world.remote, "rev-parse", "main").strip()
    assert run_git(world.remote, "rev-parse", f"{tip}^").strip() == main
    who = run_git(world.remote, "log", "-1", "--format=%an <%ae>|%cn <%ce>", tip).strip()
    assert who == f"tighten[bot] <{BOT_EMAIL}>|tighten[bot] <{BOT_EMAIL}>"
    message = run_git(world.remote, "log", "-1", "--format=%B", tip)
    assert "- DF001 non-root-user: 1 fix" in message
    assert "USER 10001:10001" in tree_text(world, tip, "Dockerfile")
    assert "# local edit" not in tree_text(world, tip, "Dockerfile")  # from the remote's main
    pod = tree_text(world, tip, "k8s/pod.yaml")
    assert "privileged: false  # keep this comment" in pod and "secretKeyRef" in pod
    assert run_git(world.remote, "grep", "-c", SECRET, tip, check=False) == ""
    assert ".secrets.yaml" in tree_text(world, tip, ".gitignore")
    files = run_git(world.remote, "ls-tree", "-r", "--name-only", tip).split()
    assert not any(f.endswith(".secrets.yaml") for f in files)  # kept out of git
    # Open pull requests, the last closed one (closed unmerged with these fixes: no new one),
    # then the new pull request.
    queries = [(r.method, r.query.get("state")) for r in world.fake.requests]
    assert queries == [("GET", "open"), ("GET", "closed"), ("POST", None)]


def test_second_run_changes_nothing(world: World) -> None:
    assert world.pr().rc == 0
    tip, writes = world.branch_tip(), len(world.fake.writes)
    before = snapshot(world.user)
    result = world.pr()
    assert result.rc == 0, result.err
    assert "pull request #1 is up to date" in result.out
    assert world.branch_tip() == tip  # no new commit, no push
    assert len(world.fake.writes) == writes  # no API write
    assert_clean(world, before, result)


def test_new_findings_update_the_same_pull_request(world: World) -> None:
    assert world.pr().rc == 0
    first = world.branch_tip()
    world.push_to_main({"svc/Dockerfile": "FROM alpine:3.20\nCMD /app/server\n"})
    before = snapshot(world.user)
    result = world.pr()
    assert result.rc == 0, result.err
    assert "updated pull request #1" in result.out
    assert_clean(world, before, result)
    tip = world.branch_tip()
    assert tip and tip != first
    main = run_git(world.remote, "rev-parse", "main").strip()
    assert run_git(world.remote, "rev-parse", f"{tip}^").strip() == main  # rebased on main
    assert "USER 10001:10001" in tree_text(world, tip, "svc/Dockerfile")
    assert len(world.fake.pulls) == 1
    patch = world.fake.writes[-1]
    assert patch.method == "PATCH" and patch.path.endswith("/pulls/1")
    assert "svc/Dockerfile" in patch.payload["body"]


def test_a_human_commit_stops_force_pushes_until_recreate(world: World) -> None:
    assert world.pr().rc == 0
    human = world.tmp / "human"
    run_git(world.tmp, "clone", "-q", "-b", "tighten/remediation", str(world.remote), str(human))
    _identity(human, "Jane", "jane@example.com")
    (human / "NOTES.md").write_text("reviewed\n")
    run_git(human, "add", "-A")
    run_git(human, "commit", "-qm", "review")
    run_git(human, "push", "-q", "origin", "tighten/remediation")
    jane = world.branch_tip()
    world.push_to_main({"svc/Dockerfile": "FROM alpine:3.20\nCMD /app/server\n"})
    writes = len(world.fake.writes)

    result = world.pr()
    assert result.rc == 0, result.err
    assert "someone else" in result.err and "jane@example.com" in result.err
    assert "--recreate" in result.err
    assert world.branch_tip() == jane and len(world.fake.writes) == writes

    before = snapshot(world.user)
    result = world.pr("--recreate")
    assert result.rc == 0, result.err
    assert_clean(world, before, result)
    tip = world.branch_tip()
    assert tip is not None and tip != jane
    who = run_git(world.remote, "log", "-1", "--format=%ae", tip).strip()
    assert who == BOT_EMAIL
    main = run_git(world.remote, "rev-parse", "main").strip()
    assert run_git(world.remote, "rev-parse", f"{tip}^").strip() == main


def test_nothing_to_fix_makes_no_branch_and_no_request(tmp_path: Path) -> None:
    for world in make_world(tmp_path, {"Dockerfile": CLEAN_DOCKERFILE, "README.md": "hi\n"}):
        before = snapshot(world.user)
        result = world.pr()
        assert result.rc == 0, result.err
        assert "nothing to fix" in result.out
        assert world.branch_tip() is None
        assert world.fake.requests == []
        assert_clean(world, before, result)


def test_dry_run_prints_the_plan_without_token_push_or_api(dirty: World) -> None:
    world = dirty
    before = snapshot(world.user)
    result = world.pr("--dry-run", token=None)
    assert result.rc == 0, result.err
    out = result.out
    assert out.startswith("branch: tighten/remediation (base: main)\n")
    assert "title: Fix security findings with tighten (DF001, K8S001, K8S002, K8S004)" in out
    assert "--- commit message ---" in out and "--- pull request body ---" in out
    assert "+USER 10001:10001" in out and "-      privileged: true" in out
    assert "***" in out  # the removed secret line, masked
    assert world.branch_tip() is None and world.fake.requests == []
    assert_clean(world, before, result)


def test_a_subfolder_and_path_arguments(world: World) -> None:
    result = world.pr("Dockerfile", "--dry-run", cwd=world.user)
    assert result.rc == 0, result.err
    assert "+USER 10001:10001" in result.out and "pod.yaml" not in result.out
    inner = world.pr("--dry-run", ".", cwd=world.user / "k8s")
    assert inner.rc == 0, inner.err
    assert "k8s/pod.yaml" in inner.out and "Dockerfile" not in inner.out.split("--- diff ---")[1]
    outside = world.pr("--dry-run", str(world.tmp))
    assert outside.rc == 2 and "outside the repository" in outside.err


# ----------------------------------------------------------------------------- failures


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reject_pushes(world: World) -> None:
    hook = world.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: no bots here' >&2\nexit 1\n")
    hook.chmod(0o755)


def _down() -> tuple[str, ...]:
    return ("--api-url", f"http://127.0.0.1:{_closed_port()}")


FAILURES: dict[str, tuple[Any, Any, str]] = {
    "push rejected": (_reject_pushes, (), "pre-receive hook declined"),
    "401": (None, (), "401 bad credentials"),
    "403": (lambda w: w.fake.fail("GET", "/pulls", 403), (), "403 forbidden"),
    "404": (None, ("--repo", "acme/missing"), "404 not found"),
    "422": (lambda w: w.fake.fail("POST", "/pulls", 422), (), "422"),
    "500": (lambda w: w.fake.fail("GET", "/pulls", 500), (), "500"),
    "api down": (None, _down, "cannot reach"),
    "no token": (None, (), "no GitHub token"),
    "bad base": (None, ("--base", "nope"), "branch nope does not exist"),
    "bad author": (None, ("--author", "bot"), "--author"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failures_exit_2_and_leave_the_user_tree_alone(dirty: World, case: str) -> None:
    world = dirty
    prepare, args, expected = FAILURES[case]
    if prepare is not None:
        prepare(world)
    if callable(args):
        args = args()
    token = {"401": "ghp_wrongTOKENwrongTOKENwrong0123456789", "no token": None}.get(case, TOKEN)
    before = snapshot(world.user)
    result = world.pr(*args, token=token)
    assert result.rc == 2, (result.out, result.err)
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], result.err
    assert token is None or token not in result.err
    assert_clean(world, before, result)
    if case != "422":  # every other failure happens before the push
        assert world.fake.pulls == [] and world.branch_tip() is None


def test_not_a_git_repository(tmp_path: Path) -> None:
    for world in make_world(tmp_path, {"Dockerfile": DOCKERFILE}):
        plain = tmp_path / "plain"
        plain.mkdir()
        (plain / "Dockerfile").write_text(DOCKERFILE)
        result = world.pr(cwd=plain)
        assert result.rc == 2 and "not inside a git working tree" in result.err
        assert (plain / "Dockerfile").read_text() == DOCKERFILE


def test_lease_protects_a_branch_that_moved(world: World) -> None:
    """The force-push names the commit it replaces: a concurrent push is never lost."""
    assert world.pr().rc == 0
    wt = git.Git(world.user)
    tip = world.branch_tip()
    main = run_git(world.remote, "rev-parse", "main").strip()
    assert tip is not None
    with pytest.raises(git.GitError, match="rejected"):
        git.push(wt, str(world.remote), main, "tighten/remediation", None)
    with pytest.raises(git.GitError, match="rejected"):
        git.push(wt, str(world.remote), main, "tighten/remediation", main)
    assert world.branch_tip() == tip


# ----------------------------------------------------------------------------- the token


def test_the_token_reaches_git_only_in_an_http_header(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{world.fake.url}/acme/app.git"
    # actions/checkout leaves its own header in the repository's config: it must be reset.
    run_git(world.user, "config", f"http.{world.fake.url}/.extraheader", "AUTHORIZATION: old")
    config, secrets = git.auth_config(url, TOKEN)
    repo = git.Git(world.user, config=config, secrets=(TOKEN, *secrets))
    calls: list[list[str]] = []
    real_run = subprocess.run

    def spy(args: list[str], **kwargs: Any) -> Any:
        calls.append(list(args))
        return real_run(args, **kwargs)

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setattr(subprocess, "run", spy)
    with pytest.raises(git.GitError) as failure:
        git.remote_heads(repo, url, ["main"])
    assert TOKEN not in str(failure.value) and secrets[1] not in failure.value.detail
    [request] = [r for r in world.fake.requests if r.path.endswith("/info/refs")]
    expected = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert request.authorizations == [f"basic {expected}"]
    assert calls and all(TOKEN not in " ".join(c) and expected not in " ".join(c) for c in calls)


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/acme/app.git", ("acme", "app")),
        ("https://x-access-token@github.com/acme/app", ("acme", "app")),
        ("ssh://git@github.com:22/acme/app.git", ("acme", "app")),
        ("git@github.com:acme/app.git", ("acme", "app")),
        ("github.com:acme/app", ("acme", "app")),
        ("https://ghe.example.com/acme/app.git/", ("acme", "app")),
        ("/srv/git/app.git", None),
        ("file:///srv/acme/app.git", None),
        ("https://github.com/app", None),
    ],
)
def test_repository_from_remote_url(url: str, slug: tuple[str, str] | None) -> None:
    assert git.parse_slug(url) == slug


def test_identity_and_auth_config() -> None:
    assert git.Identity.parse("tighten[bot] <bot@x.invalid>") == git.Identity(
        "tighten[bot]", "bot@x.invalid"
    )
    with pytest.raises(ValueError):
        git.Identity.parse("no email")
    config, _ = git.auth_config("https://github.com/acme/app.git", TOKEN)
    assert [k for k, _ in config] == ["http.https://github.com/.extraheader"] * 2
    assert config[0][1] == ""  # resets headers configured before
    assert git.auth_config("git@github.com:acme/app.git", TOKEN)[0] == ()


# ----------------------------------------------------------------------------- side files


def test_side_files_are_committed_masked_or_not_at_all(tmp_path: Path) -> None:
    from fixer.model import Fix, SideFile
    from fixer.pr.remediation import _settle_side_files
    from fixer.sidefiles import SideFiles

    repo = tmp_path / "repo"
    run_git(tmp_path, "init", "-q", "-b", "main", str(repo))
    _identity(repo, "Dev", "dev@example.com")
    (repo / "README.md").write_text("x\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-qm", "init")
    real = f"kind: Secret\nmetadata:\n  name: web-secrets\nstringData:\n  TOKEN: {SECRET}\n"
    placeholder = real.replace(SECRET, "REPLACE_ME")
    sides = [
        SideFile(repo / "shown.yaml", lambda _: real, lambda _: placeholder, key="a"),
        SideFile(repo / "private.yaml", lambda _: real, lambda _: placeholder, True, key="b"),
        SideFile(repo / "unmaskable.yaml", lambda _: real, None, key="c"),
    ]
    pending = SideFiles()
    for side in sides:
        side.path.write_text(real)  # what the fix session wrote
        pending.pending[side.path] = [side]
    assert Fix("f", (), side_files=tuple(sides))  # a valid fix shape
    settled = {p: refs for p, refs, _ in _settle_side_files(git.Git(repo), repo, pending, "HEAD")}
    assert (repo / "shown.yaml").read_text() == placeholder
    assert not (repo / "private.yaml").exists() and not (repo / "unmaskable.yaml").exists()
    assert "/private.yaml" in (repo / ".gitignore").read_text()
    assert settled["shown.yaml"][0].keys == ("TOKEN",)
    assert settled["shown.yaml"][0].name == "web-secrets"


def test_a_leaked_value_refuses_the_commit(tmp_path: Path) -> None:
    from fixer.pr.remediation import RemediationError, _refuse_leaks

    repo = tmp_path / "repo"
    run_git(tmp_path, "init", "-q", "-b", "main", str(repo))
    _identity(repo, "Dev", "dev@example.com")
    (repo / "a.txt").write_text(f"password={SECRET}\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-qm", "init")
    g = git.Git(repo)
    (repo / "a.txt").write_text("password=moved\n")
    clean = git.stage_all(g)
    _refuse_leaks(g, "HEAD", clean, {SECRET, "postgres"})  # removing a value is fine
    (repo / "b.yaml").write_text(f"value: {SECRET}\n")
    leaked = git.stage_all(g)
    with pytest.raises(RemediationError) as refused:
        _refuse_leaks(g, "HEAD", leaked, {SECRET})
    assert SECRET not in str(refused.value) and "b.yaml" in str(refused.value)


# ----------------------------------------------------------------------------- integrations


def _flags_in_help() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "fixer", "pr", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    return set(re.findall(r"--[a-z][a-z-]+", done.stdout))


def test_action_inputs_and_flags_match_the_cli() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    inputs = set(action["inputs"])
    assert {"paths", "rules", "profile", "branch", "token", "base", "dry-run"} <= inputs
    assert action["inputs"]["token"]["default"] == "${{ github.token }}"
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert any(str(s.get("uses", "")).startswith("actions/setup-python@") for s in steps)
    text = (ROOT / "action.yml").read_text()
    assert "github.action_path" in text
    used = set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", text))
    assert used <= inputs, used - inputs
    scripts = [str(s.get("run", "")) for s in steps]
    assert not any("${{" in script for script in scripts)  # inputs reach scripts via env only
    [script] = [s for s in scripts if "tighten " in s and "pip install" not in s]
    flags = set(re.findall(r"--[a-z][a-z-]+", script))
    assert {"--branch", "--profile", "--select", "--base", "--dry-run"} <= flags
    assert flags <= _flags_in_help(), flags - _flags_in_help()


def test_workflows_use_the_action_inputs() -> None:
    action_inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    scheduled = yaml.safe_load((ROOT / ".github/workflows/tighten.yml").read_text())
    assert "schedule" in scheduled[True]  # PyYAML reads the `on` key as True
    reusable = yaml.safe_load((ROOT / ".github/workflows/tighten-org.yml").read_text())
    call = reusable[True]["workflow_call"]
    assert call["inputs"]["repositories"]["type"] == "string"
    assert call["inputs"]["repositories"]["required"] is True
    assert "token" in call["secrets"]
    job = reusable["jobs"]["tighten"]
    matrix = job["strategy"]["matrix"]["repository"]
    assert re.fullmatch(r"\$\{\{\s*fromJSON\(inputs\.repositories\)\s*\}\}", matrix)
    assert job["strategy"]["fail-fast"] is False
    checkout = job["steps"][0]["with"]
    assert checkout["repository"] == "${{ matrix.repository }}"
    assert checkout["token"] == "${{ secrets.token }}"
    for workflow in (scheduled, reusable):
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("./"):
                    assert set(step.get("with", {})) <= action_inputs


def test_pre_commit_hooks_parse_and_run(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {hook["id"]: hook for hook in hooks}
    assert by_id["tighten-check"]["entry"] == "tighten check"
    assert by_id["tighten-fix"]["entry"] == "tighten fix"
    for hook in hooks:
        assert hook["language"] == "python"
        files = re.compile(hook["files"])
        for name in ("Dockerfile", "svc/Dockerfile.prod", "k8s/pod.yaml", "a.yml", "x.Dockerfile"):
            assert files.search(name), name
        for name in ("README.md", "Dockerfile.md/notes.txt", "main.py"):
            assert not files.search(name), name
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "README.md").write_text("x\n")
    names = [n for n in ("Dockerfile", "README.md") if re.search(hooks[0]["files"], n)]

    def run_hook(entry: str) -> subprocess.CompletedProcess[str]:
        tool, *args = entry.split()
        assert tool == "tighten"
        return subprocess.run(
            [sys.executable, "-m", "fixer", *args, "--offline" if "fix" in args else "-q", *names],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    check = run_hook(by_id["tighten-check"]["entry"])
    assert check.returncode == 1 and "DF001" in check.stdout
    fix = run_hook(by_id["tighten-fix"]["entry"])
    assert fix.returncode == 0, fix.stderr
    assert "USER 10001:10001" in (tmp_path / "Dockerfile").read_text()
