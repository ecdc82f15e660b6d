"""Refusing logins for a while after repeated failures."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

LIMIT = 5
WINDOW = 300.0

# Failures are kept per key; an attacker inventing usernames must not be able
# to grow this without bound.
MAX_KEYS = 10_000


class LoginThrottle:
    """Counts failed logins per key (a username, a client address).

    Once a key has ``limit`` failures within ``window`` seconds, logins for it
    are refused until the oldest of those failures is ``window`` seconds old.

    The counts live in one process. gunicorn runs CLD_UI_WORKERS workers, each
    with its own throttle, so the real limit is ``limit`` failures per worker:
    5 times CLD_UI_WORKERS in five minutes. Sharing the counts would need a store
    that the ui, which keeps nothing durable, does not have.
    """

    def __init__(
        self,
        limit: int = LIMIT,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until a login for ``keys`` is accepted again; 0 if it is now."""

        now = self.clock()
        wait = 0.0

        with self._lock:
            for key in keys:
                failures = self._recent(key, now)

                if len(failures) >= self.limit:
                    wait = max(wait, failures[0] + self.window - now)

        return wait

    def failed(self, keys: Iterable[str]) -> None:
        """Counts one failed login against each of ``keys``."""

        now = self.clock()

        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                failures.append(now)

                # Re-inserting keeps the dict ordered by last failure, so the
                # keys dropped when it is full are the ones idle the longest.
                self._failures.pop(key, None)
                self._failures[key] = failures

            while len(self._failures) > self.max_keys:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, key: str) -> None:
        """Forgets the failures of ``key`` after a successful login."""

        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque(maxlen=self.limit))

        while failures and failures[0] <= now - self.window:
            failures.popleft()

        if not failures:
            self._failures.pop(key, None)

        return failures
