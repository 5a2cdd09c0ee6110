"""Faults: files that change under us, runs killed midway, read-only files and folders,
huge files and alias bombs. Each must leave the user's files whole and say what happened."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixer.engine import FileResult, process_file
from fixer.mode import Mode
from fixer.session import Session
from fixer.settings import Settings
from tests.helpers import RULES

pytestmark = pytest.mark.slow  # deselected by `pytest -m "not slow"`

ROOT_RUN = b'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["app"]\n'
PRIVILEGED = (
    b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
    b"  - name: a\n    image: nginx:1.27\n    securityContext:\n      privileged: true\n"
)
TIGHTEN = [sys.executable, "-m", "fixer"]


def tighten(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIGHTEN, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


@pytest.fixture
def restore_modes(tmp_path: Path) -> Iterator[Path]:
    """chmod'ed paths must become writable again or tmp_path cannot be cleaned up."""
    yield tmp_path
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


# --- a file that changes between read and write --------------------------------------------


def test_file_changed_on_disk_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "Dockerfile"
    other = tmp_path / "pod.yaml"
    target.write_bytes(ROOT_RUN)
    other.write_bytes(PRIVILEGED)
    theirs = ROOT_RUN.replace(b"COPY app", b"COPY their-change")
    real = process_file

    def racing(path: Path, *args: object, **kwargs: object) -> FileResult:
        result = real(path, *args, **kwargs)  # type: ignore[arg-type]
        if path == target:
            target.write_bytes(theirs)  # someone saves the file while tighten works
        return result

    monkeypatch.setattr("fixer.runner.process_file", racing)
    out, err = io.StringIO(), io.StringIO()
    code = Session(Settings.of(offline=True), Mode.FIX, out=out, err=err, rules=RULES).execute(
        [str(tmp_path)]
    )
    assert code == 2
    assert target.read_bytes() == theirs, "their change was lost"
    assert re.search(r"Dockerfile: .*changed on disk.*not overwritten", err.getvalue())
    assert b"privileged: false" in other.read_bytes(), "the other file is still fixed"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tighten")] == []


# --- a run killed midway -------------------------------------------------------------------


def test_killed_run_leaves_every_file_whole(tmp_path: Path) -> None:
    sample = tmp_path / "sample" / "Dockerfile"
    sample.parent.mkdir()
    sample.write_bytes(ROOT_RUN)
    assert tighten("fix", "--offline", "-q", str(sample)).returncode == 0
    fixed = sample.read_bytes()
    assert fixed != ROOT_RUN
    folder = tmp_path / "many"
    folder.mkdir()
    names = [f"Dockerfile.{n:04d}" for n in range(1500)]
    for name in names:
        (folder / name).write_bytes(ROOT_RUN)
    first, last = folder / names[0], folder / names[-1]
    proc = subprocess.Popen(
        [*TIGHTEN, "fix", "--offline", "-q", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while first.read_bytes() == ROOT_RUN and proc.poll() is None:
        assert time.monotonic() < deadline, "tighten never wrote the first file"
        time.sleep(0.002)
    time.sleep(0.05)  # let it get well into the writes
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert last.read_bytes() == ROOT_RUN, "the run was not killed midway"
    torn = [n for n in names if (folder / n).read_bytes() not in (ROOT_RUN, fixed)]
    assert torn == [], f"files neither old nor new: {torn[:5]}"
    new = sum((folder / n).read_bytes() == fixed for n in names)
    assert 0 < new < len(names)
    leftovers = sorted(set(os.listdir(folder)) - set(names))
    pattern = re.compile(r"\.(Dockerfile\.\d{4})\.[^/]+\.tighten")
    for name in leftovers:  # a temp file may survive SIGKILL: hidden, named for its file
        match = pattern.fullmatch(name)
        assert match and match.group(1) in names, f"unexpected file {name!r}"
    # A leftover temp file is never taken for user data by the next run.
    rerun = tighten("fix", "--offline", "-q", str(folder))
    assert rerun.returncode == 0, rerun.stderr
    assert all((folder / n).read_bytes() == fixed for n in names)
    # Older leftovers may be swept by it (fixer.write.STALE_AFTER); nothing else is touched.
    assert set(os.listdir(folder)) - set(names) <= set(leftovers)


# --- read-only files and folders -----------------------------------------------------------


def test_read_only_file_is_reported_not_rewritten(restore_modes: Path) -> None:
    target = restore_modes / "Dockerfile"
    target.write_bytes(ROOT_RUN)
    target.chmod(0o444)
    run = tighten("fix", "--offline", str(target))
    assert run.returncode == 2
    assert "Dockerfile: file is read-only; not modified" in run.stderr
    assert target.read_bytes() == ROOT_RUN
    assert tighten("check", str(target)).returncode == 1  # reading it is fine


def test_read_only_folder_is_reported_not_rewritten(restore_modes: Path) -> None:
    folder = restore_modes / "ro"
    folder.mkdir()
    target = folder / "pod.yaml"
    target.write_bytes(PRIVILEGED)
    folder.chmod(0o555)
    run = tighten("fix", "--offline", str(folder))
    assert run.returncode == 2
    assert "pod.yaml: folder is read-only; not modified" in run.stderr
    assert target.read_bytes() == PRIVILEGED
    assert os.listdir(folder) == ["pod.yaml"]


# --- huge files and alias bombs ------------------------------------------------------------

#: Runs tighten in a child and reports its exit code, stderr, wall time and peak RSS.
MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    run = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"code": run.returncode, "stderr": run.stderr, "wall": wall, "rss_mb": rss}))
    """
)


def measured(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *TIGHTEN, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _bounded(result: dict[str, object]) -> None:
    assert isinstance(result["wall"], float) and result["wall"] < 10, result
    assert isinstance(result["rss_mb"], float) and result["rss_mb"] < 300, result


@pytest.mark.parametrize("name", ["Dockerfile", "huge.yaml"])
@pytest.mark.parametrize("command", ["check", "fix"])
def test_huge_file_is_refused_quickly(tmp_path: Path, name: str, command: str) -> None:
    target = tmp_path / name
    line = b"RUN echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
    if name.endswith(".yaml"):
        line = b"  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
    head = b"FROM debian\n" if name == "Dockerfile" else b"apiVersion: v1\nkind: List\nitems:\n"
    target.write_bytes(head + line * (50 * 1024 * 1024 // len(line)))
    before = target.stat().st_mtime_ns
    result = (
        measured(command, "--offline", str(target))
        if command == "fix"
        else measured(command, str(target))
    )
    assert result["code"] == 2, result
    assert f"{name}: refused: larger than 10 MB" in str(result["stderr"])
    _bounded(result)
    assert target.stat().st_mtime_ns == before


def _alias_bomb(levels: int = 12) -> bytes:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: lol", "data:"]
    lines.append('  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]')
    for n in range(1, levels):
        refs = ", ".join([f"*l{n - 1}"] * 9)
        lines.append(f"  l{n}: &l{n} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("command", ["check", "fix"])
def test_alias_bomb_is_refused_quickly(tmp_path: Path, command: str) -> None:
    target = tmp_path / "bomb.yaml"
    target.write_bytes(_alias_bomb())  # 9**12 strings once expanded
    args = (command, "--offline") if command == "fix" else (command,)
    result = measured(*args, str(target))
    assert result["code"] == 2, result
    assert re.search(
        r"bomb\.yaml: refused: aliases expand to more than [\d,]+ nodes", str(result["stderr"])
    )
    _bounded(result)
    assert target.read_bytes() == _alias_bomb()


def test_alias_bomb_in_a_walked_folder_does_not_stop_the_run(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_bytes(_alias_bomb())
    (tmp_path / "pod.yaml").write_bytes(PRIVILEGED)
    run = tighten("fix", "--offline", str(tmp_path))
    assert run.returncode == 2
    assert "refused: aliases expand" in run.stderr
    assert b"privileged: false" in (tmp_path / "pod.yaml").read_bytes()
