"""``Beside``: a computation in a forked child while the parent works, with the same
answer (or the same error) as computing it in the parent."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from fixer import parallel
from fixer.parallel import Beside


@pytest.fixture(autouse=True)
def two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIGHTEN_WORKERS", "2")  # a child even on a one-core machine


def test_the_result_comes_from_the_child() -> None:
    parent = os.getpid()
    with Beside(lambda: (os.getpid(), list(range(50_000)))) as beside:
        pid, numbers = beside.result()
    assert pid != parent and numbers == list(range(50_000))  # more than a pipe's buffer


def test_an_error_in_the_child_is_raised_here_as_it_would_be(tmp_path: Path) -> None:
    marker = tmp_path / "calls"

    def compute() -> int:
        with marker.open("a") as out:
            out.write(f"{os.getpid()}\n")
        raise LookupError("no such folder")

    with pytest.raises(LookupError, match="no such folder"), Beside(compute) as beside:
        beside.result()
    callers = marker.read_text().split()
    assert len(callers) == 2 and callers[1] == str(os.getpid())  # the child, then here


def test_an_unpicklable_result_is_computed_here() -> None:
    with Beside(lambda: (os.getpid(), lambda: None)) as beside:
        pid, _ = beside.result()
    assert pid == os.getpid()


def test_without_workers_nothing_is_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIGHTEN_WORKERS", "0")
    with Beside(os.getpid) as beside:
        assert beside.result() == os.getpid()


def test_leaving_early_ends_the_child(tmp_path: Path) -> None:
    done = tmp_path / "done"

    def slow() -> int:
        time.sleep(30)
        done.write_text("finished")
        return 1

    started = time.monotonic()
    with Beside(slow) as beside:
        child = beside._pid
        assert child is not None
    assert time.monotonic() - started < 10 and not done.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(child, 0)  # reaped: no zombie left behind


def test_the_child_leaves_ctrl_c_to_the_parent() -> None:
    def compute() -> int:
        time.sleep(0.5)
        return os.getpid()

    with Beside(compute) as beside:
        child = beside._pid
        assert child is not None
        time.sleep(0.2)
        os.kill(child, signal.SIGINT)  # what the terminal sends every process of the group
        assert beside.result() == child  # the child finished: the parent stops the run


def test_a_ctrl_c_during_the_fork_is_raised_after_it() -> None:
    # Ignored while the child was forked, a Ctrl-C in that moment was lost and the run
    # went on to the end (exit 1 with findings instead of 130).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    reached = False
    try:
        with pytest.raises(KeyboardInterrupt), parallel._forking():
            # raise_signal, not kill(getpid()): it is handled in this thread, so the
            # test does not depend on when another thread of the test process runs.
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.01)
            reached = True
    finally:
        signal.signal(signal.SIGINT, previous)
    assert reached  # held back to the end of the fork, not raised inside it


def test_paths_cross_back_equal_and_whole(tmp_path: Path) -> None:
    # The child sends paths as their parsed parts (``parallel.dumps``): they must come
    # back as the paths they were, usable as keys of the dictionaries they were keys of.
    paths = [tmp_path / "a b" / "Dockerfile", Path("/"), Path("."), Path("rel/x.yaml")]
    with Beside(lambda: (paths, {p: str(p) for p in paths})) as beside:
        back, table = beside.result()
    assert back == paths and [type(p) for p in back] == [type(p) for p in paths]
    assert [str(p) for p in back] == [str(p) for p in paths]
    assert all(table[p] == str(p) for p in paths)  # equal hashes too
    assert [p.parent for p in back] == [p.parent for p in paths]


def test_the_repository_model_crosses_back_unchanged(tmp_path: Path) -> None:
    import dataclasses
    import pickle

    from fixer.repository import RepositoryModel

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.12\nCMD python app.py\n")
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: web\n          image: acme/web:1\n"
    )
    (tmp_path / "Makefile").write_text("build:\n\tdocker build -t acme/web:1 app\n")
    model = RepositoryModel.scan(tmp_path, stamp=False)
    fast = pickle.loads(parallel.dumps(model))
    plain = pickle.loads(pickle.dumps(model))
    for field in dataclasses.fields(model._index):
        if field.name != "yaml_files":  # compared by identity: no equality of its own
            name = field.name
            assert getattr(fast._index, name) == getattr(plain._index, name), name
    assert [b.images for b in fast.build_of(tmp_path / "app" / "Dockerfile")] == [("acme/web",)]
