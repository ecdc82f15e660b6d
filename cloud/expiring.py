"""Short-lived server-side records: authorization codes, pending sign-ins."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

Clock = Callable[[], float]


class ExpiringMap(Generic[T]):
    """Values kept under random keys for ``ttl`` seconds, safe across threads.

    They live in memory only: a restart forgets them, which is the same as
    their expiring early.
    """

    def __init__(self, ttl: float, clock: Clock = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, T]] = {}

    def add(self, value: T) -> str:
        """Stores ``value`` under a new unguessable key, which is returned."""

        key = secrets.token_urlsafe(32)
        self.put(key, value)
        return key

    def put(self, key: str, value: T) -> None:
        """Stores ``value`` under ``key`` for the next ``ttl`` seconds."""

        now = self.clock()

        with self._lock:
            self._purge(now)
            self._items[key] = (now + self.ttl, value)

    def get(self, key: str) -> T | None:
        """The value under ``key``, unless it expired."""

        with self._lock:
            return self._live(key, pop=False)

    def take(self, key: str) -> T | None:
        """Removes and returns the value under ``key``, unless it expired."""

        with self._lock:
            return self._live(key, pop=True)

    def discard(self, key: str) -> None:
        """Forgets ``key``."""

        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            self._purge(self.clock())
            return len(self._items)

    def _live(self, key: str, pop: bool) -> T | None:
        entry = self._items.pop(key, None) if pop else self._items.get(key)

        if entry is None:
            return None

        expires, value = entry

        if self.clock() >= expires:
            self._items.pop(key, None)
            return None

        return value

    def _purge(self, now: float) -> None:
        expired = [key for key, (expires, _) in self._items.items() if now >= expires]

        for key in expired:
            del self._items[key]
