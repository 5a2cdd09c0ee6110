"""The run's signal guard keeps a signal the process inherited ignored."""

from __future__ import annotations

import signal

from fixer.interrupt import Guard


def test_an_inherited_ignore_stays_and_other_signals_are_guarded() -> None:
    """`nohup` and a background job of a non-interactive shell start with SIGINT ignored:
    Python keeps ignoring it at start-up, and so does the run's guard (a Ctrl-C meant for
    the foreground job never stops it halfway); SIGTERM is still handled."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        guard = Guard()
        with guard.installed():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) == guard._handle
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with guard.installed():
            assert signal.getsignal(signal.SIGINT) == guard._handle
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)
