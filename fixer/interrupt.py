"""Stopping a run between files, never inside one: SIGINT, SIGTERM and a closed stdout.

Fixing a file that moves secrets is two writes (the Secret, then the file the values came
from). A signal that arrives between them must not leave the values nowhere, so while the
pair is written (the *critical section*) a signal is only recorded; the run stops at the
next file boundary. Outside it, the signal stops the run at once (``Interrupted``) so that
Ctrl-C is answered even while the workers are busy. Either way the session prints its
summary of what was really written and exits ``128 + signal number``, as a shell would
report a process the signal killed.

A reader that goes away (``tighten fix . | head -1``) only ends the output: the rest of
it goes to /dev/null, the run finishes, and no traceback is printed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import TextIO

#: The signals deferred during a critical section.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Raised by the handler outside a critical section: unwinds to the session's loop.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass
class Guard:
    """The signal handlers of one run and whether a critical section is under way."""

    received: int | None = None
    _depth: int = 0
    _owner: int = field(default_factory=os.getpid)

    @property
    def exit_code(self) -> int:
        assert self.received is not None
        return 128 + self.received

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """The handlers, for the duration of the block (main thread only: elsewhere
        Python cannot install them and the defaults stay)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        # A signal the process inherited ignored stays ignored (``nohup``, a background job
        # of a non-interactive shell, which ignores SIGINT): as Python itself does for
        # SIGINT at start-up, and as the run did before this block.
        previous = {
            signum: signal.signal(signum, self._handle)
            for signum in SIGNALS
            if signal.getsignal(signum) is not signal.SIG_IGN
        }
        try:
            yield
        finally:
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        """A block a signal must not cut in two."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self._owner:
            # A forked worker inherited this handler: it has nothing to finish, and the
            # parent ends its workers with SIGTERM; behave as if there were no handler.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if self.received is None:
            self.received = signum
        if not self._depth:
            raise Interrupted(signum)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def silence_closed(*streams: TextIO) -> None:
    """Point every stream whose reader went away at /dev/null, so that the buffered output
    still held for it (and Python's flush at exit) fails silently instead of raising."""
    for stream in streams:
        try:
            stream.flush()
        except BrokenPipeError:
            pass
        except (OSError, ValueError):
            continue  # closed by us, or not a pipe problem: leave it alone
        else:
            continue
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
