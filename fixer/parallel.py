"""Work spread over every core: forked worker processes, answers in the order asked.

Processing a file is pure CPU (parse, detect, fix in memory), so a large run hands chunks
of files to one worker process per core and takes the results back in order; the parent
keeps everything that must happen once and in order: writing, printing and counting. At
most a few chunks are in flight, so memory stays flat in the number of files.

Workers are forked (they inherit the loaded modules, settings and registry answers from
the parent without pickling or importing anything again); where ``fork`` is missing or
unsafe (Windows, macOS), and for small runs, everything runs in this process. The
environment variable ``TIGHTEN_WORKERS`` overrides the choice: ``0`` or ``1`` runs in
process, ``N`` uses N workers even for a small run (the tests compare both paths).
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import os
import pathlib
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # imported when a pool is made: they cost a small run 15 ms
    from concurrent.futures import Future, ProcessPoolExecutor

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

WORKERS_ENV = "TIGHTEN_WORKERS"
#: Below this many files a pool costs more (forking, pickling results) than it saves.
MIN_ITEMS = 40
#: Files per task: enough to make the round trip cheap, few enough to keep both cores busy
#: to the end and the output flowing.
CHUNK = 16
#: Chunks in flight per worker: the next ones are ready when a worker finishes.
AHEAD = 3
#: The garbage collector's thresholds of a run, workers and parent alike (CPython's
#: default: 700, 10, 10).
WORKER_GC = (20_000, 20, 10)


def workers_for(items: int) -> int:
    """How many worker processes a run over ``items`` files uses; 0: none, in process."""
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    if wanted.isdigit():
        count = int(wanted)
        return count if count > 1 and _can_fork() else 0
    cores = _cores()
    return cores if cores > 1 and items > MIN_ITEMS and _can_fork() else 0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _can_fork() -> bool:
    # macOS has fork, but its system libraries are not safe to use in a forked child.
    return sys.platform != "darwin" and hasattr(os, "fork")


def ordered_map(
    work: Callable[[C, list[T]], list[R]],
    items: Sequence[T],
    context: C,
    *,
    workers: int,
    chunk: int = CHUNK,
) -> Generator[R, None, None]:
    """``work(context, chunk)`` over chunks of ``items`` in ``workers`` processes, results
    in order (``work`` returns any number of results per chunk). ``work`` must be a
    module-level function; ``context`` reaches each worker once, when it forks.

    With ``workers`` 0, or when no pool can be made, ``work`` runs here one item at a
    time (each result is handled before the next file is read, as in a plain loop); when
    a worker dies (killed, out of memory) or fails, the rest runs here.
    """
    done = 0  # items whose results were yielded
    pool = _pool(workers, context) if workers > 1 and len(items) > 0 else None
    if pool is not None:
        chunks = [list(items[i : i + chunk]) for i in range(0, len(items), chunk)]
        try:
            for size, results in _in_order(pool, work, chunks, workers * AHEAD):
                yield from results
                done += size
        except Exception:
            # A worker died (BrokenProcessPool), or its results could not be pickled back:
            # the rest runs here, where an error in ``work`` itself shows as it would.
            _kill(pool)
        except BaseException:  # Ctrl-C, or the caller stopped early: stop at once
            _kill(pool)
            raise
        else:
            pool.shutdown()  # the workers are idle: they leave at once
    for item in items[done:]:
        yield from work(context, [item])


def _pool(workers: int, context: object) -> ProcessPoolExecutor | None:
    """A pool of forked workers holding ``context``, or None when none can be made."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        return ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_setup,
            initargs=(os.getpid(), context),
        )
    except (OSError, ValueError, ImportError, NotImplementedError):
        return None  # no semaphores (/dev/shm), too many processes, ...


def _in_order(
    pool: ProcessPoolExecutor,
    work: Callable[[C, list[T]], list[R]],
    chunks: list[list[T]],
    ahead: int,
) -> Iterator[tuple[int, list[R]]]:
    """(chunk size, results) chunk after chunk."""
    queued = iter(chunks)
    pending: deque[tuple[int, Future[list[R]]]] = deque()

    def submit(chunk: list[T]) -> None:
        pending.append((len(chunk), pool.submit(_call, work, chunk)))

    with _forking():  # the workers fork at the first submit
        submit(next(queued))
    for chunk in itertools.islice(queued, ahead - 1):
        submit(chunk)
    while pending:
        size, future = pending.popleft()
        results = future.result()
        following = next(queued, None)
        if following is not None:  # keeps the workers busy while the caller handles these
            submit(following)
        yield size, results


@contextlib.contextmanager
def _forking() -> Iterator[None]:
    """Around a fork: a Ctrl-C is held back (so no child ever sees one; the parent stops
    them) and the standard streams flushed (a forked child flushes its copy of their
    buffers when it ends: output written before the fork would appear again).

    A Ctrl-C that arrives meanwhile is not lost: it is recorded and raised again in this
    process once the fork is done (ignoring it, as before, let a run that was stopped in
    that twentieth of a second go on to the end). A child inherits only the recorder."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # closed, a pipe gone
            stream.flush()
    received: list[int] = []

    def record(signum: int, frame: object) -> None:
        received.append(signum)

    previous = signal.getsignal(signal.SIGINT)
    main = threading.current_thread() is threading.main_thread()
    held = main and previous is not None
    if held:
        signal.signal(signal.SIGINT, record)
    # The workers inherit the parent's objects (modules, settings) and keep them all run:
    # frozen, their garbage collector never walks them again (nor, writing to them,
    # copies the memory pages they share with the parent).
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # in the parent only; the workers stay frozen
        if held:
            signal.signal(signal.SIGINT, previous)
            if received:
                signal.raise_signal(signal.SIGINT)  # handled now, by the run's own handler


#: How long a stopped run lets busy workers finish their chunk before ending them.
GRACE = 5.0


def _kill(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started, let the chunks in flight finish for a moment, then end
    the workers that are still busy."""
    # ProcessPoolExecutor has no public way to stop a busy worker; without this an
    # interrupted run would wait for the chunks in flight. (``shutdown`` forgets them.)
    # Ending a worker while it sends its results can leave the pool's manager thread
    # blocked on the pipe forever, so each gets the grace period first.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + GRACE
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.terminate()
    # The pool's manager thread closes its wake-up pipe as it leaves, and the interpreter's
    # exit hook writes to that pipe unless it is closed already: if the two ran at once,
    # the exit printed a traceback (EBADF; CPython 3.11 checks, then writes, unlocked).
    # Waiting for the thread here, while the workers are gone, leaves the hook nothing to do.
    if isinstance(manager, threading.Thread):
        manager.join(GRACE)


#: In a worker: the ``context`` of the run it serves.
_context: Any = None


def collect_rarely(*, freeze: bool = False) -> None:
    """The run's garbage collector: a file's garbage is freed by reference counting (each
    file's tree when its result is sent; ``tests/test_perf_paths.py`` keeps it free of
    cycles), so the collector has little to find: its young passes run a thirtieth as often
    (about 7% of a check's CPU in a worker). With ``freeze`` (after the imports), what
    exists now (modules, classes, functions: kept all run) is never walked again."""
    if freeze:
        gc.freeze()
    gc.set_threshold(*WORKER_GC)
    gc.enable()


def _worker_setup(parent: int, context: object) -> None:
    global _context
    _context = context
    collect_rarely()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _call(work: Callable[[Any, list[T]], list[R]], chunk: list[T]) -> list[R]:
    return work(_context, chunk)


def _exit_with(parent: int) -> None:
    """A worker outlives a parent that was killed (SIGKILL) waiting for work forever:
    it leaves as soon as it notices it was orphaned."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def dumps(value: object) -> bytes:
    """``value`` pickled for the parent, its paths in the form that loads fastest.

    Python before 3.12 pickles a ``Path`` as its parts and parses them again on loading,
    most of the time the parent spent loading the repository model. Sent as the parts
    already parsed, the model of the corpus loads in 10 ms instead of 24 (0.17-0.24 s
    instead of 0.32 at 29,630 files) and holds its part strings once.
    """
    buffer = io.BytesIO()
    _Pickler(buffer, pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


_FROM_PARTS: Callable[..., Any] | None = None
if sys.version_info < (3, 12):  # 3.12 made paths lazy: its own reduction is as fast
    _FROM_PARTS = getattr(pathlib.PosixPath, "_from_parsed_parts", None)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is pathlib.PosixPath and _FROM_PARTS is not None:
            parts = obj._parts  # type: ignore[attr-defined]
            return _FROM_PARTS, (obj._drv, obj._root, parts)  # type: ignore[attr-defined]
        return NotImplemented


class Beside(Generic[R]):
    """``compute()`` run in a forked child while this process does something else (the
    file walk while the repository scan reads the same tree: two serial steps of every
    run, each a fifth of a second over 3,000 files, on separate cores).

    ``result()`` is what ``compute()`` returns. Where no child can help (one core,
    ``TIGHTEN_WORKERS`` at 0 or 1, no ``fork``) or the child fails in any way (an exception,
    killed, a result that does not pickle), ``compute()`` runs here, so an error shows
    exactly as it would without the child. Use it as a context manager: leaving the block
    early ends the child."""

    def __init__(self, compute: Callable[[], R]) -> None:
        self._compute = compute
        self._pid: int | None = None
        self._read: int | None = None
        if workers_for(MIN_ITEMS + 1) > 1:
            self._start()

    def _start(self) -> None:
        read, write = os.pipe()
        try:
            with _forking():  # a Ctrl-C meanwhile is raised at its end, the child known
                try:
                    pid = os.fork()
                except OSError:
                    os.close(read)
                    os.close(write)
                    return
                if pid == 0:
                    self._child(read, write)  # never returns
                self._pid, self._read = pid, read
                os.close(write)
        except BaseException:  # stopped at once (Ctrl-C): no child outlives the run
            self.__exit__()
            raise

    def _child(self, read: int, write: int) -> None:
        """Compute, send, leave without running any exit handler. A Ctrl-C is the
        parent's to answer: it ends this child when it leaves early."""
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.close(read)
            payload = dumps(self._compute())
            with os.fdopen(write, "wb") as out:
                out.write(payload)
            status = 0
        except BaseException:  # the parent computes it again and shows the error
            pass
        finally:
            os._exit(status)

    def result(self) -> R:
        if self._pid is None or self._read is None:
            return self._compute()
        read, self._read = self._read, None
        try:
            with os.fdopen(read, "rb") as source:
                data = source.read()
            _, status = os.waitpid(self._pid, 0)
            self._pid = None  # reaped: nothing is left for __exit__
            if status == 0:
                return pickle.loads(data)  # type: ignore[no-any-return]
        except Exception:  # a failed child makes a slower run, not an error
            pass
        return self._compute()

    def __enter__(self) -> Beside[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pid is not None:  # left before the child was reaped (Ctrl-C, an error)
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
        if self._read is not None:
            with contextlib.suppress(OSError):
                os.close(self._read)
        self._pid = self._read = None
