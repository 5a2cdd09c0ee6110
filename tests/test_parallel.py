"""Runs over many files use a pool of worker processes: the output must not show it.

Every command runs twice on the same generated folder of about 70 files (a sample of the
fixtures, whose fixes include generated Secret files, plus files that fail): in process
(``TIGHTEN_WORKERS=0``) and in two workers (``TIGHTEN_WORKERS=2``); stdout, stderr, the
exit code and, for ``fix``, every file afterwards must be byte-identical.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fixer import parallel
from fixer.engine import process_file
from fixer.settings import Settings
from tests.helpers import RULES, terminal_job

pytestmark = pytest.mark.slow  # deselected by `pytest -m "not slow"`

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TIGHTEN = [sys.executable, "-m", "fixer"]


def _sample(folder: Path) -> Path:
    """Every other fixture input (all rules, secrets included) and some broken files."""
    folder.mkdir()
    befores = sorted(FIXTURES.glob("*/*.before.*"))
    for path in befores[::2]:
        case = path.name.split(".before.")[0]
        suffix = "yaml" if path.suffix in (".yaml", ".yml") else "Dockerfile"
        shutil.copyfile(path, folder / f"{path.parent.name}-{case}.{suffix}")
    (folder / "empty.Dockerfile").write_bytes(b"")
    (folder / "binary.Dockerfile").write_bytes(b"FROM x\x00\x01")
    (folder / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    (folder / "chart.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {{ .Values }}\n")
    (folder / "workflow.yaml").write_text("on: push\njobs: {}\n")
    assert len(list(folder.iterdir())) > parallel.MIN_ITEMS
    return folder


def _run(args: list[str], cwd: Path, workers: int) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1", parallel.WORKERS_ENV: str(workers)}
    return subprocess.run(
        [*TIGHTEN, *args], cwd=cwd, env=env, capture_output=True, timeout=300, check=False
    )


def _tree(folder: Path) -> dict[str, bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


@pytest.mark.parametrize(
    "args",
    [
        ["check", "files"],
        ["check", "--format", "json", "files"],
        ["check", "--format", "sarif", "files"],
        ["fix", "--dry-run", "--offline", "files"],
        ["fix", "--dry-run", "--offline", "--format", "json", "files"],
    ],
    ids=lambda a: " ".join(a[:-1]),
)
def test_parallel_output_is_identical(tmp_path: Path, args: list[str]) -> None:
    _sample(tmp_path / "files")
    serial, pooled = _run(args, tmp_path, 0), _run(args, tmp_path, 2)
    assert serial.returncode in (0, 1, 2) and serial.stdout
    assert (pooled.returncode, pooled.stdout, pooled.stderr) == (
        serial.returncode,
        serial.stdout,
        serial.stderr,
    )


def test_parallel_fix_writes_the_same_files(tmp_path: Path) -> None:
    original = _sample(tmp_path / "original")
    runs = {}
    for workers in (0, 2):
        project = tmp_path / f"w{workers}"
        shutil.copytree(original, project / "files")
        run = _run(["fix", "--offline", "files"], project, workers)
        runs[workers] = (run.returncode, run.stdout, run.stderr, _tree(project))
    assert runs[2] == runs[0]
    written = runs[0][3]
    assert any(name.endswith(".gitignore") or "secret" in name.lower() for name in written)
    assert written != _tree(original)  # fixes were written: the comparison meant something


def test_results_with_side_files_cross_processes(tmp_path: Path) -> None:
    """A Secret fix's side file merges the same after a pickle round trip."""
    source = FIXTURES / "K8S004" / "block_2space.before.yaml"
    target = tmp_path / "pod.yaml"
    shutil.copyfile(source, target)
    result = process_file(target, "kubernetes", Settings(), rules=RULES, fix=True)
    sides = [s for fix in result.applied for s in fix.side_files]
    assert sides
    copy = pickle.loads(pickle.dumps(result))
    for side, same in zip(sides, [s for f in copy.applied for s in f.side_files], strict=True):
        assert same == side
        assert same.merge(None) == side.merge(None)
        assert same.masked_merge is not None and side.masked_merge is not None
        assert same.masked_merge(None) == side.masked_merge(None)


# --- the pool itself ---------------------------------------------------------------------


def _expand(context: int, items: list[int]) -> list[int]:
    """0, 1 or 2 results per item, so chunk sizes and result counts differ."""
    return [context * i + k for i in items for k in range(i % 3)]


def _die_in_a_worker(parent: int, items: list[int]) -> list[int]:
    if 17 in items and os.getpid() != parent:
        os._exit(3)  # the worker is killed (out of memory, say); the parent carries on
    return list(items)


def _unpicklable_in_a_worker(parent: int, items: list[int]) -> list[object]:
    if os.getpid() != parent:
        return [lambda i=i: i for i in items]  # cannot be pickled back to the parent
    return list(items)


@pytest.mark.parametrize("workers", [0, 2, 3])
def test_ordered_map_keeps_order_and_count(workers: int) -> None:
    items = list(range(100))
    got = list(parallel.ordered_map(_expand, items, 10, workers=workers, chunk=7))
    assert got == _expand(10, items)


def _thresholds(parent: int, items: list[int]) -> list[tuple[int, ...]]:
    import gc

    return [gc.get_threshold() if os.getpid() != parent else ()] * len(items)


def test_workers_collect_garbage_less_often_and_the_parent_as_before() -> None:
    import gc

    before = gc.get_threshold()
    got = set(parallel.ordered_map(_thresholds, list(range(40)), os.getpid(), workers=2, chunk=4))
    assert got == {parallel.WORKER_GC}
    assert gc.get_threshold() == before


def test_ordered_map_finishes_in_process_when_a_worker_dies() -> None:
    items = list(range(60))
    got = list(parallel.ordered_map(_die_in_a_worker, items, os.getpid(), workers=2, chunk=4))
    assert got == items


def test_ordered_map_finishes_in_process_when_results_cannot_come_back() -> None:
    items = list(range(30))
    got = list(
        parallel.ordered_map(_unpicklable_in_a_worker, items, os.getpid(), workers=2, chunk=4)
    )
    assert got == items


def _slow(_: int, items: list[int]) -> list[int]:
    time.sleep(0.05)
    return list(items)


def test_stopping_early_leaves_no_pool_thread_behind() -> None:
    # The interpreter's exit hook writes to the pool manager's wake-up pipe; a manager
    # still closing that pipe then made the exit print an EBADF traceback (seen once in
    # CI, after SIGTERM). A stopped run waits for the manager, so nothing is left to race.
    from concurrent.futures.process import _ExecutorManagerThread

    for _ in range(5):
        results = parallel.ordered_map(_slow, list(range(200)), 0, workers=2, chunk=2)
        assert next(results) == 0
        results.close()  # the caller stops early: the pool is killed
        alive = [t for t in threading.enumerate() if isinstance(t, _ExecutorManagerThread)]
        assert alive == []


def test_workers_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parallel.WORKERS_ENV, "0")
    assert parallel.workers_for(10_000) == 0
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    assert parallel.workers_for(10_000) == 0
    monkeypatch.setenv(parallel.WORKERS_ENV, "3")
    assert parallel.workers_for(5) == (3 if sys.platform == "linux" else 0)
    monkeypatch.delenv(parallel.WORKERS_ENV)
    assert parallel.workers_for(parallel.MIN_ITEMS) == 0  # small runs stay in process


# --- Ctrl-C and a killed parent ----------------------------------------------------------


def _many(folder: Path, count: int) -> None:
    folder.mkdir()
    text = (
        b'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCMD ["app"]\n'
    )
    for n in range(count):
        (folder / f"Dockerfile.{n:05d}").write_bytes(text)


def _workers_started(pid: int, seconds: float) -> bool:
    """Whether ``pid`` has forked its two workers (the run is past its serial start)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        children = 0
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                children += len((task / "children").read_text().split())
        if children >= 2:
            return True
        time.sleep(0.05)
    return False


def _group_gone(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(sys.platform != "linux", reason="the pool forks on Linux only")
def test_ctrl_c_stops_the_workers_quietly(tmp_path: Path) -> None:
    _many(tmp_path / "many", 6000)
    env = {**os.environ, parallel.WORKERS_ENV: "2"}
    proc = subprocess.Popen(
        [*TIGHTEN, "check", "-q", "many"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=terminal_job,
    )
    # Well into the run: the workers are forked and busy (on a loaded machine the serial
    # start alone can take longer than a second).
    assert _workers_started(proc.pid, 60), "the workers never started"
    time.sleep(0.3)
    assert proc.poll() is None, "the run finished before Ctrl-C"
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C: every process
    _, err = proc.communicate(timeout=60)
    # typer turns the KeyboardInterrupt into exit code 130
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err, err.decode()
    assert _group_gone(proc.pid, 10), "a worker outlived the run"


@pytest.mark.skipif(sys.platform != "linux", reason="the pool forks on Linux only")
def test_workers_leave_when_the_parent_is_killed(tmp_path: Path) -> None:
    _many(tmp_path / "many", 6000)
    env = {**os.environ, parallel.WORKERS_ENV: "2"}
    proc = subprocess.Popen(
        [*TIGHTEN, "check", "-q", "many"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(1.0)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.kill()
    proc.wait()
    assert _group_gone(proc.pid, 10), "an orphaned worker kept running"


@pytest.mark.parametrize(("edits", "bare"), [(False, True), (True, False)])
def test_check_results_cross_back_without_the_file_text(
    tmp_path: Path, edits: bool, bare: bool
) -> None:
    """A ``check`` that shows no edit (text, JSON, GitHub output) gets its results back
    without the file's text, which was most of what the workers pickled; SARIF (which
    shows the edits and reads regions from the text) still gets it."""
    from fixer.discover import discover
    from fixer.runner import run

    folder = _sample(tmp_path / "files")
    targets = list(discover([str(folder)]))
    results = list(run(targets, Settings.of(offline=True), rules=RULES, fix=False, edits=edits))
    read = [r for r in results if r.source is not None]
    assert len(read) > parallel.MIN_ITEMS  # each still says it was read (Report.add)
    texts = [r.source.text for r in read if r.source is not None]
    assert all(t == "" for t in texts) if bare else sum(t != "" for t in texts) > len(texts) - 2
    assert any(r.found for r in read)  # the findings themselves come back whole


def test_fix_results_of_unchanged_files_cross_back_without_the_file_text(
    tmp_path: Path,
) -> None:
    """``fix`` (text or JSON output) needs the texts of the files it changes only: the
    others come back without theirs, and the changed ones whole, with their diff."""
    from fixer.discover import discover
    from fixer.runner import run

    folder = _sample(tmp_path / "files")
    targets = list(discover([str(folder)]))
    settings = Settings.of(offline=True)
    results = list(
        run(targets, settings, rules=RULES, fix=True, diff=True, edits=False, pinning=True)
    )
    read = [r for r in results if r.source is not None]
    changed = [r for r in read if r.changed]
    same = [r for r in read if not r.changed]
    assert changed and same and len(read) > parallel.MIN_ITEMS
    assert all(r.source is not None and r.source.text and r.text and r.diff for r in changed)
    assert all(r.source is not None and r.source.text == "" and r.text == "" for r in same)
