"""An append-only file of JSON lines, flushed to disk in batches."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Each line costs a write; each batch an fsync. A crash loses at most the
# lines of one batch, and what they recorded is redone idempotently.
BATCH = 100


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The records of the journal at ``path``; a torn last line is dropped."""

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []

    records = []

    for line in raw.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break

        try:
            record = json.loads(line)
        except ValueError:
            log.warning("Skipped an unreadable line of %s", path)
            continue

        if isinstance(record, dict):
            records.append(record)

    return records


class Journal:
    """Appends records to ``path``, after cutting a torn last line off it."""

    def __init__(self, path: Path, batch: int = BATCH) -> None:
        self.path = path
        self.batch = batch
        self._lock = threading.Lock()
        self._unsynced = 0
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)

        # Lines appended after a torn one would be glued to it.
        size = os.fstat(self._fd).st_size

        if size:
            data = path.read_bytes()
            end = data.rfind(b"\n") + 1

            if end != size:
                os.ftruncate(self._fd, end)

    def append(self, record: dict[str, Any]) -> None:
        """Adds ``record``; it is on disk once the batch fills or on flush()."""

        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"

        with self._lock:
            os.write(self._fd, line)
            self._unsynced += 1

            if self._unsynced >= self.batch:
                os.fsync(self._fd)
                self._unsynced = 0

    def flush(self) -> None:
        """Puts every appended record on disk."""

        with self._lock:
            if self._unsynced:
                os.fsync(self._fd)
                self._unsynced = 0

    def close(self) -> None:
        """Flushes and closes the file."""

        self.flush()

        with self._lock:
            os.close(self._fd)
