"""The result cache of ``check``: hits, invalidation, where it lives, what it never stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test runs the CLI a few times

ROOT = Path(__file__).resolve().parent.parent
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example key

DOCKERFILE = """\
FROM alpine:3.19
RUN apk add --no-cache curl
COPY app /app
CMD ["/app"]
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            privileged: true
"""


def tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "deploy.yaml").write_text(DEPLOYMENT)
    return tmp_path


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def _mark_messages(folder: Path, mark: str) -> None:
    """Rewrite every cached finding's message, so output that shows ``mark`` came from the
    cache and output that does not was computed."""
    for file in _cache_files(folder):
        stored = json.loads(file.read_text())
        for entry in stored["entries"].values():
            result = json.loads(entry[1])  # each result is JSON text inside the file
            for finding in result["found"]:
                finding["message"] = mark
            entry[1] = json.dumps(result)
        file.write_text(json.dumps(stored))


def test_second_check_answers_from_the_cache_with_the_same_output(project: Path) -> None:
    fresh = tighten("check", "--no-cache", ".", cwd=project)
    assert not (project / ".tighten_cache").exists()  # --no-cache writes nothing
    cold = tighten("check", ".", cwd=project)
    warm = tighten("check", ".", cwd=project)
    assert fresh.returncode == cold.returncode == warm.returncode == 1
    assert fresh.stdout == cold.stdout == warm.stdout
    assert "DF001" in warm.stdout and "K8S" in warm.stdout
    for fmt in ("json", "sarif", "github"):
        expected = tighten("check", "--no-cache", "--format", fmt, ".", cwd=project).stdout
        tighten("check", "--format", fmt, ".", cwd=project)
        assert tighten("check", "--format", fmt, ".", cwd=project).stdout == expected, fmt

    _mark_messages(project / ".tighten_cache", "FROM-CACHE")
    assert "FROM-CACHE" in tighten("check", ".", cwd=project).stdout
    assert "FROM-CACHE" not in tighten("check", "--no-cache", ".", cwd=project).stdout


def test_cache_folder_is_ignored_by_git_and_tagged(project: Path) -> None:
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    tighten("check", "app", cwd=project)  # a subfolder: the cache goes to the work tree root
    folder = project / ".tighten_cache"
    assert (folder / ".gitignore").read_text() == "*\n"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".tighten_cache" not in status


def test_a_changed_file_is_checked_again(project: Path) -> None:
    tighten("check", ".", cwd=project)
    _mark_messages(project / ".tighten_cache", "FROM-CACHE")
    (project / "deploy.yaml").write_text(DEPLOYMENT.replace("privileged: true", "x: 1"))
    out = tighten("check", ".", cwd=project).stdout
    assert "deploy.yaml" in out and "FROM-CACHE" not in out  # every entry: the model changed


def test_a_change_elsewhere_invalidates_only_results_that_asked_the_repository(
    project: Path,
) -> None:
    # DF001 asks the repository model (which manifests run the image): a new file anywhere
    # may change its answer. K8S001 alone does not: its entries stay valid.
    tighten("check", "--select", "DF001", ".", cwd=project)
    tighten("check", "--select", "K8S001", ".", cwd=project)
    assert len(_cache_files(project / ".tighten_cache")) == 2  # one per run key
    _mark_messages(project / ".tighten_cache", "FROM-CACHE")
    (project / "notes.txt").write_text("a new file\n")
    assert "FROM-CACHE" not in tighten("check", "--select", "DF001", ".", cwd=project).stdout
    assert "FROM-CACHE" in tighten("check", "--select", "K8S001", ".", cwd=project).stdout


def test_settings_are_part_of_the_key(project: Path) -> None:
    default = tighten("check", ".", cwd=project).stdout
    baseline = tighten("check", "--profile", "baseline", ".", cwd=project).stdout
    assert (
        baseline == tighten("check", "--profile", "baseline", "--no-cache", ".", cwd=project).stdout
    )
    assert default == tighten("check", ".", cwd=project).stdout
    assert len(_cache_files(project / ".tighten_cache")) == 2


def test_config_cache_false_and_cache_dir(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (project / ".tighten.toml").write_text("cache = false\n")
    tighten("check", ".", cwd=project)
    assert not (project / ".tighten_cache").exists()
    (project / ".tighten.toml").write_text("")
    elsewhere = tmp_path_factory.mktemp("cache")
    tighten("check", "--cache-dir", str(elsewhere), ".", cwd=project)
    assert not (project / ".tighten_cache").exists()
    assert len(_cache_files(elsewhere)) == 1 and (elsewhere / ".gitignore").exists()


def test_fix_neither_reads_nor_writes_the_cache(project: Path) -> None:
    tighten("fix", "--dry-run", "--offline", ".", cwd=project)
    assert not (project / ".tighten_cache").exists()


def test_corrupt_cache_and_entries_are_ignored(project: Path) -> None:
    expected = tighten("check", ".", cwd=project)
    folder = project / ".tighten_cache"
    (file,) = _cache_files(folder)
    stored = json.loads(file.read_text())
    for path in stored["entries"]:
        stored["entries"][path][1] = '{"found": "not a list"}'  # same key, malformed entry
    file.write_text(json.dumps(stored))
    again = tighten("check", ".", cwd=project)
    assert (again.returncode, again.stdout) == (expected.returncode, expected.stdout)
    file.write_bytes(b"\x00garbage{")
    again = tighten("check", ".", cwd=project)
    assert (again.returncode, again.stdout) == (expected.returncode, expected.stdout)
    assert json.loads(file.read_text())["entries"]  # rewritten whole


def test_results_with_secret_values_are_never_stored(project: Path) -> None:
    (project / "app" / "Dockerfile").write_text(
        DOCKERFILE + f"ENV AWS_SECRET_ACCESS_KEY={FAKE_SECRET}\n"
    )
    first = tighten("check", ".", cwd=project)
    assert "DF004" in first.stdout and FAKE_SECRET not in first.stdout
    stored = b"".join(p.read_bytes() for p in (project / ".tighten_cache").iterdir())
    assert FAKE_SECRET.encode() not in stored
    entries = json.loads(_cache_files(project / ".tighten_cache")[0].read_text())["entries"]
    assert not any(p.endswith("Dockerfile") for p in entries)  # recomputed on every run
    assert any(p.endswith("deploy.yaml") for p in entries)
    assert tighten("check", ".", cwd=project).stdout == first.stdout
