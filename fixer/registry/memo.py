"""A thread-safe compute-once cache: concurrent callers of one key wait for one computation.

This is what makes N concurrent look-ups of one repository cost one token request and one
tag listing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _always(_value: object) -> bool:
    return True


class Memo(Generic[K, V]):
    """`get(key, compute)` runs `compute` at most once per key at a time; a value that is
    no longer `fresh` is computed again. Exceptions are not cached."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[K, threading.Lock] = {}
        self._values: dict[K, V] = {}

    def get(self, key: K, compute: Callable[[], V], fresh: Callable[[V], bool] = _always) -> V:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
            if key in self._values and fresh(self._values[key]):
                return self._values[key]
        with lock:
            with self._guard:
                if key in self._values and fresh(self._values[key]):
                    return self._values[key]
            value = compute()
            with self._guard:
                self._values[key] = value
            return value

    def peek(self, key: K) -> V | None:
        with self._guard:
            return self._values.get(key)

    def put(self, key: K, value: V) -> None:
        with self._guard:
            self._values[key] = value

    def discard(self, key: K, value: V) -> None:
        """Forget `key` only if it still holds `value` (another thread may have renewed it)."""
        with self._guard:
            if self._values.get(key) is value:
                del self._values[key]
