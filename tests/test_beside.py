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
