"""Provisioning Manager's API clients: their file, and passwords checked quickly.

API clients are kept exactly like dashboard accounts (argon2 hashes in a
JSON file, services.ui.accounts) but in a file of their own, so a dashboard
login never opens the API and an API password never opens the dashboard.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.ui import accounts

# PM sends a burst of calls for a synchronisation or a batch of changes;
# argon2 takes a tenth of a second each, so a verified password is trusted
# again for this long without hashing.
CACHE_SECONDS = 60.0

# Entries are added only after a successful verification, so only API
# clients' names take room; the bound is for a file with very many clients.
MAX_CACHED = 64


@dataclass(frozen=True)
class _Verified:
    digest: bytes
    stamp: str
    until: float


class ApiClients:
    """Checks API clients' passwords, remembering recent successes in memory.

    The memory holds a keyed digest of the password, never the password,
    and the key lives only in this process. A client removed or given a new
    password is refused at once: its stamp in the file no longer matches.
    """

    def __init__(
        self,
        path: Path,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.ttl = ttl
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._verified: dict[str, _Verified] = {}

    def verify(self, name: str, password: str) -> bool:
        """Whether ``password`` is the password of API client ``name``."""

        account = accounts.load(self.path).get(name)
        digest = hmac.new(self._key, password.encode(), hashlib.sha256).digest()
        now = self.clock()

        with self._lock:
            cached = self._verified.get(name)

        if (
            account is not None
            and cached is not None
            and cached.until > now
            and cached.stamp == account.stamp
            and hmac.compare_digest(cached.digest, digest)
        ):
            return True

        verified = accounts.authenticate(self.path, name, password)

        if verified is None:
            return False

        with self._lock:
            self._verified.pop(name, None)
            self._verified[name] = _Verified(digest, verified.stamp, now + self.ttl)

            while len(self._verified) > MAX_CACHED:
                del self._verified[next(iter(self._verified))]

        return True
