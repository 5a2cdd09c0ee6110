"""Where tighten writes: never outside the root being fixed, never through a symlink.

Each test runs the real CLI in a temporary git repository next to an ``outside`` folder that
stands for the rest of the user's disk: whatever a committed symlink points at there must come
out byte for byte as it went in.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixer import write
from fixer.discover import discover
from fixer.secrets import gitignore
from tests.test_pr import make_world

pytestmark = pytest.mark.slow  # a CLI process per case: deselected by `-m "not slow"`

ROOT_RUN = 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["app"]\n'
TOKEN = "s3cr3t-Pa55-w0rd-42"
SECRET_DOCKERFILE = f"FROM alpine:3.20\nUSER 1000:1000\nENV DB_PASSWORD={TOKEN}\n"
SECRET_POD = f"""apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: example/app:1.0
    env:
    - name: DB_PASSWORD
      value: "{TOKEN}"
"""
VICTIM = "precious: data outside the repository\n"


def tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.yaml").write_text(VICTIM)
    return folder


def no_token(out: subprocess.CompletedProcess[str]) -> None:
    assert TOKEN not in out.stdout + out.stderr


# ----------------------------------------------------------------------------- the Secret


def test_symlink_at_the_secret_path_is_not_written_through(repo: Path, outside: Path) -> None:
    (repo / "web").mkdir()
    (repo / "web" / "Dockerfile").write_text(SECRET_DOCKERFILE)
    (repo / "web" / "web-secrets.secret.yaml").symlink_to(outside / "victim.yaml")
    out = tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=repo)
    no_token(out)
    assert out.returncode == 2
    assert "web-secrets.secret.yaml" in out.stderr and "symlink" in out.stderr
    assert (outside / "victim.yaml").read_text() == VICTIM
    assert (repo / "web" / "Dockerfile").read_text() == SECRET_DOCKERFILE  # values stay put
    assert (repo / "web" / "web-secrets.secret.yaml").is_symlink()


def test_pr_dry_run_does_not_write_through_a_committed_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.yaml"
    victim.write_text(VICTIM)
    for world in make_world(tmp_path, {"k8s/pod.yaml": SECRET_POD}):  # yields once
        (world.user / "k8s" / "pod.secrets.yaml").symlink_to(victim)
        for args in (("add", "-A"), ("commit", "-qm", "link"), ("push", "-q", "origin", "main")):
            subprocess.run(["git", *args], cwd=world.user, check=True, capture_output=True)
        result = world.pr("--dry-run", token=None)
        assert TOKEN not in result.out + result.err
        assert victim.read_text() == VICTIM
        assert "pod.secrets.yaml" in result.err and "symlink" in result.err


def test_existing_secret_file_ends_private(repo: Path) -> None:
    (repo / "Dockerfile").write_text(SECRET_DOCKERFILE)
    assert tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=repo).returncode == 0
    [secret] = repo.glob("*.secret.yaml")
    secret.chmod(0o644)
    with (repo / "Dockerfile").open("a") as handle:
        handle.write("ENV API_TOKEN=another-t0ken-value\n")
    out = tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert "another-t0ken-value" in secret.read_text()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert "mode changed from 0644 to 0600" in out.stderr


# ----------------------------------------------------------------------------- sources


def test_symlinked_dockerfile_outside_the_root_is_reported_not_rewritten(
    repo: Path, outside: Path
) -> None:
    (outside / "Dockerfile").write_text(ROOT_RUN)
    (repo / "Dockerfile").symlink_to(outside / "Dockerfile")
    out = tighten("fix", "--offline", "--select", "DF001", ".", cwd=repo)
    assert (outside / "Dockerfile").read_text() == ROOT_RUN
    assert (repo / "Dockerfile").is_symlink()
    assert "symlink to" in out.stderr and "name the target to fix it" in out.stderr
    assert out.returncode == 1, out.stderr  # a notice and a remaining finding, no error
    named = tighten("fix", "--offline", "--select", "DF001", "Dockerfile", cwd=repo)
    assert "name the target" in named.stderr
    assert (outside / "Dockerfile").read_text() == ROOT_RUN
    fixed = tighten("fix", "--offline", "--select", "DF001", str(outside / "Dockerfile"), cwd=repo)
    assert fixed.returncode == 0, fixed.stderr
    assert "USER" in (outside / "Dockerfile").read_text()  # naming the target fixes it


def test_a_link_never_hides_the_file_it_points_to(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.prod").write_text(ROOT_RUN)
    (tmp_path / "Dockerfile").symlink_to("Dockerfile.prod")  # sorts first
    walked = [t.path.name for t in discover([str(tmp_path)])]
    assert walked == ["Dockerfile.prod"]
    out = tighten(
        "fix", "--offline", "--select", "DF001", "Dockerfile", "Dockerfile.prod", cwd=tmp_path
    )
    assert "USER" in (tmp_path / "Dockerfile.prod").read_text(), out.stderr
    assert "name the target to fix it" in out.stderr
    assert (tmp_path / "Dockerfile").is_symlink()


def test_folder_symlink_leading_outside_the_repo(repo: Path, outside: Path) -> None:
    (outside / "Dockerfile").write_text(ROOT_RUN)
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    out = tighten("fix", "--offline", "--select", "DF001", "linked/Dockerfile", cwd=repo)
    assert (outside / "Dockerfile").read_text() == ROOT_RUN
    assert "linked is a symlink leading outside" in out.stderr
    assert sorted(p.name for p in outside.iterdir()) == ["Dockerfile", "victim.yaml"]


def test_hard_linked_file_is_refused(repo: Path, outside: Path) -> None:
    (outside / "Dockerfile").write_text(ROOT_RUN)
    os.link(outside / "Dockerfile", repo / "Dockerfile")
    out = tighten("fix", "--offline", "--select", "DF001", ".", cwd=repo)
    assert out.returncode == 2
    assert "Dockerfile: has 2 hard links; not modified" in out.stderr
    assert (outside / "Dockerfile").read_text() == ROOT_RUN
    assert os.stat(repo / "Dockerfile").st_ino == os.stat(outside / "Dockerfile").st_ino


# ----------------------------------------------------------------------------- .gitignore


def test_symlinked_gitignore_is_not_written_and_the_secret_stays_put(
    repo: Path, outside: Path
) -> None:
    (outside / "gitignore").write_text("*.log\n")
    (repo / ".gitignore").symlink_to(outside / "gitignore")
    (repo / "Dockerfile").write_text(SECRET_DOCKERFILE)
    out = tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=repo)
    no_token(out)
    assert out.returncode == 2
    assert ".gitignore is not a regular file" in out.stderr
    assert (outside / "gitignore").read_text() == "*.log\n"
    assert (repo / "Dockerfile").read_text() == SECRET_DOCKERFILE
    assert list(repo.glob("*.secret.yaml")) == []


def test_newline_in_a_name_never_splits_an_ignore_line(repo: Path) -> None:
    (repo / "a\nb.yaml").write_text(SECRET_POD)
    (repo / ".gitignore").write_text("node_modules/\n")
    out = tighten("fix", "--select", "K8S004", ".", cwd=repo)
    no_token(out)
    # The generated file's name is made safe ([A-Za-z0-9._-]), so the ignore line is whole.
    assert out.returncode == 0, out.stderr
    assert (repo / ".gitignore").read_text() == "node_modules/\n/a-b.secrets.yaml\n"
    assert [p.name for p in repo.glob("*.secrets.yaml")] == ["a-b.secrets.yaml"]


def test_a_control_character_in_an_ignore_pattern_is_refused(repo: Path) -> None:
    from fixer.secrets.gitignore import ensure_ignored
    from fixer.write import WriteError

    (repo / ".gitignore").write_text("node_modules/\n")
    with pytest.raises(WriteError, match="control character"):
        ensure_ignored(repo / "a\nb.secrets.yaml")
    assert (repo / ".gitignore").read_text() == "node_modules/\n"


def test_secret_that_git_would_not_ignore_is_not_written(repo: Path) -> None:
    (repo / "k8s").mkdir()
    (repo / "k8s" / "pod.yaml").write_text(SECRET_POD)
    # The line is there, but a later rule un-ignores the file again.
    (repo / "k8s" / ".gitignore").write_text("/pod.secrets.yaml\n!pod.secrets.yaml\n")
    out = tighten("fix", "--select", "K8S004", ".", cwd=repo)
    no_token(out)
    assert out.returncode == 2
    assert "pod.secrets.yaml would not be git-ignored" in out.stderr
    assert (repo / "k8s" / "pod.yaml").read_text() == SECRET_POD
    assert not (repo / "k8s" / "pod.secrets.yaml").exists()


def test_tracked_secret_file_is_refused(repo: Path) -> None:
    (repo / "pod.secrets.yaml").write_text("kind: Secret\n")
    subprocess.run(["git", "add", "pod.secrets.yaml"], cwd=repo, check=True)
    with pytest.raises(write.WriteError, match="tracked by git"):
        gitignore.ensure_ignored(repo / "pod.secrets.yaml")
    assert not (repo / ".gitignore").exists()


def test_concurrent_runs_keep_every_ignore_line(repo: Path) -> None:
    names = ("a", "b", "c", "d")
    folders = [repo / f"d{n:02d}" for n in range(30)]
    for folder in folders:
        folder.mkdir()
        (folder / ".gitignore").write_text("*.log\n")
        for name in names:
            (folder / f"{name}.yaml").write_text(SECRET_POD.replace("name: p", f"name: {name}"))
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "fixer", "fix", "--select", "K8S004"]
            + [f"{f.name}/{name}.yaml" for f in folders],
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    errors = [run.communicate(timeout=300)[1] for run in runs]
    assert [run.returncode for run in runs] == [0] * len(runs), errors
    for folder in folders:
        lines = (folder / ".gitignore").read_text().splitlines()
        assert sorted(lines) == ["*.log", *(f"/{n}.secrets.yaml" for n in names)], folder


# ----------------------------------------------------------------------------- temp files


def test_stale_temp_files_are_swept(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_RUN)
    stale = tmp_path / ".Dockerfile.k3x9_q2z.tighten"
    fresh = tmp_path / ".Dockerfile.a1b2c3d4.tighten"
    other = tmp_path / ".Dockerfile.tighten"  # not our pattern
    linked = tmp_path / ".pod.yaml.zzzzzzzz.tighten"
    for path in (stale, fresh, other):
        path.write_text("partial")
    linked.symlink_to(tmp_path / "Dockerfile")
    old = time.time() - 3600
    for path in (stale, other):
        os.utime(path, (old, old))
    os.utime(linked, (old, old), follow_symlinks=False)
    out = tighten("fix", "--offline", "--select", "DF001", ".", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "removed 1 stale temp file" in out.stderr
    assert not stale.exists()
    assert fresh.exists() and other.exists() and linked.is_symlink()


# ----------------------------------------------------------------------------- the writer


def test_write_atomic_refuses_links_and_escapes(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "link.yaml").symlink_to(outside / "victim.yaml")
    (root / "out").symlink_to(outside, target_is_directory=True)
    (root / "in").symlink_to(root / "sub", target_is_directory=True)
    with pytest.raises(write.LinkedPath, match="symlink to"):
        write.write_atomic(root / "link.yaml", b"x", root=root)
    with pytest.raises(write.LinkedPath, match="leading outside"):
        write.write_atomic(root / "out" / "victim.yaml", b"x", root=root)
    with pytest.raises(write.LinkedPath, match="leading outside"):
        write.write_atomic(root / "out" / "new" / "s.yaml", b"x", root=root, make_parents=True)
    assert (outside / "victim.yaml").read_text() == VICTIM
    assert sorted(p.name for p in outside.iterdir()) == ["victim.yaml"]
    write.write_atomic(root / "in" / "ok.yaml", b"ok", root=root)  # a link that stays inside
    assert (root / "sub" / "ok.yaml").read_bytes() == b"ok"
    write.write_atomic(
        root / "made" / "deep" / "s.yaml", b"s", root=root, private=True, make_parents=True
    )
    assert stat.S_IMODE((root / "made" / "deep" / "s.yaml").stat().st_mode) == 0o600
