"""The access log: who reached which tunnel, when, with how many bytes."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace


@dataclass
class AccessEntry:
    """One visitor connection through a tunnel."""

    component: str
    name: str
    user_id: str
    account_id: str
    visitor_address: str
    opened_at: float = field(default_factory=time.time)
    bytes_in: int = 0
    bytes_out: int = 0
    status: str = "open"
    duration: float = 0.0


class AccessLog:
    """The latest ``size`` visitor connections; older ones fall off."""

    def __init__(self, size: int) -> None:
        self._entries: deque[AccessEntry] = deque(maxlen=max(1, size))
        self._lock = threading.Lock()

    def add(self, entry: AccessEntry) -> AccessEntry:
        """Records a new connection; the entry is updated as it goes."""

        with self._lock:
            self._entries.append(entry)

        return entry

    def latest(self, limit: int = 0) -> list[AccessEntry]:
        """Copies of the entries, newest first."""

        with self._lock:
            entries = [replace(e) for e in reversed(self._entries)]

        return entries[:limit] if limit else entries
