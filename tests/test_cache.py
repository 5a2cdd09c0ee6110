"""The result cache of ``check``: hits, invalidation, where it lives, what it never stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.realparts import tighten

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


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "deploy.yaml").write_text(DEPLOYMENT)
    return tmp_path


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.entries"))


def _entries(file: Path) -> dict[str, list[Any]]:
    """The entries file read back: path -> [file key, stored result]. A head line, then
    one line per file: path (JSON), tab, key, tab, result (JSON)."""
    head, *lines = file.read_bytes().split(b"\n")[:-1]
    assert json.loads(head)["format"] == 2
    entries = {}
    for line in lines:
        name, key, value = line.split(b"\t", 2)
        entries[json.loads(name)] = [key.decode(), json.loads(value)]
    return entries


def _write_entries(file: Path, entries: dict[str, list[Any]]) -> None:
    head = file.read_bytes().split(b"\n", 1)[0]
    lines = [head]
    for path, (key, value) in entries.items():
        lines.append(
            b"\t".join([json.dumps(path).encode(), key.encode(), json.dumps(value).encode()])
        )
    file.write_bytes(b"\n".join(lines) + b"\n")


def _mark_messages(folder: Path, mark: str) -> None:
    """Rewrite every cached finding's message, so output that shows ``mark`` came from the
    cache and output that does not was computed (the printed output kept by an earlier run
    is dropped, or it would answer first)."""
    for printed in folder.glob("*.out"):
        printed.unlink()
    for file in _cache_files(folder):
        entries = _entries(file)
        for _, result in entries.values():
            for finding in result["found"]:
                finding["message"] = mark
        _write_entries(file, entries)


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
    # Files older than the racy window: the run keeps its manifest and printed output too,
    # and a corrupt entries file must void them (on a slow machine this happened by chance).
    _age(project)
    expected = tighten("check", ".", cwd=project)
    folder = project / ".tighten_cache"
    (file,) = _cache_files(folder)
    entries = _entries(file)
    for entry in entries.values():
        entry[1] = {"found": "not a list"}  # same key, malformed entry
    _write_entries(file, entries)
    with file.open("ab") as out:
        out.write(b'"cut\tshort')  # a last line without its end
    again = tighten("check", ".", cwd=project)
    assert (again.returncode, again.stdout) == (expected.returncode, expected.stdout)
    file.write_bytes(b"\x00garbage{")
    again = tighten("check", ".", cwd=project)
    assert (again.returncode, again.stdout) == (expected.returncode, expected.stdout)
    assert _entries(file)  # rewritten whole


def test_results_with_secret_values_are_never_stored(project: Path) -> None:
    (project / "app" / "Dockerfile").write_text(
        DOCKERFILE + f"ENV AWS_SECRET_ACCESS_KEY={FAKE_SECRET}\n"
    )
    first = tighten("check", ".", cwd=project)
    assert "DF004" in first.stdout and FAKE_SECRET not in first.stdout
    stored = b"".join(p.read_bytes() for p in (project / ".tighten_cache").iterdir())
    assert FAKE_SECRET.encode() not in stored
    entries = _entries(_cache_files(project / ".tighten_cache")[0])
    assert not any(p.endswith("Dockerfile") for p in entries)  # recomputed on every run
    assert any(p.endswith("deploy.yaml") for p in entries)
    assert tighten("check", ".", cwd=project).stdout == first.stdout


# --- the run manifest: an unchanged tree answered from one file ------------------------------


def _age(root: Path) -> None:
    """Every file a minute old: files written within the last seconds are racy (a change in
    the same timestamp tick keeps their stamp), and a run that sees one writes no manifest."""
    past = __import__("time").time() - 60
    for path in [root, *root.rglob("*")]:
        if ".tighten_cache" not in path.parts:
            os.utime(path, (past, past), follow_symlinks=False)


def _manifests(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.manifest"))


def _mark_manifest(folder: Path, mark: str) -> None:
    """Rewrite every finding message the manifest holds (entries stay as they are), and
    drop the printed output kept beside it, so the next run is answered from the manifest."""
    for printed in folder.glob("*.out"):
        printed.unlink()
    for file in _manifests(folder):
        stored = json.loads(file.read_text())
        for entry in stored["results"]:
            for finding in (entry[1] or {}).get("found", ()):
                finding["message"] = mark
        file.write_text(json.dumps(stored))


def test_unchanged_tree_is_answered_from_the_run_manifest(project: Path) -> None:
    _age(project)
    expected = {
        fmt: tighten("check", "--no-cache", "--format", fmt, ".", cwd=project)
        for fmt in ("text", "json", "sarif", "github")
    }
    first = tighten("check", ".", cwd=project)
    assert len(_manifests(project / ".tighten_cache")) == 1
    for fmt, fresh in expected.items():
        warm = tighten("check", "--format", fmt, ".", cwd=project)
        assert (warm.returncode, warm.stdout, warm.stderr) == (
            fresh.returncode,
            fresh.stdout,
            fresh.stderr,
        ), fmt
    assert first.stdout == expected["text"].stdout

    _mark_manifest(project / ".tighten_cache", "FROM-MANIFEST")
    out = tighten("check", ".", cwd=project).stdout
    lines = out.splitlines()
    assert len(lines) == len(expected["text"].stdout.splitlines()) == 5
    assert all(" FROM-MANIFEST" in line for line in lines)  # every finding line
    assert tighten("check", "--no-cache", ".", cwd=project).stdout == expected["text"].stdout


@pytest.mark.parametrize(
    "change",
    ["edit", "same size edit", "touch", "new file", "removed file", "gitignore", "git exclude"],
)
def test_any_change_below_the_root_runs_in_full(project: Path, change: str) -> None:
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    _age(project)
    tighten("check", ".", cwd=project)
    _mark_manifest(project / ".tighten_cache", "FROM-MANIFEST")
    assert "FROM-MANIFEST" in tighten("check", ".", cwd=project).stdout
    deploy = project / "deploy.yaml"
    if change == "edit":
        deploy.write_text(DEPLOYMENT.replace("privileged: true", "x: 1"))
    elif change == "same size edit":
        deploy.write_text(DEPLOYMENT.replace("nginx:1.27", "nginx:1.28"))
    elif change == "touch":
        deploy.touch()
    elif change == "new file":
        (project / "more").mkdir()
        (project / "more" / "Dockerfile").write_text(DOCKERFILE)
    elif change == "removed file":
        deploy.unlink()
    elif change == "gitignore":
        (project / ".gitignore").write_text("deploy.yaml\n")
    else:  # git's own ignore list, inside .git (which the stat walk does not enter)
        (project / ".git" / "info" / "exclude").write_text("deploy.yaml\n")
    after = tighten("check", ".", cwd=project)
    assert "FROM-MANIFEST" not in after.stdout
    assert after.stdout == tighten("check", "--no-cache", ".", cwd=project).stdout


def test_files_changed_moments_ago_write_no_manifest(project: Path) -> None:
    _age(project)
    tighten("check", ".", cwd=project)
    assert len(_manifests(project / ".tighten_cache")) == 1
    deploy = project / "deploy.yaml"
    deploy.write_text(DEPLOYMENT + "# changed\n")
    # Within the last two seconds when the run starts, however slowly it starts here.
    soon = __import__("time").time() + 5
    os.utime(deploy, (soon, soon))
    tighten("check", ".", cwd=project)
    assert _manifests(project / ".tighten_cache") == []  # none new, and the stale one is gone


def test_manifest_never_holds_a_secret_and_reruns_only_the_rule_that_found_it(
    project: Path,
) -> None:
    (project / "app" / "Dockerfile").write_text(
        DOCKERFILE + f"ENV AWS_SECRET_ACCESS_KEY={FAKE_SECRET}\n"
    )
    _age(project)
    fresh = tighten("check", "--no-cache", ".", cwd=project)
    assert "DF004" in fresh.stdout and "DF003" in fresh.stdout
    first = tighten("check", ".", cwd=project)
    stored = b"".join(p.read_bytes() for p in (project / ".tighten_cache").iterdir())
    assert FAKE_SECRET.encode() not in stored
    _mark_manifest(project / ".tighten_cache", "FROM-MANIFEST")
    warm = tighten("check", ".", cwd=project).stdout
    lines = [line for line in warm.splitlines() if "Dockerfile" in line]
    assert any("DF003 FROM-MANIFEST" in line for line in lines)  # the other rules: stored
    assert any("DF004" in line and "FROM-MANIFEST" not in line for line in lines)  # rerun
    assert FAKE_SECRET not in warm
    assert first.stdout == fresh.stdout


# --- the printed output: an unchanged tree answered by printing it again --------------------


def _outputs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.out"))


def test_unchanged_tree_prints_what_the_last_run_printed_interleaved(project: Path) -> None:
    (project / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    _age(project)
    fresh = tighten("check", "--no-cache", ".", cwd=project)
    assert fresh.returncode == 2 and "error:" in fresh.stderr
    first = tighten("check", ".", cwd=project)
    assert len(_outputs(project / ".tighten_cache")) == 1
    # The manifest is made useless: only the kept output can answer now.
    for file in _manifests(project / ".tighten_cache"):
        file.write_text("{}")
    warm = tighten("check", ".", cwd=project)
    assert (warm.returncode, warm.stdout, warm.stderr) == (2, first.stdout, first.stderr)
    assert (warm.stdout, warm.stderr) == (fresh.stdout, fresh.stderr)
    # One stream for both: the order of stdout and stderr lines is the run's own.
    merged = [sys.executable, "-m", "fixer", "check", "."]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    both = [
        subprocess.run(
            merged,
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        ).stdout
        for _ in range(2)
    ]
    assert both[0] == both[1]


def test_kept_output_is_per_format_and_never_holds_a_secret(project: Path) -> None:
    (project / "app" / "Dockerfile").write_text(
        DOCKERFILE + f"ENV AWS_SECRET_ACCESS_KEY={FAKE_SECRET}\n"
    )
    _age(project)
    fresh = {
        f: tighten("check", "--no-cache", "--format", f, ".", cwd=project)
        for f in ("text", "sarif")
    }
    for fmt in ("text", "sarif", "text", "sarif"):
        run = tighten("check", "--format", fmt, ".", cwd=project)
        assert (run.returncode, run.stdout, run.stderr) == (
            fresh[fmt].returncode,
            fresh[fmt].stdout,
            fresh[fmt].stderr,
        ), fmt
    assert len(_outputs(project / ".tighten_cache")) == 2
    stored = b"".join(p.read_bytes() for p in (project / ".tighten_cache").iterdir())
    assert FAKE_SECRET.encode() not in stored and b"DF004" in stored


def test_kept_output_is_not_used_after_a_change_or_when_cut_short(project: Path) -> None:
    _age(project)
    tighten("check", ".", cwd=project)
    (printed,) = _outputs(project / ".tighten_cache")
    data = printed.read_bytes()
    printed.write_bytes(data[:-3])  # cut short: never printed half
    assert (
        tighten("check", ".", cwd=project).stdout
        == tighten("check", "--no-cache", ".", cwd=project).stdout
    )
    (project / "deploy.yaml").write_text(DEPLOYMENT.replace("privileged: true", "x: 1"))
    after = tighten("check", ".", cwd=project)
    assert "K8S001" not in after.stdout
    assert after.stdout == tighten("check", "--no-cache", ".", cwd=project).stdout


def test_the_key_knows_whether_kustomize_overlays_can_be_rendered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A result judged with ``kubectl kustomize`` is not one judged without a renderer."""
    from fixer.cache import run_key
    from fixer.settings import Settings
    from tests.helpers import RULES

    settings = Settings.of(offline=True)
    tool = tmp_path / "kubectl"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with_renderer = run_key(settings, RULES)
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    assert run_key(settings, RULES) != with_renderer


# --- the entries file: streamed, merged, never held whole ------------------------------------


def _results(root: Path, count: int) -> list[Any]:
    from fixer.engine import process_file
    from fixer.settings import Settings
    from tests.helpers import RULES

    found = []
    for n in range(count):
        path = root / f"Dockerfile.{n}"
        path.write_text(f"FROM debian:{n}\nRUN apt-get update && apt-get install -y curl\n")
        found.append(process_file(path, "dockerfile", Settings(), rules=RULES, fix=False))
    return found


def test_entries_stream_to_disk_and_merge_with_the_last_runs(tmp_path: Path) -> None:
    from fixer import spool
    from fixer.cache import ResultCache, stored

    folder = tmp_path / ".tighten_cache"
    a, b, c = _results(tmp_path, 3)
    first = ResultCache.load(folder, "k", None)
    first._spool = spool.Spool(folder, cache_prepare, memory=64)  # moves to a file at once
    for result in (a, b):
        value = stored(result)
        assert value is not None
        first.put(result.path, f"key-{result.path.name}", value)
    assert first.save() is None and len(list(folder.glob(".tmp-*"))) == 0
    second = ResultCache.load(folder, "k", None)
    assert len(second) == 2
    hit = second.get(a.path, f"key-{a.path.name}", a.path.read_bytes())
    assert hit is not None and [f.rule for f in hit.found] == [f.rule for f in a.found]
    assert second.get(a.path, "another key", b"") is None
    for result, key in ((b, "key-b2"), (c, "key-c")):
        value = stored(result)
        assert value is not None
        second.put(result.path, key, value)
    assert second.save() is None
    third = ResultCache.load(folder, "k", None)
    assert len(third) == 3  # a kept, b replaced, c added
    assert third.get(a.path, f"key-{a.path.name}", a.path.read_bytes()) is not None
    assert third.get(b.path, f"key-{b.path.name}", b"") is None
    assert third.get(b.path, "key-b2", b.path.read_bytes()) is not None
    assert third.get(c.path, "key-c", c.path.read_bytes()) is not None
    third.close()


def test_a_run_that_never_saves_leaves_the_entries_as_they_were(tmp_path: Path) -> None:
    from fixer.cache import ResultCache, stored

    folder = tmp_path / ".tighten_cache"
    (a,) = _results(tmp_path, 1)
    value = stored(a)
    assert value is not None
    cache = ResultCache.load(folder, "k", None)
    cache.put(a.path, "key", value)
    cache.save()
    before = _cache_files(folder)[0].read_bytes()
    interrupted = ResultCache.load(folder, "k", None)
    interrupted.put(a.path, "other", value)
    interrupted.close()  # stopped (Ctrl-C): the spooled entries are dropped
    assert _cache_files(folder)[0].read_bytes() == before
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp")) == []


def cache_prepare(folder: Path) -> None:
    from fixer.cache import prepare_folder

    prepare_folder(folder)
